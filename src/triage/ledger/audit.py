"""Full verification of a stored log: every entry, every tile, the head and every checkpoint.

The entries are the evidence; everything else is recomputed from them and compared. Signed
checkpoints are what an outsider holds: a checkpoint whose root the entries no longer produce
means the entries were altered, removed or reordered after it was signed.

Memory stays bounded by one batch of entries plus one partial tile per level, whatever the size.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256

from triage.ledger.checkpoint import open_checkpoint
from triage.ledger.errors import VerificationError
from triage.ledger.log import LogStorage
from triage.ledger.rfc6962 import HASH_SIZE, LEAF_PREFIX
from triage.ledger.tiles import TILE_HEIGHT, TileAppender, TileKey, split_hashes


@dataclass(frozen=True)
class Problem:
    """One thing that does not verify, with the entry index it concerns where there is one."""

    index: int | None
    message: str
    # Among problems at one index, the most specific comes first: an altered entry before
    # the checkpoint roots it spoils.
    rank: int = 1


@dataclass
class AuditReport:
    """What a full verification found."""

    size: int = 0
    root: bytes = b""
    entries_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems

    def first_problem(self) -> Problem | None:
        """The problem at the lowest entry index (problems without an index come last)."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.index is None, p.index or 0, p.rank))


def audit_log(
    storage: LogStorage,
    verifier_keys: Sequence[str],
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
    max_problems: int = 50,
) -> AuditReport:
    """Recompute the whole log from its entries and compare every stored artefact with it."""
    head = storage.read_head()
    report = AuditReport(size=head.size, root=head.root)

    problem = _Findings(report, max_problems)

    expected_roots = _checked_checkpoints(storage, verifier_keys, origin, head.size, problem)
    report.checkpoints_checked = len(expected_roots)
    appender = TileAppender(0, {})
    level0 = _TileStream(storage.iter_tiles(0))

    def compare_root(size: int) -> None:
        want = expected_roots.get(size)
        if want is not None and appender.root() != want:
            problem(
                size - 1,
                f"checkpoint at size {size}: its signed root {want.hex()} is not the root "
                f"{appender.root().hex()} recomputed from entries 0..{size - 1}; "
                "entries before it were altered, removed or reordered",
                consequence=True,
            )

    compare_root(0)
    stop_sizes = collections.deque(sorted(s for s in expected_roots if s > 0))
    expected = 0
    for stored_batch in storage.read_entries(0, 2**63 - 1):
        batch = list(stored_batch)
        if batch[-1][0] != expected + len(batch) - 1:
            cut = next(i for i, (index, _) in enumerate(batch) if index != expected + i)
            problem(
                expected + cut,
                f"entry {expected + cut} is missing: the next stored entry is {batch[cut][0]} "
                "(entries were deleted or the log was truncated)",
            )
            # Recomputing past a gap would only repeat the same finding at every later root.
            batch, gap = batch[:cut], True
        else:
            gap = False
        leaves = [sha256(LEAF_PREFIX + data).digest() for _, data in batch]
        start = 0
        while start < len(leaves):
            while stop_sizes and stop_sizes[0] <= expected:
                stop_sizes.popleft()
            end = len(leaves)
            if stop_sizes and stop_sizes[0] < expected + (end - start):
                end = start + stop_sizes[0] - expected
            appender.append(leaves[start:end])
            expected += end - start
            start = end
            _compare_full_tiles(storage, appender, level0, problem)
            compare_root(expected)
        if progress is not None:
            progress(expected)
        if gap:
            break

    report.entries_checked = expected
    if expected > head.size:
        problem(
            head.size, f"entries exist beyond the head's size {head.size} (up to {expected - 1})"
        )
    elif expected < head.size:
        problem(
            expected,
            f"the log ends after {expected} entries but its head says size {head.size}: "
            "entries were removed",
        )
    elif appender.root() != head.root:
        problem(
            None,
            f"the stored head root {head.root.hex()} is not the root "
            f"{appender.root().hex()} recomputed from the entries",
        )
    _compare_partial_tiles(storage, appender, level0, problem)
    return report


def _checked_checkpoints(
    storage: LogStorage,
    verifier_keys: Sequence[str],
    origin: str | None,
    head_size: int,
    problem: _Findings,
) -> dict[int, bytes]:
    """Signed roots by size, from every stored checkpoint whose signature and body verify."""
    roots: dict[int, bytes] = {}
    for stored in storage.read_checkpoints():
        try:
            body = open_checkpoint(stored.note, verifier_keys, origin)
        except VerificationError as exc:
            problem(None, f"checkpoint stored at size {stored.size} does not verify: {exc}")
            continue
        if body.size != stored.size:
            problem(None, f"checkpoint stored at size {stored.size} is signed for size {body.size}")
            continue
        if body.size > head_size:
            problem(
                head_size,
                f"checkpoint at size {body.size} is beyond the log's size {head_size}: "
                "the log was truncated after it was signed",
            )
            continue
        roots[body.size] = body.root_hash
    return roots


