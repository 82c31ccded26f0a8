"""Ledger exports: the whole log in one file that anyone with the verifier key checks offline.

An export is UTF-8 text, one JSON value a line (JSON Lines):

- line 1, the header: ``{"format": "device-triage/ledger-export/v1", "origin": ..., "size": N,
  "checkpoint": "<signed checkpoint note of size N>"}``;
- lines 2 to N+1: entries 0 to N-1, each exactly the bytes the ledger hashed (RFC 8785 canonical
  JSON, which never holds a raw line break), in index order.

Verifying one recomputes the Merkle tree from the entries as they stream past (memory is
O(log N) hashes, whatever the size) and checks that its root is the root the facility signed,
that every entry is a well-formed entry in canonical form, and that the tree passes through
every checkpoint the verifier kept from earlier visits: a log that was rewritten, truncated or
forked since then cannot pass. Nothing from the facility's database or servers is trusted.

With a witness policy (C2SP tlog-policy), the header's checkpoint must also carry a quorum of
witness cosignatures: then a verifier who kept nothing still knows the facility shows this
history to everyone the witnesses vouch to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from triage.ledger.bounded import InputLimitError, load_json
from triage.ledger.checkpoint import Checkpoint, open_checkpoint
from triage.ledger.entry import Entry
from triage.ledger.errors import VerificationError
from triage.ledger.policy import Policy, verify_checkpoint
from triage.ledger.rfc6962 import leaf_hash
from triage.ledger.tiles import TileAppender

EXPORT_FORMAT = "device-triage/ledger-export/v1"
MAX_HEADER_BYTES = 64 * 1024
# A line longer than this is no entry of ours (the largest, a tamper policy's text, is ~100 KiB).
MAX_ENTRY_BYTES = 4 * 1024 * 1024
BATCH = 4096


def export_header(origin: str, checkpoint_note: str, size: int) -> bytes:
    """The first line of an export of ``size`` entries proven by ``checkpoint_note``."""
    header = {
        "format": EXPORT_FORMAT,
        "origin": origin,
        "size": size,
        "checkpoint": checkpoint_note,
    }
    return json.dumps(header, sort_keys=True).encode("utf-8") + b"\n"


def export_lines(
    origin: str, checkpoint_note: str, size: int, entries: Iterable[bytes]
) -> Iterable[bytes]:
    """The export's lines: its header, then each of ``entries`` (exactly ``size`` of them)."""
    yield export_header(origin, checkpoint_note, size)
    written = 0
    for data in entries:
        if b"\n" in data or b"\r" in data:
            raise ValueError(f"entry {written} holds a line break: it cannot be exported")
        yield data + b"\n"
        written += 1
    if written != size:
        raise ValueError(f"the log gave {written} entries for an export of {size}")


@dataclass(frozen=True)
class VerifiedExport:
    """What an export proves: these entries are the whole log up to the signed checkpoint."""

    origin: str
    checkpoint: Checkpoint
    first_at: datetime | None
    last_at: datetime | None
    types: dict[str, int]
    held: list[int] = field(default_factory=list)  # sizes of the verifier's own checkpoints
    witnesses: tuple[str, ...] = ()  # the policy witnesses that cosigned the checkpoint


