"""Receipts: a subject's entries with their inclusion proofs and the signed checkpoint they prove
against, in one offline JSON bundle that anyone with the facility's verifier key can check.

A receipt whose checkpoint carries witness cosignatures can also be checked against a witness
policy (C2SP tlog-policy, :mod:`triage.ledger.policy`): with a quorum of valid cosignatures the
reader needs no checkpoint of their own to know the log showed them the history it shows
everyone."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from triage.ledger.bounded import InputLimitError, load_json
from triage.ledger.checkpoint import Checkpoint, open_checkpoint
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import VerificationError
from triage.ledger.log import Log, StoredCheckpoint
from triage.ledger.policy import Policy, verify_checkpoint
from triage.ledger.rfc6962 import leaf_hash, verify_inclusion

RECEIPT_FORMAT = "device-triage/receipt/v1"
MAX_RECEIPT_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a receipt proves: these entries are in the log whose signed checkpoint is given."""

    origin: str
    checkpoint: Checkpoint
    subject: Ref
    entries: list[tuple[int, Entry]]
    witnesses: tuple[str, ...] = ()  # the policy witnesses that cosigned its checkpoint


def build_receipt(
    log: Log, origin: str, subject: Ref, indexes: Sequence[int], checkpoint: StoredCheckpoint
) -> str:
    """The receipt for ``subject``'s entries at ``indexes``, proven against ``checkpoint``."""
    if indexes and max(indexes) >= checkpoint.size:
        raise ValueError(
            f"checkpoint of size {checkpoint.size} does not cover entry {max(indexes)}"
        )
    items = [
        {
            "index": index,
            "entry": log.entry(index).decode("utf-8"),
            "proof": [_b64(h) for h in log.inclusion_proof(index, checkpoint.size)],
        }
        for index in sorted(set(indexes))
    ]
    receipt = {
        "format": RECEIPT_FORMAT,
        "origin": origin,
        "subject": subject.to_json(),
        "checkpoint": checkpoint.note,
        "entries": items,
    }
    return json.dumps(receipt, indent=1, sort_keys=True) + "\n"


def verify_receipt(
    data: str | bytes, verifier_keys: Sequence[str], policy: Policy | None = None
) -> VerifiedReceipt:
    """Check every entry's inclusion proof against the signed checkpoint; VerificationError if
    anything fails, naming the entry.

    With a ``policy``, the checkpoint must also be cosigned by its quorum of witnesses (every
    cosignature by one of its witnesses valid); the log's key is then one of
    ``verifier_keys`` or, when none is given, of the policy's log lines.
    """
    try:
        obj = load_json(data, "receipt", max_bytes=MAX_RECEIPT_BYTES)
    except InputLimitError as exc:
        raise VerificationError(str(exc)) from None
    if not isinstance(obj, dict) or obj.get("format") != RECEIPT_FORMAT:
        raise VerificationError(f"not a receipt in the format {RECEIPT_FORMAT}")
    origin = _text(obj, "origin")
    subject_obj = obj.get("subject")
    if not isinstance(subject_obj, dict):
        raise VerificationError("receipt subject is missing")
    subject = Ref(_text(subject_obj, "kind"), _text(subject_obj, "id"))
    witnesses: tuple[str, ...] = ()
    if policy is None:
        checkpoint = open_checkpoint(_text(obj, "checkpoint"), verifier_keys, origin)
    else:
        witnessed = verify_checkpoint(
            _text(obj, "checkpoint"), policy, origin, list(verifier_keys) or None
        )
        checkpoint, witnesses = witnessed.checkpoint, witnessed.witnesses
    items = obj.get("entries")
    if not isinstance(items, list) or not items or len(items) > MAX_ENTRIES:
        raise VerificationError("receipt has no entries (or too many)")
    proven: list[tuple[int, Entry]] = []
    previous = -1
    for position, item in enumerate(items):
        index, entry_text, proof = _item(item, position)
        if index <= previous:
            raise VerificationError(f"receipt entries are not in increasing index order at {index}")
        previous = index
        entry_bytes = entry_text.encode("utf-8")
        try:
            verify_inclusion(
                leaf_hash(entry_bytes), index, checkpoint.size, proof, checkpoint.root_hash
            )
        except VerificationError as exc:
            raise VerificationError(f"entry {index} is not proven in the log: {exc}") from exc
        try:
            entry = Entry.from_bytes(entry_bytes)
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: {exc}") from exc
        if entry.subject != subject:
            raise VerificationError(
                f"entry {index} is about {entry.subject.kind} {entry.subject.id}, "
                f"not {subject.kind} {subject.id}"
            )
        proven.append((index, entry))
    return VerifiedReceipt(origin, checkpoint, subject, proven, witnesses)


# How `triage verify` labels the receipt digest in its output, and how a certificate names the
# line the reader compares with the one under its QR code.
DIGEST_LABEL = "digest:"


def receipt_digest(data: str | bytes, verified: VerifiedReceipt) -> str:
    """A compact line a QR code can carry: subject, checkpoint size and root, receipt hash."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    digest = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    root = base64.urlsafe_b64encode(verified.checkpoint.root_hash).decode().rstrip("=")
    return (
        f"DTR1 {verified.origin} {verified.subject.kind}:{verified.subject.id} "
        f"{verified.checkpoint.size} {root} {digest}"
    )


def _item(item: object, position: int) -> tuple[int, str, list[bytes]]:
    if not isinstance(item, dict):
        raise VerificationError(f"receipt entry {position} is not an object")
    index = item.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise VerificationError(f"receipt entry {position} has no valid index")
    text = item.get("entry")
    if not isinstance(text, str):
        raise VerificationError(f"receipt entry {index} has no entry text")
    proof_raw = item.get("proof")
    if not isinstance(proof_raw, list) or not all(isinstance(h, str) for h in proof_raw):
        raise VerificationError(f"receipt entry {index} has no proof")
    try:
        proof = [base64.b64decode(h, validate=True) for h in proof_raw]
    except ValueError as exc:
        raise VerificationError(f"receipt entry {index}: proof is not base64") from exc
    return index, text, proof


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise VerificationError(f"receipt {name} is missing")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
