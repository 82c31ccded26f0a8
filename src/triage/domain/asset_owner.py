"""Asset owners: the Meter Asset Providers and energy suppliers the devices belong to.

An asset owner is a party outside the facility. Its id is the name consignments give it (their
``asset_owner``), so a consignment, its devices and their dispatches all name the same party.
It signs what it sends back (a dispatch acknowledgement) with its own key: the facility keeps
only the verifier key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from triage.errors import InvalidInput, NotFound
from triage.ledger import note
from triage.ledger.errors import VerificationError

MAX_ID = 100
# Printable, no leading or trailing space, no control characters (the id appears in URLs,
# file names and ledger entries).
_ID = re.compile(r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]{0,98}[^\s\x00-\x1f\x7f])?$")


@dataclass(frozen=True)
class AssetOwner:
    """A party that owns devices: who, how to reach it, and the key it signs with."""

    id: str
    name: str
    contact: str
    verifier_key: str | None
    registered_at: datetime
    active: bool = True

    def __post_init__(self) -> None:
        check_owner_id(self.id)
        check_text(self.name, "name", 200)
        check_text(self.contact, "contact", 500, optional=True)
        if self.verifier_key is not None:
            check_verifier_key(self.verifier_key)


def check_owner_id(owner_id: str) -> str:
    """An asset owner id: 1-100 printable characters, no surrounding space."""
    if not isinstance(owner_id, str) or not _ID.match(owner_id):
        raise InvalidInput(
            "asset_owner: 1-100 printable characters without leading or trailing space",
            field="asset_owner",
        )
    return owner_id


def sought_owner(owner_id: str) -> str:
    """An asset owner id about to be looked up: NotFound for one no owner can have."""
    try:
        return check_owner_id(owner_id)
    except InvalidInput:
        raise NotFound(f"no asset owner {owner_id[:100]!r}") from None


def check_text(value: str, field: str, limit: int, optional: bool = False) -> str:
    """One line of text, ``limit`` characters at most (empty only when ``optional``)."""
    text = value.strip()
    if (not text and not optional) or len(text) > limit or any(ord(c) < 32 for c in text):
        need = f"at most {limit}" if optional else f"1-{limit}"
        raise InvalidInput(f"{field}: {need} characters on one line", field=field)
    return text


def check_verifier_key(vkey: str) -> str:
    """A C2SP verifier key (name+hash+base64 of an Ed25519 public key)."""
    try:
        note.parse_verifier_key(vkey.strip())
    except (VerificationError, ValueError) as exc:
        raise InvalidInput(
            f"verifier_key: not a C2SP Ed25519 verifier key ({exc})", field="verifier_key"
        ) from None
    return vkey.strip()
