"""API tokens: scoped to a role's permissions or less, expiring, revocable.

A token is minted only by its own operator, from a sign-in that passed the second factor (a
session) or from a token minted so; it never outlives the token that minted it nor the
facility's maximum, and never has wider scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.domain.caller import Credential
from triage.domain.roles import Permission, Role, permissions
from triage.errors import InvalidInput
from triage.ledger.entry import format_time

DEFAULT_DAYS = 90
MAX_DAYS = 365  # the ceiling of every facility's own maximum (Settings.token_max_days)
# What an auditor's read-only token (or anyone's) may be limited to: reading and verifying
# (for a person of an asset owner, reading its own devices).
READ_ONLY = frozenset(
    {
        Permission.TRIAGE_READ,
        Permission.OWNER_READ,
        Permission.HISTORY_READ,
        Permission.LEDGER_READ,
        Permission.RECEIPT_ISSUE,
        Permission.ACCESS_REVIEW,
    }
)


@dataclass(frozen=True)
class StoredToken:
    """What is kept about a token: never its secret."""

    id: str
    operator_id: str
    label: str
    created_at: datetime
    scopes: frozenset[Permission] | None  # None: everything the operator's roles allow
    expires_at: datetime
    revoked_at: datetime | None = None
    bench: str | None = None

    def state(self, now: datetime) -> str:
        """'revoked', 'expired' or 'active'."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active"


def parse_scopes(values: Iterable[str]) -> frozenset[Permission] | None:
    """Scopes from their names ('read-only' for the read-only set); empty means none asked."""
    scopes: set[Permission] = set()
    for value in values:
        name = value.strip().lower()
        if not name:
            continue
        if name in ("read-only", "readonly", "read_only"):
            scopes |= READ_ONLY
            continue
        try:
            scopes.add(Permission(name))
        except ValueError:
            valid = ", ".join(["read-only", *(p.value for p in Permission)])
            raise InvalidInput(f"scope {value!r} is not one of: {valid}", field="scopes") from None
    return frozenset(scopes) or None


def check_scopes(scopes: frozenset[Permission] | None, roles: frozenset[Role]) -> None:
    """A token may not be scoped beyond what its operator's roles allow."""
    if scopes is None:
        return
    beyond = scopes - permissions(roles)
    if beyond:
        names = ", ".join(sorted(p.value for p in beyond))
        raise InvalidInput(f"scopes: the operator's roles do not allow {names}", field="scopes")


def expiry(
    issued: datetime,
    days: int | None,
    max_days: int = MAX_DAYS,
    minted_by: Credential | None = None,
) -> datetime:
    """When a token issued at ``issued`` for ``days`` days expires.

    Never beyond the facility's ``max_days``, nor beyond the token it is ``minted_by``: asking
    for longer is refused (InvalidInput naming the limit). ``days`` None: DEFAULT_DAYS, or as
    long as those limits allow if that is less.
    """
    not_after = None if minted_by is None else minted_by.expires_at
    if days is None:
        expires = issued + timedelta(days=min(DEFAULT_DAYS, max_days))
        return expires if not_after is None else min(expires, not_after)
    most = f"a token here lasts 1 to {max_days} days (the facility's maximum), not {days}"
    if days < 1:
        raise InvalidInput(f"days: {most}", field="days")
    expires = issued + timedelta(days=days)
    if not_after is not None and expires > not_after:
        # The nearer limit is named: the minting token's expiry is never beyond the maximum.
        assert minted_by is not None
        whole = (not_after - issued) // timedelta(days=1)
        until = "leave days out for a token until then"
        fits = f"ask for {whole} day(s) or fewer, or {until}" if whole else until
        raise InvalidInput(
            f"days: a token cannot outlive token {minted_by.id} that mints it, which expires at "
            f"{format_time(not_after)}; {fits}",
            field="days",
        )
    if days > max_days:
        raise InvalidInput(f"days: {most}", field="days")
    return expires


def minted_by_json(credential: Credential) -> dict[str, str]:
    """How a token's ledger entry names what minted it (never a secret nor a session's hash)."""
    if credential.kind == "token":
        return {"kind": "token", "token_id": credential.id}
    return {"kind": "session", "signed_in_at": credential.id}
