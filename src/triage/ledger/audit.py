"""Full verification of a stored log: every entry, every tile, the head and every checkpoint.

The entries are the evidence; everything else is recomputed from them and compared. Signed
checkpoints are what an outsider holds: a checkpoint whose root the entries no longer produce
means the entries were altered, removed or reordered after it was signed.

The work is in two parts. Checking the full level-0 tiles (hash every entry, compare with the
stored leaf hashes, compute each tile's root) is nearly all of the cost, and full tiles never
change, so it is cut into chunks that worker processes can check side by side, each in its own
read transaction. The main process consumes the chunk results in order and checks the rest:
upper tiles, the last partial tile, the head and the checkpoints. Memory stays bounded by a few
chunks whatever the size of the log.

A chunk is first checked from its entry bundles as stored (``scan_worker.check_bundles``: no
object per entry); only a chunk where that finds anything amiss is read again entry by entry, to
say exactly what is wrong. With workers, this process checks its share of the chunks and small
``scan_worker`` processes (the driver and the hashing, nothing else) check the others.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from triage.ledger.checkpoint import open_checkpoint
from triage.ledger.errors import VerificationError
from triage.ledger.log import LogStorage
from triage.ledger.rfc6962 import HASH_SIZE, LEAF_PREFIX
from triage.ledger.scan_worker import check_bundles
from triage.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileAppender,
    TileKey,
    fold_right,
    perfect_nodes,
    split_hashes,
    subtree_root,
)

CHUNK_TILES = 16  # full level-0 tiles (4,096 entries) per unit of work
# Below this many entries, starting workers costs more than it saves.
PARALLEL_FROM = 512 * TILE_WIDTH


@dataclass(frozen=True)
class Problem:
    """One thing that does not verify, with the entry index it concerns where there is one."""

    index: int | None
    message: str
    # Among problems at one index the most specific comes first: an altered entry (0) before
    # a tile (1) before the checkpoint roots it spoils (2).
    rank: int = 1


@dataclass
class AuditReport:
    """What a full verification found."""

    size: int = 0
    root: bytes = b""
    entries_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Not failures, but worth telling whoever verifies (an installation from before the
    # checkpoint was kept outside the database, say).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems

    def first_problem(self) -> Problem | None:
        """The problem at the lowest entry index (problems without an index come last)."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.index is None, p.index or 0, p.rank))


class StorageOpener(Protocol):
    """Opens a read-only view of the same log, in another process; must be picklable."""

    def __call__(self) -> AbstractContextManager[LogStorage]: ...


@runtime_checkable
class WorkerOpener(Protocol):
    """A ``StorageOpener`` that can also tell a ``scan_worker`` process how to read the log."""

    def worker_job(self) -> dict[str, Any] | None:
        """What ``scan_worker`` needs to open the log with its driver alone (its connection and
        SQL), without the chunks; None when another process cannot open it."""
        ...


def audit_log(
    storage: LogStorage,
    verifier_keys: Sequence[str],
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
    max_problems: int = 50,
    opener: StorageOpener | None = None,
    workers: int = 0,
    kept: Sequence[str] = (),
) -> AuditReport:
    """Recompute the whole log from its entries and compare every stored artefact with it.

    With an ``opener`` that can start workers (``WorkerOpener``) and ``workers`` > 1, large
    logs are checked by that many processes: this one and ``workers`` - 1 ``scan_worker``
    processes. ``kept`` are signed checkpoints held outside the storage: checked like stored
    ones.
    """
    head = storage.read_head()
    report = AuditReport(size=head.size, root=head.root)
    findings = _Findings(report, max_problems)
    roots = _checked_checkpoints(storage, verifier_keys, origin, head.size, findings)
    _add_kept(kept, verifier_keys, origin, head.size, roots, findings)
    report.checkpoints_checked = len(roots)
    cuts = sorted(size for size in roots if size % TILE_WIDTH)
    full_tiles = head.size // TILE_WIDTH
    upper = TileAppender(0, {}, base_level=1)

    def check_root(size: int, nodes: list[bytes]) -> None:
        want = roots.get(size)
        if want is not None and fold_right(nodes) != want:
            findings(
                size - 1,
                f"checkpoint at size {size}: its signed root {want.hex()} is not the root "
                f"{fold_right(nodes).hex()} recomputed from entries 0..{size - 1}; "
                "entries before it were altered, removed or reordered",
                rank=2,
            )

    check_root(0, [])
    chunks = [
        (first, min(first + CHUNK_TILES, full_tiles), [s for s in cuts if first * TILE_WIDTH < s])
        for first in range(0, full_tiles, CHUNK_TILES)
    ]
    chunks = [(a, b, [s for s in c if s < b * TILE_WIDTH]) for a, b, c in chunks]
    job = None
    big = full_tiles * TILE_WIDTH >= PARALLEL_FROM
    if isinstance(opener, WorkerOpener) and workers > 1 and big:
        job = opener.worker_job()
    with ExitStack() as stack:
        results = _chunk_results(storage, chunks, job, workers, stack)
        for result in results:
            findings.extend(result)
            for offset, tile_root in enumerate(result.tile_roots):
                tile = result.first_tile + offset
                for size, prefix in result.prefix_nodes.items():
                    if size // TILE_WIDTH == tile:
                        check_root(size, upper.nodes() + prefix)
                upper.append([tile_root])
                _check_upper_tiles(storage, upper.drain_full(), findings)
                if (tile + 1) * TILE_WIDTH in roots:  # nodes() only when a checkpoint is here
                    check_root((tile + 1) * TILE_WIDTH, upper.nodes())
            if progress is not None:
                progress((result.first_tile + len(result.tile_roots)) * TILE_WIDTH)
            if result.gap is not None:
                report.entries_checked = result.gap
                _report_gap(storage, result.gap, head.size, findings)
                return report
    _check_last_tile(storage, head.size, full_tiles, upper, roots, check_root, findings)
    report.entries_checked = head.size
    if progress is not None:
        progress(head.size)
    return report


