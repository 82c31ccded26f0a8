"""The witness's decision on an add-checkpoint request (C2SP tlog-witness), check by check.

In the spec's order: a malformed request is 400; an origin the witness does not follow, 404; a
checkpoint without a valid signature by the log's key (or with a failing one by it), 403; an
old size above the checkpoint's, 400; an old size that is not the size it last cosigned (zero
if none), 409 with that size; a size-0 checkpoint whose root is not the empty tree's, a proof
from size 0, a consistency proof that does not verify or another root at the same size, 422.
Otherwise the new state is stored and the cosignature returned, in one transaction that holds
the database's writer lock from the read of the stored size to the commit: two requests racing
from the same old size cannot both be cosigned. Refusals of a checkpoint the log did sign are
kept as evidence (a rollback, a fork or a rewritten history is the log misbehaving).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, parse_checkpoint
from triage.ledger.cosignature import MAX_TIMESTAMP, cosign
from triage.ledger.errors import VerificationError
from triage.ledger.rfc6962 import EMPTY_ROOT, verify_consistency
from triage.ledger.witness_protocol import (
    MAX_BODY_BYTES,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    ProtocolError,
    format_size_body,
    origin_hash,
    parse_add_checkpoint,
)
from triage.witness.errors import WitnessConfigError
from triage.witness.keys import WitnessKey
from triage.witness.store import Cosigned, Refusal, WitnessStore

MAX_REQUEST_BYTES = MAX_BODY_BYTES
"""The largest add-checkpoint body accepted, 64 KiB (a checkpoint, its signatures and 63 proof
hashes take a few)."""

TEXT = "text/plain; charset=utf-8"
_SIGNATURE_PREFIX = "— "


@dataclass(frozen=True)
class Answer:
    """What the witness answers: an HTTP status, a body and its content type."""

    status: int
    body: bytes
    content_type: str = TEXT


@dataclass(frozen=True)
class _Refused:
    """A refusal: the answer sent, and the reason recorded (the 409 body is only a size)."""

    answer: Answer
    reason: str


def _refused(status: int, reason: str) -> _Refused:
    return _Refused(Answer(status, f"{reason}\n".encode()), reason)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Witness:
    """Cosigns checkpoints of the logs it follows, each only if consistent with the last."""

    def __init__(
        self, key: WitnessKey, store: WitnessStore, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = key
        self._store = store
        self._clock = clock

    def describe(self) -> str:
        """One line saying what this is and by which key its cosignatures are known."""
        return (
            f"triage witness {self.key.name}: a C2SP tlog-witness; POST /add-checkpoint, "
            f"GET /<origin hash>/checkpoint; cosigner key {self.key.vkey}\n"
        )

    def add_checkpoint(self, body: bytes) -> Answer:
        """Decide on an add-checkpoint request body; a 200 answer carries the cosignature line."""
        try:
            request = parse_add_checkpoint(body)
        except ProtocolError as exc:
            return _refused(400, f"malformed add-checkpoint request: {exc}").answer
        text = _note_text(request.checkpoint)
        if text is None:
            return _refused(
                400, "malformed checkpoint: no blank line between the body and its signatures"
            ).answer
        try:
            checkpoint = parse_checkpoint(text)
        except VerificationError as exc:
            return _refused(400, str(exc)).answer

        with self._store.transaction() as tx:
            keys = tx.log_keys(checkpoint.origin)
            if not keys:
                return _refused(
                    404, f"unknown log: this witness does not follow origin {checkpoint.origin!r}"
                ).answer
            try:
                note.verify(request.checkpoint, keys)
            except VerificationError as exc:
                return _refused(
                    403, f"checkpoint of {checkpoint.origin!r} not signed by its log: {exc}"
                ).answer
            # The log signed it: from here on a refusal is evidence about the log.
            stored = tx.latest(checkpoint.origin)
            refused = _consistency(request, checkpoint, stored)
            if refused is not None:
                now = datetime.fromtimestamp(self._clock(), UTC)
                tx.refuse(
                    Refusal(now, checkpoint.origin, refused.answer.status, refused.reason, body)
                )
                return refused.answer
            timestamp = min(max(1, int(self._clock())), MAX_TIMESTAMP)
            line = cosign(text, self.key.signer_key, timestamp)
            if stored is None or stored.size != checkpoint.size:
                tx.save(
                    Cosigned(
                        origin=checkpoint.origin,
                        origin_hash=origin_hash(checkpoint.origin),
                        size=checkpoint.size,
                        root=checkpoint.root_hash,
                        note=_with_log_signatures(request.checkpoint, text, keys),
                        cosignature=line,
                        cosigned_at=timestamp,
                    )
                )
        return Answer(200, line.encode())

    def checkpoint(self, hashed_origin: str) -> str | None:
        """The latest checkpoint cosigned for the log whose origin has this SHA-256 (lowercase
        hex), with the log's signatures and the cosignature; None if there is none."""
        if len(hashed_origin) != 64 or any(c not in "0123456789abcdef" for c in hashed_origin):
            return None
        latest = self._store.latest_by_hash(hashed_origin)
        return None if latest is None else latest.served_note