class _Findings:
    """Collects problems, capped, and remembers which entries were found altered."""

    def __init__(self, report: AuditReport, limit: int) -> None:
        self._report = report
        self._limit = limit
        self._entries: list[int] = []

    def __call__(
        self, index: int | None, message: str, entry: bool = False, consequence: bool = False
    ) -> None:
        if entry and index is not None:
            self._entries.append(index)
        if len(self._report.problems) < self._limit:
            rank = 0 if entry else 2 if consequence else 1
            self._report.problems.append(Problem(index, message, rank))

    def explains(self, lo: int, hi: int) -> bool:
        """True when an altered entry in [lo, hi) already accounts for a differing hash."""
        return any(lo <= index < hi for index in self._entries)


class _TileStream:
    """Stored tiles of one level read in index order, alongside the recomputation."""

    def __init__(self, tiles: Iterator[tuple[int, bytes]]) -> None:
        self._tiles = tiles
        self._pending: tuple[int, bytes] | None = None

    def take(self, index: int) -> bytes | None:
        """The stored tile ``index``, or None when storage has no such tile."""
        while True:
            if self._pending is None:
                self._pending = next(self._tiles, None)
                if self._pending is None:
                    return None
            found, data = self._pending
            if found > index:
                return None
            self._pending = None
            if found == index:
                return data

    def rest(self) -> list[int]:
        """Indexes of stored tiles not yet taken."""
        left = [] if self._pending is None else [self._pending[0]]
        return left + [index for index, _ in self._tiles]


def _compare_full_tiles(
    storage: LogStorage,
    appender: TileAppender,
    level0: _TileStream,
    problem: _Findings,
) -> None:
    full = appender.drain_full()
    upper = [key for key in full if key.level > 0]
    stored_upper = storage.read_tiles(upper) if upper else {}
    for key in sorted(full):
        stored = level0.take(key.index) if key.level == 0 else stored_upper.get(key)
        _compare_tile(key, full[key], stored, problem, appender.size)


def _compare_partial_tiles(
    storage: LogStorage,
    appender: TileAppender,
    level0: _TileStream,
    problem: _Findings,
) -> None:
    partial = appender.partial()
    stored_upper = storage.read_tiles([key for key in partial if key.level > 0])
    last_index: dict[int, int] = {}
    for key in sorted(partial):
        stored = level0.take(key.index) if key.level == 0 else stored_upper.get(key)
        _compare_tile(key, partial[key], stored, problem, appender.size)
        last_index[key.level] = key.index
    for index in level0.rest():
        problem(index << TILE_HEIGHT, f"tile {TileKey(0, index).path()} is beyond the log")
    level = 1
    while True:
        extra = [
            index
            for index, _ in storage.iter_tiles(level)
            if index > last_index.get(level, (appender.size >> (TILE_HEIGHT * (level + 1))) - 1)
        ]
        for index in extra:
            problem(None, f"tile {TileKey(level, index).path()} is beyond the log")
        if appender.size >> (TILE_HEIGHT * level) == 0 and not extra:
            break
        level += 1


def _compare_tile(
    key: TileKey,
    computed: bytes,
    stored: bytes | None,
    problem: _Findings,
    entries: int,
) -> None:
    first_leaf = (key.index << TILE_HEIGHT) << (TILE_HEIGHT * key.level)
    if stored is None:
        problem(first_leaf, f"tile {key.path()} is missing from storage")
        return
    if stored == computed:
        return
    if len(stored) % HASH_SIZE:
        problem(first_leaf, f"tile {key.path()} is {len(stored)} bytes, not whole hashes")
        return
    want, got = split_hashes(computed), split_hashes(stored)
    for position in range(max(len(want), len(got))):
        if position >= len(want):
            problem(
                # The first entry this extra hash would need is the first one that is missing.
                max(first_leaf + (position << (TILE_HEIGHT * key.level)), entries),
                f"tile {key.path()} holds {len(got)} hashes where the entries give {len(want)}",
            )
            return
        if position >= len(got) or want[position] != got[position]:
            span = 1 << (TILE_HEIGHT * key.level)
            index = first_leaf + position * span
            if key.level > 0 and problem.explains(index, index + span):
                continue  # a consequence of an altered entry reported already
            what = (
                f"entry {index}: its leaf hash {want[position].hex()}"
                if key.level == 0
                else f"hash {position} (entries from {index})"
            )
            stored_hash = got[position].hex() if position < len(got) else "nothing"
            problem(
                index,
                f"{what} recomputed from the entries differs from tile {key.path()}, "
                f"which holds {stored_hash}; the entry or the tile was altered",
                entry=key.level == 0,
            )
            return