class _Findings:
    """Collects problems, capped, and remembers which entries were found altered."""

    def __init__(self, report: AuditReport, limit: int) -> None:
        self._report = report
        self._limit = limit
        self._altered: list[int] = []

    def __call__(self, index: int | None, message: str, rank: int = 1) -> None:
        if rank == 0 and index is not None:
            self._altered.append(index)
        if len(self._report.problems) < self._limit:
            self._report.problems.append(Problem(index, message, rank))

    def extend(self, result: _ChunkResult) -> None:
        for problem in result.problems:
            self(problem.index, problem.message, problem.rank)

    def explains(self, lo: int, hi: int) -> bool:
        """True when an altered entry in [lo, hi) already accounts for a differing hash."""
        return any(lo <= index < hi for index in self._altered)


@dataclass(frozen=True)
class _ChunkResult:
    first_tile: int
    tile_roots: list[bytes]  # roots of the tiles checked, in order, up to any gap
    prefix_nodes: dict[int, list[bytes]]  # checkpoint size -> perfect nodes of its partial tile
    problems: list[Problem]
    gap: int | None  # first missing entry index


_Chunk = tuple[int, int, list[int]]  # first tile, end tile, checkpoint sizes inside its tiles


def _chunk_results(
    storage: LogStorage,
    chunks: Sequence[_Chunk],
    job: dict[str, Any] | None,
    workers: int,
    stack: ExitStack,
) -> Iterator[_ChunkResult]:
    """The chunks' results in order; with a worker ``job``, every ``workers``-th chunk is
    checked here and the others by ``workers`` - 1 worker processes, started now and stopped
    when ``stack`` closes."""
    if job is None or workers < 2:
        for chunk in chunks:
            yield _scan(storage, *chunk)
        return
    outputs = [
        _start_worker(dict(job, chunks=list(chunks[k::workers])), stack) for k in range(1, workers)
    ]
    for position, chunk in enumerate(chunks):
        turn = position % workers
        if turn == 0:
            yield _scan(storage, *chunk)
            continue
        answer = _receive(outputs[turn - 1])
        if answer is None or len(answer[0]) != chunk[1] - chunk[0]:
            # The worker found something to look at, or failed: look here, entry by entry.
            yield _scan_chunk(storage, *chunk)
        else:
            roots, prefixes = answer
            yield _ChunkResult(chunk[0], roots, prefixes, [], None)