def verify_export(
    stream: IO[bytes],
    verifier_keys: Sequence[str],
    held_checkpoints: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    policy: Policy | None = None,
) -> VerifiedExport:
    """Check an export line by line; VerificationError naming the first thing that is wrong.

    ``held_checkpoints`` are signed checkpoints the verifier kept from before: the export must
    pass through each one (same root at its size). ``progress`` is told how many entries each
    batch checked. With a ``policy``, the header's checkpoint must be cosigned by its quorum of
    witnesses; the log's key is then one of ``verifier_keys`` or, when none is given, of the
    policy's log lines (which then also check the kept checkpoints).
    """
    origin, note, size = _header(stream.readline(MAX_HEADER_BYTES + 1))
    witnesses: tuple[str, ...] = ()
    if policy is None:
        checkpoint = open_checkpoint(note, verifier_keys, origin)
    else:
        witnessed = verify_checkpoint(note, policy, origin, list(verifier_keys) or None)
        checkpoint, witnesses = witnessed.checkpoint, witnessed.witnesses
        if not verifier_keys:
            verifier_keys = [log.vkey for log in policy.logs if log.origin == origin]
    if checkpoint.size != size:
        raise VerificationError(
            f"the header says {size} entries but its checkpoint is of size {checkpoint.size}"
        )
    held = sorted(
        (_kept(n, note, verifier_keys, origin) for n, note in enumerate(held_checkpoints, 1)),
        key=lambda cp: cp.size,
    )
    for cp in held:
        if cp.size > checkpoint.size:
            raise VerificationError(
                f"your checkpoint at size {cp.size} is beyond this export (size "
                f"{checkpoint.size}): ask the facility for a newer export"
            )
    # The tiles' appender is the running tree: its right edge (under 256 hashes a level) gives
    # the root at any size; full tiles are dropped as they complete.
    tree = TileAppender(0, {})
    stops = sorted({cp.size for cp in held if cp.size > 0} | {checkpoint.size})
    types: dict[str, int] = {}
    first_at = last_at = None
    for stop in stops:
        while tree.size < stop:
            batch = _read_entries(stream, tree.size, min(stop, tree.size + BATCH), types)
            if first_at is None and batch:
                first_at = batch[0][1]
            last_at = batch[-1][1]
            tree.append([hashed for hashed, _ in batch])
            tree.drain_full()
            if progress is not None:
                progress(len(batch))
        for kept in held:
            if kept.size == stop and tree.root() != kept.root_hash:
                raise VerificationError(
                    f"the first {kept.size} entries do not have the root of your checkpoint "
                    f"at size {kept.size}: the log was changed since you were shown it"
                )
    if stream.read(1):
        raise VerificationError(
            f"the export has more than the {checkpoint.size} entries its checkpoint covers"
        )
    if tree.root() != checkpoint.root_hash:
        raise VerificationError(
            f"the {checkpoint.size} entries do not have the root signed in the checkpoint: "
            "an entry was changed, removed, added or reordered"
        )
    held_sizes = [cp.size for cp in held]
    return VerifiedExport(origin, checkpoint, first_at, last_at, types, held_sizes, witnesses)


def _kept(number: int, note: str, verifier_keys: Sequence[str], origin: str) -> Checkpoint:
    """The verifier's own checkpoint ``number`` (1-based), or an error saying it is that one."""
    try:
        return open_checkpoint(note, verifier_keys, origin)
    except VerificationError as exc:
        raise VerificationError(f"your kept checkpoint {number}: {exc}") from exc


def _read_entries(
    stream: IO[bytes], start: int, stop: int, types: dict[str, int]
) -> list[tuple[bytes, datetime]]:
    """Entries ``start`` to ``stop`` - 1 from the stream: (leaf hash, time) of each, checked."""
    out = []
    for index in range(start, stop):
        line = stream.readline(MAX_ENTRY_BYTES + 2)
        if not line:
            raise VerificationError(f"the export ends after {index} entries")
        if not line.endswith(b"\n"):
            raise VerificationError(f"entry {index}: the line is cut short or too long")
        data = line[:-1]
        try:
            entry = Entry.from_bytes(data)
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: {exc}") from exc
        types[entry.type] = types.get(entry.type, 0) + 1
        out.append((leaf_hash(data), entry.at))
    return out


def _header(line: bytes) -> tuple[str, str, int]:
    """(origin, signed checkpoint, size) from the export's first line."""
    if len(line) > MAX_HEADER_BYTES or not line.endswith(b"\n"):
        raise VerificationError("not a ledger export: its first line is missing or too long")
    try:
        header = load_json(line, "ledger export header", max_bytes=MAX_HEADER_BYTES)
    except InputLimitError as exc:
        raise VerificationError(f"not a ledger export: its first line is {exc.problem}") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise VerificationError(f"not a ledger export in the format {EXPORT_FORMAT}")
    origin, note, size = header.get("origin"), header.get("checkpoint"), header.get("size")
    if not isinstance(origin, str) or not origin:
        raise VerificationError("ledger export header: 'origin' is missing")
    if not isinstance(note, str) or not note:
        raise VerificationError("ledger export header: 'checkpoint' is missing")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise VerificationError("ledger export header: 'size' is not a whole number")
    return origin, note, size