def _consistency(
    request: AddCheckpoint, checkpoint: Checkpoint, stored: Cosigned | None
) -> _Refused | None:
    """The refusal the spec requires of a signed checkpoint, or None when it may be cosigned."""
    old, size = request.old_size, checkpoint.size
    cosigned_size = 0 if stored is None else stored.size
    if old > size:
        return _refused(
            400,
            f"old size {old} is larger than the checkpoint's size {size}"
            + _conflict(checkpoint, stored),
        )
    if old != cosigned_size:
        reason = f"old size {old} is not the latest cosigned size {cosigned_size}"
        return _Refused(
            Answer(409, format_size_body(cosigned_size), SIZE_CONTENT_TYPE),
            reason + _conflict(checkpoint, stored),
        )
    if size == 0 and checkpoint.root_hash != EMPTY_ROOT:
        return _refused(
            422,
            f"a checkpoint of size 0 must have the empty tree's root {_b64(EMPTY_ROOT)}, "
            f"not {_b64(checkpoint.root_hash)}",
        )
    if old == 0:
        if request.proof:
            return _refused(
                422,
                f"a proof from size 0 must be empty (the empty tree is consistent with every "
                f"tree), not {len(request.proof)} hash(es)",
            )
        return None
    assert stored is not None  # old == cosigned_size > 0
    if size == old and checkpoint.root_hash != stored.root:
        return _refused(422, _conflict(checkpoint, stored).lstrip("; "))
    try:
        verify_consistency(old, size, request.proof, stored.root, checkpoint.root_hash)
    except VerificationError as exc:
        return _refused(
            422,
            f"the consistency proof from the cosigned size {old} (root {_b64(stored.root)}) to "
            f"size {size} (root {_b64(checkpoint.root_hash)}) does not verify: {exc}",
        )
    return None


def _conflict(checkpoint: Checkpoint, stored: Cosigned | None) -> str:
    """Say how a signed checkpoint contradicts what was cosigned (rollback, fork), if it does."""
    if stored is None:
        return ""
    if checkpoint.size < stored.size:
        return (
            f"; ROLLBACK: the log signed size {checkpoint.size}, smaller than the size "
            f"{stored.size} this witness cosigned"
        )
    if checkpoint.size == stored.size and checkpoint.root_hash != stored.root:
        return (
            f"; FORK: the log signed root {_b64(checkpoint.root_hash)} at size "
            f"{checkpoint.size}, where this witness cosigned root {_b64(stored.root)}"
        )
    return ""


def _note_text(signed_note: str) -> str | None:
    """The body of a signed note (up to and including the newline before the blank line)."""
    split = signed_note.rfind("\n\n")
    return None if split < 0 else signed_note[: split + 1]


def _with_log_signatures(signed_note: str, text: str, log_keys: Sequence[str]) -> str:
    """The note with only the signature lines by the log's keys (the first of each, which is
    the one ``note.verify`` checked): the witness serves what it verified, nothing else."""
    wanted = set()
    for vkey in log_keys:
        verifier = note.parse_verifier_key(vkey)
        wanted.add((verifier.name, verifier.key_hash))
    kept: list[str] = []
    for line in signed_note[len(text) + 1 :].splitlines():
        name, _, blob = line.removeprefix(_SIGNATURE_PREFIX).partition(" ")
        key_hash = int.from_bytes(base64.b64decode(blob)[:4], "big")
        if (name, key_hash) in wanted:
            wanted.discard((name, key_hash))
            kept.append(f"{line}\n")
    return f"{text}\n{''.join(kept)}"


MAX_ORIGIN_LENGTH = 1024
"""An origin line longer than this is refused (the witness's inputs are bounded)."""


def follow_log(store: WitnessStore, origin: str, vkey: str, now: datetime) -> bool:
    """Trust the log verifier key ``vkey`` (C2SP signed-note, Ed25519 type 0x01) for the log
    ``origin``; False if it already was. A second key for an origin is trusted beside the
    first (a log rotating its key)."""
    problem = _origin_problem(origin)
    if problem is not None:
        raise WitnessConfigError(f"origin {origin!r} {problem}")
    try:
        note.parse_verifier_key(vkey)
    except VerificationError as exc:
        raise WitnessConfigError(f"log verifier key: {exc}") from None
    return store.add_log(origin, vkey, now)


def forget_log(store: WitnessStore, origin: str) -> int:
    """Stop cosigning for ``origin``; its cosigned state and refusals are kept, so that
    following it again resumes from what was seen. The number of keys removed."""
    removed = store.remove_log(origin)
    if not removed:
        raise WitnessConfigError(
            f"this witness does not follow origin {origin!r} (see `triage witness log list`)"
        )
    return removed


def _origin_problem(origin: str) -> str | None:
    """What is wrong with ``origin`` as a checkpoint's origin line, or None."""
    if not origin:
        return "is empty"
    if len(origin) > MAX_ORIGIN_LENGTH:
        return f"is longer than {MAX_ORIGIN_LENGTH} characters"
    for index, char in enumerate(origin):
        if char < " " or char == "\x7f":
            return f"has control character U+{ord(char):04X} at character {index}"
    try:
        origin.encode("utf-8")
    except UnicodeEncodeError:
        return "is not encodable as UTF-8"
    return None