def _start_worker(job: dict[str, Any], stack: ExitStack) -> IO[bytes]:
    """Start a ``scan_worker`` on ``job``; its output, to read its answers from in order."""
    package_root = str(Path(__file__).resolve().parents[2])  # where ``triage`` is importable
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PYTHONPATH=package_root + (os.pathsep + path if path else ""))
    process = subprocess.Popen(
        [sys.executable, "-m", job["module"]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    stack.callback(_stop, process)
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        marshal.dump(job, process.stdin)
        process.stdin.close()
    except OSError:
        pass  # it ended already: its answers are missing, and are made up for here
    return process.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _receive(output: IO[bytes]) -> Any:
    """A worker's next answer (``ChunkAnswer`` or None), None too when it has no more to give."""
    try:
        return marshal.load(output)  # noqa: S302 (our own child, on its own pipe)
    except (EOFError, ValueError, TypeError, OSError):
        return None


def _scan(storage: LogStorage, first_tile: int, end_tile: int, cuts: Sequence[int]) -> _ChunkResult:
    """Check a chunk from its bundles, or entry by entry where that finds anything amiss."""
    bundles = storage.read_bundles(first_tile, end_tile)
    if bundles is not None:
        keys = [TileKey(0, t) for t in range(first_tile, end_tile)]
        stored = {key.index: data for key, data in storage.read_tiles(keys).items()}
        answer = check_bundles(bundles, stored, first_tile, end_tile, cuts)
        close = getattr(bundles, "close", None)
        if close is not None:
            close()
        if answer is not None:
            return _ChunkResult(first_tile, answer[0], answer[1], [], None)
    return _scan_chunk(storage, first_tile, end_tile, cuts)


def _scan_chunk(
    storage: LogStorage, first_tile: int, end_tile: int, cuts: Sequence[int]
) -> _ChunkResult:
    """Check full level-0 tiles [first_tile, end_tile) against the entries they hash."""
    lo, hi = first_tile * TILE_WIDTH, end_tile * TILE_WIDTH
    stored = storage.read_tiles([TileKey(0, t) for t in range(first_tile, end_tile)])
    leaves: list[bytes] = []
    gap = None
    for batch in storage.read_entries(lo, hi):
        expected = lo + len(leaves)
        if batch[0][0] != expected or batch[-1][0] != expected + len(batch) - 1:
            cut = next(i for i, (index, _) in enumerate(batch) if index != expected + i)
            leaves.extend(sha256(LEAF_PREFIX + data).digest() for _, data in batch[:cut])
            gap = expected + cut
            break
        leaves.extend([sha256(LEAF_PREFIX + data).digest() for _, data in batch])
    if gap is None and lo + len(leaves) < hi:
        gap = lo + len(leaves)
    problems: list[Problem] = []
    roots: list[bytes] = []
    prefixes: dict[int, list[bytes]] = {}
    for tile in range(first_tile, end_tile):
        start = (tile - first_tile) * TILE_WIDTH
        row = leaves[start : start + TILE_WIDTH]
        key = TileKey(0, tile)
        problems.extend(_compare_tile(key, row, stored.get(key), complete=len(row) == TILE_WIDTH))
        if len(row) < TILE_WIDTH:
            break
        roots.append(subtree_root(row))
        for size in cuts:
            if size // TILE_WIDTH == tile:
                prefixes[size] = perfect_nodes(size % TILE_WIDTH, row)
    return _ChunkResult(first_tile, roots, prefixes, problems, gap)


def _compare_tile(
    key: TileKey, computed: Sequence[bytes], stored: bytes | None, complete: bool = True
) -> list[Problem]:
    """Problems of one stored tile against the hashes recomputed from the entries.

    ``complete=False`` compares only the recomputed prefix (the rest is missing entries,
    reported on its own).
    """
    span = 1 << (TILE_HEIGHT * key.level)
    first = key.index * TILE_WIDTH * span
    if stored is None:
        return [Problem(first, f"tile {key.path()} is missing from storage")]
    if len(stored) % HASH_SIZE:
        return [Problem(first, f"tile {key.path()} is {len(stored)} bytes, not whole hashes")]
    got = split_hashes(stored)
    for position, want in enumerate(computed):
        if position >= len(got) or got[position] != want:
            index = first + position * span
            held = got[position].hex() if position < len(got) else "nothing"
            if key.level == 0:
                what, rank = f"entry {index}: its leaf hash {want.hex()}", 0
            else:
                what, rank = f"hash {position} (entries from {index})", 1
            return [
                Problem(
                    index,
                    f"{what} recomputed from the entries differs from tile {key.path()}, "
                    f"which holds {held}; the entry or the tile was altered",
                    rank,
                )
            ]
    if complete and len(got) > len(computed):
        return [
            Problem(
                first + len(computed) * span,
                f"tile {key.path()} holds {len(got)} hashes where the entries give {len(computed)}",
            )
        ]
    return []


def _check_upper_tiles(
    storage: LogStorage, computed: dict[TileKey, bytes], findings: _Findings
) -> None:
    if not computed:
        return
    stored = storage.read_tiles(list(computed))
    for key, data in sorted(computed.items()):
        for problem in _compare_tile(key, split_hashes(data), stored.get(key)):
            span = 1 << (TILE_HEIGHT * key.level)
            if problem.index is None or not findings.explains(problem.index, problem.index + span):
                findings(problem.index, problem.message, problem.rank)


def _check_last_tile(
    storage: LogStorage,
    size: int,
    full_tiles: int,
    upper: TileAppender,
    roots: dict[int, bytes],
    check_root: Callable[[int, list[bytes]], None],
    findings: _Findings,
) -> None:
    """The partial level-0 tile, the partial upper tiles, the head and anything beyond the log."""
    lo = full_tiles * TILE_WIDTH
    rows = [row for batch in storage.read_entries(lo, 2**63 - 1) for row in batch]
    present = [index for index, _ in rows]
    in_log = [data for index, data in rows if index < size]
    expected = list(range(lo, size))
    if present[: len(expected)] != expected:
        missing = next((i for i, p in zip(expected, present, strict=False) if i != p), None)
        _report_gap(storage, lo + len(present) if missing is None else missing, size, findings)
        return
    if len(present) > size - lo:
        findings(size, f"entries exist beyond the head's size {size} (up to {present[-1]})")
    leaves = [sha256(LEAF_PREFIX + data).digest() for data in in_log]
    for cut in sorted(roots):
        if lo < cut < size:
            check_root(cut, upper.nodes() + perfect_nodes(cut - lo, leaves))
    nodes = upper.nodes() + perfect_nodes(len(leaves), leaves)
    if size % TILE_WIDTH:
        check_root(size, nodes)
        key = TileKey(0, full_tiles)
        for problem in _compare_tile(key, leaves, storage.read_tiles([key]).get(key)):
            findings(problem.index, problem.message, problem.rank)
    partial = upper.partial()
    if partial:
        _check_upper_tiles(storage, partial, findings)
    head = storage.read_head()
    if fold_right(nodes) != head.root:
        findings(
            None,
            f"the stored head root {head.root.hex()} is not the root "
            f"{fold_right(nodes).hex()} recomputed from the entries",
        )
    _check_no_tiles_beyond(storage, size, findings)


def _check_no_tiles_beyond(storage: LogStorage, size: int, findings: _Findings) -> None:
    level = 0
    while True:
        width = size >> (TILE_HEIGHT * level)  # how many hashes this level has
        for index, _ in storage.iter_tiles(level, -(-width // TILE_WIDTH)):
            findings(
                (index * TILE_WIDTH) if level == 0 else None,
                f"tile {TileKey(level, index).path()} is beyond the log",
            )
        if width == 0:
            return
        level += 1


def _report_gap(storage: LogStorage, missing: int, size: int, findings: _Findings) -> None:
    later = next(
        (batch[0][0] for batch in storage.read_entries(missing + 1, 2**63 - 1) if batch), None
    )
    if later is None:
        findings(
            missing,
            f"the log ends after {missing} entries but its head says size {size}: "
            "entries were removed",
        )
    else:
        findings(
            missing,
            f"entry {missing} is missing: the next stored entry is {later} (entries were deleted)",
        )


def _checked_checkpoints(
    storage: LogStorage,
    verifier_keys: Sequence[str],
    origin: str | None,
    head_size: int,
    findings: _Findings,
) -> dict[int, bytes]:
    """Signed roots by size, from every stored checkpoint whose signature and body verify."""
    roots: dict[int, bytes] = {}
    for stored in storage.read_checkpoints():
        try:
            body = open_checkpoint(stored.note, verifier_keys, origin)
        except VerificationError as exc:
            findings(None, f"checkpoint stored at size {stored.size} does not verify: {exc}")
            continue
        if body.size != stored.size:
            findings(None, f"checkpoint stored at size {stored.size} is signed for {body.size}")
            continue
        if body.size > head_size:
            findings(
                head_size,
                f"checkpoint at size {body.size} is beyond the log's size {head_size}: "
                "the log was truncated after it was signed",
            )
            continue
        roots[body.size] = body.root_hash
    return roots


def _add_kept(
    kept: Sequence[str],
    verifier_keys: Sequence[str],
    origin: str | None,
    head_size: int,
    roots: dict[int, bytes],
    findings: _Findings,
) -> None:
    """Signed roots of checkpoints kept outside the storage join the stored ones (a kept one
    wins where both have a size: it is the one that cannot have been swapped in storage)."""
    for signed in kept:
        try:
            body = open_checkpoint(signed, verifier_keys, origin)
        except VerificationError as exc:
            findings(None, f"the checkpoint kept outside the database does not verify: {exc}", 3)
            continue
        if body.size > head_size:
            findings(
                head_size,
                f"the checkpoint kept outside the database, at size {body.size}, is beyond the "
                f"log's size {head_size}: the log was truncated after it was signed",
                3,
            )
            continue
        roots[body.size] = body.root_hash
