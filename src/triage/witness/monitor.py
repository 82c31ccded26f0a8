"""The monitor behind ``triage witness follow``: the auditor's continuous check of a facility's log.

Each round reads the log through its C2SP tlog-tiles read API (a :class:`TileSource`), checks
the checkpoint's signature (and, with a policy, its witnesses), and compares it with the last
checkpoint this monitor verified:

- a smaller tree is a ROLLBACK, the same size with another root a FORK: a log never shrinks
  and never changes what it signed;
- a larger tree is verified entry by entry: every new entry bundle is read, each entry must be
  a ledger entry of the same facility, its leaf hash must be the one the served level-0 tile
  holds (what clients' inclusion proofs are built from), and the leaf hashes appended to the
  *compact range* kept in the state (the roots of the perfect subtrees of the verified tree,
  one per set bit of its size) must give the checkpoint's root. Following never re-reads old
  entries, and the state stays O(log n) hashes whatever the log's size.
- when that root does not match, the served tiles say which of two things happened: if the
  tree they hold at the old size is not the one verified, the history was REWRITTEN (a
  misbehaviour, like a fork); if they agree with it, the served entries are wrong (a failure).

A misbehaviour is an :class:`Alarm`: written as evidence (both signed checkpoints and what was
found) into the log's state directory, never advancing the state, and said again by every
later run until the auditor resolves it by deleting that directory. Anything else that keeps a
round from verifying (an unreachable server, a bad signature, a bad entry, too few witnesses)
is a :class:`MonitorError`; the state is written only after a round verified.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, overload

import httpx

from triage.ledger.bundle import MAX_SPEC_ENTRY_BYTES, WIDE_LENGTH_BYTES, parse_entry_bundle
from triage.ledger.checkpoint import Checkpoint, open_checkpoint
from triage.ledger.entry import Entry
from triage.ledger.errors import LedgerStateError, VerificationError
from triage.ledger.policy import Policy, verify_checkpoint
from triage.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE, NODE_PREFIX, leaf_hashes
from triage.ledger.tiles import (
    TILE_BYTES,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileHashes,
    TileKey,
    encode_tile_index,
    fold_right,
    split_hashes,
    subtree_root,
)

MAX_CHECKPOINT_BYTES = 64 * 1024
"""The largest checkpoint note read (a note has at most 100 signature lines of ~100 bytes)."""

MAX_BUNDLE_BYTES = TILE_WIDTH * (2 + MAX_SPEC_ENTRY_BYTES)
MAX_WIDE_BUNDLE_BYTES = 256 * 1024 * 1024  # 256 entries of up to 1 MiB each
"""The largest C2SP entry bundle: 256 entries of 64 KiB behind their uint16 lengths."""

STATE_FILE = "state.json"
CHECKPOINT_FILE = "checkpoint"
EVIDENCE_DIR = "evidence"
_STATE_FORMAT = "triage-monitor-state/1"
_EVIDENCE_FORMAT = "triage-monitor-evidence/1"
_LOCK_FILE = ".lock"


class MonitorError(Exception):
    """A round could not verify the log (exit 1): the message says what and where."""


class SourceError(MonitorError):
    """The log's read API could not be read: unreachable, refused, or not serving a resource."""


class StateError(MonitorError):
    """The monitor's own state is unreadable or does not verify."""


# -- where the log is read from


class TileSource(Protocol):
    """A log's C2SP tlog-tiles resources (``width`` None: a full tile or bundle)."""

    def checkpoint(self) -> bytes: ...

    def tile(self, level: int, index: int, width: int | None) -> bytes: ...

    def bundle(self, index: int, width: int | None) -> list[bytes]:
        """The entries of an entry bundle; VerificationError when it is malformed or does not
        hold ``width`` entries (256 for a full one)."""
        ...


def tile_path(level: int, index: int, width: int | None) -> str:
    """The C2SP path of a hash tile (``entries`` as the level: an entry bundle)."""
    return f"tile/{level}/{encode_tile_index(index)}{_width_suffix(width)}"


def bundle_path(index: int, width: int | None, wide: bool = False) -> str:
    """The C2SP path of an entry bundle (``wide``: the facility's uint32-length form of it, for
    a bundle holding an entry over 64 KiB)."""
    kind = "entries-u32" if wide else "entries"
    return f"tile/{kind}/{encode_tile_index(index)}{_width_suffix(width)}"


def _width_suffix(width: int | None) -> str:
    if width is None:
        return ""
    if not 1 <= width < TILE_WIDTH:
        raise ValueError(f"a partial tile's width is 1 to {TILE_WIDTH - 1}, not {width}")
    return f".p/{width}"


class HttpTileSource:
    """The tile read API of a log at ``url`` (its prefix), over HTTP.

    A Bearer ``token`` when the facility's API is not public. Connection errors, timeouts and
    5xx answers are retried (``attempts`` in all, waiting ``backoff`` seconds, doubled each
    time); any other answer but 200 fails at once. Responses are read up to the largest the
    resource can be, so a hostile server cannot exhaust memory; gzip is decoded by httpx.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the log's URL must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        headers = {"Accept-Encoding": "gzip, identity"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.url + "/", headers=headers, timeout=timeout, transport=transport
        )
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> HttpTileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint(self) -> bytes:
        return self._get("checkpoint", MAX_CHECKPOINT_BYTES)

    def tile(self, level: int, index: int, width: int | None) -> bytes:
        return self._get(tile_path(level, index, width), TILE_BYTES)

    def bundle(self, index: int, width: int | None) -> list[bytes]:
        count = TILE_WIDTH if width is None else width
        data = self._get(bundle_path(index, width), MAX_BUNDLE_BYTES, not_representable=True)
        if data is not None:
            return parse_entry_bundle(data, count)
        # 501: an entry of this bundle is over the 64 KiB a C2SP bundle carries; the facility
        # serves the same entries with uint32 lengths beside it.
        data = self._get(bundle_path(index, width, wide=True), MAX_WIDE_BUNDLE_BYTES)
        return parse_entry_bundle(data, count, WIDE_LENGTH_BYTES)

    @overload
    def _get(self, path: str, limit: int) -> bytes: ...

    @overload
    def _get(self, path: str, limit: int, not_representable: bool) -> bytes | None: ...

    def _get(self, path: str, limit: int, not_representable: bool = False) -> bytes | None:
        """The resource's bytes; None for a 501 when ``not_representable`` (the resource
        exists but not in this form)."""
        where = f"{self.url}/{path}"
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                with self._http.stream("GET", path) as response:
                    status = response.status_code
                    if status == 200:
                        return _read_at_most(response, limit, where)
                    if status == 501 and not_representable:
                        return None
                    if status < 500 or last:
                        raise SourceError(_refusal(where, status, _short_body(response)))
            except httpx.TransportError as exc:
                if last:
                    raise SourceError(
                        f"cannot read {where} after {self._attempts} attempts: {exc}"
                    ) from exc
            except httpx.HTTPError as exc:  # a body that does not decode: no point retrying
                raise SourceError(f"cannot read {where}: {exc}") from exc
            self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable: the last attempt returns or raises")


def _read_at_most(response: httpx.Response, limit: int, where: str) -> bytes:
    chunks = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise SourceError(f"{where} is larger than {limit} bytes, the most it can hold")
        chunks.append(chunk)
    return b"".join(chunks)


def _short_body(response: httpx.Response) -> str:
    try:
        data = response.read()[:300]
    except httpx.HTTPError:
        return ""
    text = data.decode("utf-8", "replace").strip()
    try:
        detail = json.loads(text).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else text


def _refusal(where: str, status: int, body: str) -> str:
    said = f": {body}" if body else ""
    if status in (401, 403):
        return (
            f"{where} refused access ({status}){said}; pass --token or set TRIAGE_TOKEN to an "
            "auditor's token, unless the facility makes its log public"
        )
    if status == 404:
        return f"{where} is not served (404){said}"
    return f"{where} answered {status}{said}"


class _ServedTiles:
    """The tiles a tree of ``size`` leaves has, read from a source (a ``TileReader``)."""

    def __init__(self, source: TileSource, size: int) -> None:
        self._source = source
        self._size = size

    def read_tiles(self, keys: Collection[TileKey]) -> Mapping[TileKey, bytes]:
        found = {}
        for key in keys:
            width = served_width(key.level, key.index, self._size)
            data = self._source.tile(key.level, key.index, width)
            hashes = TILE_WIDTH if width is None else width
            if len(data) != hashes * HASH_SIZE:
                raise MonitorError(
                    f"tile {tile_path(key.level, key.index, width)} holds {len(data)} bytes, "
                    f"not {hashes * HASH_SIZE} ({hashes} hashes)"
                )
            found[key] = data
        return found


def served_width(level: int, index: int, size: int) -> int | None:
    """The width a tree of ``size`` leaves serves tile ``level/index`` at: None when full."""
    span = TILE_HEIGHT * (level + 1)
    if (index + 1) << span <= size:
        return None
    width = (size >> (TILE_HEIGHT * level)) % TILE_WIDTH
    if index != size >> span or width == 0:
        raise LedgerStateError(f"a tree of size {size} has no tile {level}/{index}")
    return width


# -- what was verified, and what was found


@dataclass(frozen=True)
class LogState:
    """The latest checkpoint the monitor verified for one log, with the compact range of its
    tree (the roots of its perfect subtrees, largest first) and the facility its entries name."""

    url: str
    origin: str
    size: int
    root: bytes
    nodes: tuple[bytes, ...]
    checkpoint: str
    facility: str | None
    verified_at: datetime

    @classmethod
    def empty(cls, url: str, origin: str, at: datetime) -> LogState:
        """Where a log is followed from the first time: the empty tree."""
        return cls(url, origin, 0, EMPTY_ROOT, (), "", None, at)

    def to_json(self) -> dict[str, Any]:
        """The state file's content."""
        return {
            "format": _STATE_FORMAT,
            "url": self.url,
            "origin": self.origin,
            "size": self.size,
            "root": _b64(self.root),
            "range": [_b64(node) for node in self.nodes],
            "checkpoint": self.checkpoint,
            "facility": self.facility,
            "verified_at": _time(self.verified_at),
        }


class AlarmKind(StrEnum):
    """What a log did that a log must never do."""

    ROLLBACK = "ROLLBACK"
    FORK = "FORK"
    REWRITTEN = "REWRITTEN HISTORY"


@dataclass(frozen=True)
class Alarm:
    """A fork, a rollback or a rewritten history, with the signed checkpoints that show it."""

    kind: AlarmKind
    url: str
    origin: str
    kept: LogState
    served: Checkpoint
    served_note: str
    detail: str
    found_at: datetime
    served_root_at_kept_size: bytes | None = None

    def headline(self) -> str:
        """One upper-case line naming what happened."""
        sizes = f"size {self.kept.size} -> {self.served.size}"
        return f"{self.kind.value} DETECTED in the log {self.origin} at {self.url} ({sizes})"

    def to_json(self) -> dict[str, Any]:
        """The evidence: what was kept, what was served, what was found."""
        found: dict[str, Any] = {
            "format": _EVIDENCE_FORMAT,
            "alarm": self.kind.value,
            "url": self.url,
            "origin": self.origin,
            "detail": self.detail,
            "found_at": _time(self.found_at),
            "kept": {
                "size": self.kept.size,
                "root": _b64(self.kept.root),
                "checkpoint": self.kept.checkpoint,
                "verified_at": _time(self.kept.verified_at),
            },
            "served": {
                "size": self.served.size,
                "root": _b64(self.served.root_hash),
                "checkpoint": self.served_note,
            },
        }
        if self.served_root_at_kept_size is not None:
            found["served_root_at_kept_size"] = _b64(self.served_root_at_kept_size)
        return found


class Misbehaviour(Exception):
    """The log misbehaved (exit 2); ``evidence`` is the file that records it."""

    def __init__(self, alarm: Mapping[str, Any], evidence: Path, again: bool) -> None:
        super().__init__(f"{alarm['alarm']}: {alarm['detail']}")
        self.alarm = alarm
        self.evidence = evidence
        self.again = again

    def report(self) -> str:
        """The loud message for standard error."""
        alarm = self.alarm
        kept, served = alarm["kept"], alarm["served"]
        lines = [
            f"{alarm['alarm']} DETECTED in the log {alarm['origin']} at {alarm['url']}",
            f"  {alarm['detail']}",
            f"  verified before: size {kept['size']}, root {kept['root']}",
            f"  served now:      size {served['size']}, root {served['root']}",
        ]
        if "served_root_at_kept_size" in alarm:
            lines.append(
                f"  served tree at size {kept['size']}: root {alarm['served_root_at_kept_size']}"
            )
        lines.append(f"  evidence (both signed checkpoints): {self.evidence}")
        if self.again:
            lines.append(f"  first found at {alarm['found_at']}, and not resolved since")
        lines += [
            "This log is not append-only: what it showed before and what it shows now cannot "
            "both be true. Keep the evidence and report it; do not rely on this log's receipts.",
            "Every run says this again until you resolve it: to start over, copy the evidence "
            f"somewhere safe and delete {self.evidence.parent.parent}.",
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class RoundReport:
    """One verified round: the log went from ``old_size`` to ``new_size``."""

    url: str
    origin: str
    old_size: int
    new_size: int
    root: bytes
    entries_verified: int
    witnesses: tuple[str, ...] | None = None
    quorum: str | None = None

    def summary(self) -> str:
        """The line printed for the round."""
        if self.new_size == self.old_size:
            text = f"ok: {self.origin} unchanged at size {self.new_size}"
        else:
            text = (
                f"ok: {self.origin} from size {self.old_size} to {self.new_size}: "
                f"{self.entries_verified} entries verified"
            )
        if self.quorum is not None:
            text += f"; witnesses: {self.quorum}"
        return text

    def to_json(self) -> dict[str, Any]:
        """The round as --json prints it."""
        return {
            "ok": True,
            "url": self.url,
            "origin": self.origin,
            "from_size": self.old_size,
            "to_size": self.new_size,
            "root": _b64(self.root),
            "entries_verified": self.entries_verified,
            "witnesses": None if self.witnesses is None else list(self.witnesses),
            "quorum": self.quorum,
        }


# -- the state directory


class StateStore:
    """The monitor's state: a directory per log (the SHA-256 of its origin, in hex, as in
    C2SP tlog-witness) holding ``state.json``, a copy of the checkpoint note, and the evidence
    of anything the log did wrong."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def log_dir(self, origin: str) -> Path:
        """The directory of the log named ``origin``."""
        return self.root / hashlib.sha256(origin.encode("utf-8")).hexdigest()

    @contextmanager
    def locked(self, origin: str) -> Iterator[None]:
        """Hold the log's lock, so two monitors of one state never interleave a round."""
        directory = self.log_dir(origin)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def load(self, origin: str, key: str) -> LogState | None:
        """The kept state of the log (checked against itself and ``key``), None if none."""
        path = self.log_dir(origin) / STATE_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc}") from exc
        try:
            return _parse_state(raw, origin, key)
        except (ValueError, KeyError, TypeError, VerificationError) as exc:
            raise StateError(
                f"{path} does not verify ({exc}); delete {path.parent} to follow the log "
                "from the start again"
            ) from exc

    def save(self, state: LogState) -> None:
        """Replace the kept state atomically (and the copy of the checkpoint note beside it)."""
        directory = self.log_dir(state.origin)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(state.to_json(), indent=2, sort_keys=True).encode("utf-8") + b"\n"
        _replace(directory / STATE_FILE, data)
        # A copy for other tools (`triage verify EXPORT --checkpoint`); state.json is the truth.
        _replace(directory / CHECKPOINT_FILE, state.checkpoint.encode("utf-8"))

    def record(self, alarm: Alarm) -> Path:
        """Write the evidence of ``alarm`` to a new timestamped file; returns it."""
        directory = self.log_dir(alarm.origin) / EVIDENCE_DIR
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = alarm.found_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        kind = alarm.kind.name.lower()
        path = directory / f"{stamp}-{kind}.json"
        number = 1
        while path.exists():
            number += 1
            path = directory / f"{stamp}-{kind}-{number}.json"
        _replace(path, json.dumps(alarm.to_json(), indent=2, sort_keys=True).encode() + b"\n")
        return path

    def unresolved(self, url: str | None = None, origin: str | None = None) -> Misbehaviour | None:
        """The first evidence recorded for the log at ``url`` or named ``origin``, if any."""
        directories = [self.log_dir(origin)] if origin is not None else sorted(self.root.glob("*"))
        for directory in directories:
            for path in sorted((directory / EVIDENCE_DIR).glob("*.json")):
                try:
                    alarm = json.loads(path.read_bytes())
                    recorded_url, recorded_origin = alarm["url"], alarm["origin"]
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    raise StateError(f"evidence file {path} is unreadable: {exc}") from exc
                if recorded_origin == origin or (url is not None and recorded_url == url):
                    return Misbehaviour(alarm, path, again=True)
        return None


def _parse_state(raw: bytes, origin: str, key: str) -> LogState:
    obj = json.loads(raw)
    if obj.get("format") != _STATE_FORMAT:
        raise ValueError(f"format is {obj.get('format')!r}, not {_STATE_FORMAT!r}")
    size = obj["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"size {size!r} is not a tree size")
    nodes = tuple(_unb64(node, "range") for node in obj["range"])
    if len(nodes) != size.bit_count():
        raise ValueError(f"a tree of size {size} has {size.bit_count()} subtrees, not {len(nodes)}")
    root = _unb64(obj["root"], "root")
    if fold_right(nodes) != root:
        raise ValueError("the compact range does not hash to the root")
    note = obj["checkpoint"]
    if not isinstance(note, str):
        raise ValueError("checkpoint is not text")
    if note:
        kept = open_checkpoint(note, [key], origin)
        if (kept.size, kept.root_hash) != (size, root):
            raise ValueError("the kept checkpoint is not of the kept size and root")
    elif size != 0:
        raise ValueError(f"no checkpoint for size {size}")
    facility = obj["facility"]
    if facility is not None and not isinstance(facility, str):
        raise ValueError("facility is not text")
    if obj["origin"] != origin:
        raise ValueError(f"origin {obj['origin']!r} is not {origin!r}")
    url = obj["url"]
    if not isinstance(url, str):
        raise ValueError("url is not text")
    return LogState(
        url=url,
        origin=origin,
        size=size,
        root=root,
        nodes=nodes,
        checkpoint=note,
        facility=facility,
        verified_at=datetime.fromisoformat(obj["verified_at"]),
    )


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` atomically: a temporary file beside it, fsync, rename, fsync the directory."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.rename(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# -- one round


def follow_round(
    source: TileSource,
    store: StateStore,
    url: str,
    key: str,
    policy: Policy | None = None,
    *,
    parallel: int = 4,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RoundReport:
    """Verify the log's current checkpoint against the kept state and advance the state.

    Misbehaviour (with its evidence written) for a fork, a rollback or a rewritten history,
    and for one found before and not resolved; MonitorError for anything else that fails.
    ``parallel`` is how many bundles (with their tiles) are fetched at once.
    """
    earlier = store.unresolved(url=url)
    if earlier is not None:
        raise earlier
    raw = source.checkpoint()
    try:
        note = raw.decode("utf-8")
        served = open_checkpoint(note, [key])
    except UnicodeDecodeError as exc:
        raise MonitorError(f"the checkpoint at {url} is not UTF-8 text") from exc
    except VerificationError as exc:
        raise MonitorError(f"the checkpoint at {url} does not verify with --key: {exc}") from exc
    with store.locked(served.origin):
        earlier = store.unresolved(origin=served.origin)
        if earlier is not None:
            raise earlier
        kept = store.load(served.origin, key) or LogState.empty(url, served.origin, now())
        alarm = _compare(kept, served, note, url, now)
        if alarm is not None:
            raise Misbehaviour(alarm.to_json(), store.record(alarm), again=False)
        if served.size > kept.size:
            grown = _verify_growth(source, kept, served, note, url, parallel, now)
            if isinstance(grown, Alarm):
                raise Misbehaviour(grown.to_json(), store.record(grown), again=False)
            state = grown
        else:
            if served.size == 0 and served.root_hash != EMPTY_ROOT:
                raise MonitorError(f"the checkpoint at {url} has size 0 but not the empty root")
            state = LogState(
                url, served.origin, kept.size, kept.root, kept.nodes, note, kept.facility, now()
            )
        witnesses, quorum = _witnesses(note, policy, key, url)
        if state.checkpoint != kept.checkpoint or state.url != kept.url:
            store.save(state)
    return RoundReport(
        url=url,
        origin=served.origin,
        old_size=kept.size,
        new_size=served.size,
        root=served.root_hash,
        entries_verified=served.size - kept.size,
        witnesses=witnesses,
        quorum=quorum,
    )


def _compare(
    kept: LogState, served: Checkpoint, note: str, url: str, now: Callable[[], datetime]
) -> Alarm | None:
    if served.size < kept.size:
        detail = f"the log went back from size {kept.size} to size {served.size}: a log only grows"
        return Alarm(AlarmKind.ROLLBACK, url, served.origin, kept, served, note, detail, now())
    if served.size == kept.size and served.root_hash != kept.root and kept.checkpoint:
        detail = f"two checkpoints of size {kept.size} sign different roots"
        return Alarm(AlarmKind.FORK, url, served.origin, kept, served, note, detail, now())
    return None


def _witnesses(
    note: str, policy: Policy | None, key: str, url: str
) -> tuple[tuple[str, ...] | None, str | None]:
    """The policy's witnesses that cosigned the checkpoint; MonitorError below its quorum."""
    if policy is None:
        return None, None
    try:
        witnessed = verify_checkpoint(note, policy, log_vkeys=[key])
    except VerificationError as exc:
        raise MonitorError(
            f"the checkpoint at {url} is not witnessed as the policy needs: {exc}"
        ) from exc
    return witnessed.witnesses, policy.explain(witnessed.witnesses)


def _verify_growth(
    source: TileSource,
    kept: LogState,
    served: Checkpoint,
    note: str,
    url: str,
    parallel: int,
    now: Callable[[], datetime],
) -> LogState | Alarm:
    """Verify every entry from ``kept.size`` to ``served.size``: the new state, or the alarm
    when the served tree does not hold the tree verified before."""
    old, new = kept.size, served.size
    nodes = list(kept.nodes)
    size = old
    facility = kept.facility
    mismatch: tuple[int, str] | None = None  # the first entry whose leaf hash its tile lacks
    first, last = old // TILE_WIDTH, (new - 1) // TILE_WIDTH
    for index, entries, tile in _fetch(source, range(first, last + 1), new, parallel):
        width = served_width(0, index, new)
        count = TILE_WIDTH if width is None else width
        start = index * TILE_WIDTH
        where = bundle_path(index, width)
        if isinstance(entries, VerificationError):
            raise MonitorError(f"{url}/{where}: {entries}") from entries
        if len(tile) != count * HASH_SIZE:
            raise MonitorError(
                f"{url}/{tile_path(0, index, width)} holds {len(tile)} bytes, "
                f"not {count * HASH_SIZE} ({count} leaf hashes)"
            )
        skip = max(0, old - start)  # entries of this bundle verified in an earlier round
        for offset in range(skip, count):
            facility = _check_entry(entries[offset], start + offset, facility, url, where)
        leaves = leaf_hashes(entries)
        if mismatch is None and b"".join(leaves) != tile:
            tiled = split_hashes(tile)
            at = next(i for i in range(count) if leaves[i] != tiled[i])
            mismatch = (start + at, where)
        size = _append(nodes, size, leaves[skip:])
    root = fold_right(nodes)
    if root == served.root_hash and mismatch is None:
        return LogState(url, served.origin, new, root, tuple(nodes), note, facility, now())

    # Something does not add up: the served tiles say whether the tree verified before is
    # still the one served (the entries are wrong) or not (the history was rewritten).
    served_old = _served_root(source, old, new, url)
    if served_old != kept.root:
        detail = (
            f"the tree served at size {new} does not hold the tree of size {old} verified "
            "before: entries already in the log were changed"
        )
        return Alarm(
            AlarmKind.REWRITTEN, url, served.origin, kept, served, note, detail, now(), served_old
        )
    if mismatch is not None:
        at, where = mismatch
        leaf = f"leaf hash {at % TILE_WIDTH}"
        if root == served.root_hash and at >= old:
            raise MonitorError(
                f"{url}/{tile_path(0, at // TILE_WIDTH, served_width(0, at // TILE_WIDTH, new))}"
                f": {leaf} is not the hash of entry {at}: the served tiles do not match the "
                "signed tree (inclusion proofs built from them would fail)"
            )
        raise MonitorError(
            f"{url}/{where}: entry {at} does not hash to {leaf} of its level-0 tile: the "
            "served entries are not the ones the log's tree holds"
        )
    raise MonitorError(
        f"the checkpoint at {url} signs root {_b64(served.root_hash)} for size {new}, but the "
        f"served entries give {_b64(root)}: the log does not serve the tree it signed"
    )


def _check_entry(raw: bytes, index: int, facility: str | None, url: str, where: str) -> str:
    """The entry's facility, after checking it is a ledger entry of the log's facility."""
    try:
        entry = Entry.from_bytes(raw)
    except VerificationError as exc:
        raise MonitorError(f"{url}/{where}: entry {index} is not a ledger entry: {exc}") from exc
    if facility is not None and entry.facility != facility:
        raise MonitorError(
            f"{url}/{where}: entry {index} is of facility {entry.facility!r}, the entries "
            f"before it of {facility!r}"
        )
    return entry.facility


def _served_root(source: TileSource, old: int, new: int, url: str) -> bytes:
    """The root at size ``old`` of the tree the served tiles of size ``new`` hold."""
    if old == 0:
        return EMPTY_ROOT
    try:
        return TileHashes(_ServedTiles(source, new), new).range_hash(0, old)
    except VerificationError as exc:
        raise MonitorError(f"the tiles at {url} do not verify: {exc}") from exc


def _append(nodes: list[bytes], size: int, leaves: Sequence[bytes]) -> int:
    """Append leaf hashes to the compact range ``nodes`` of a tree of ``size``; the new size."""
    at = 0
    while at < len(leaves):
        if size % TILE_WIDTH == 0 and len(leaves) - at >= TILE_WIDTH:
            # A whole aligned tile: its root in one go, then one merge per set bit above it.
            size = _push(nodes, size, subtree_root(leaves[at : at + TILE_WIDTH]), TILE_HEIGHT)
            at += TILE_WIDTH
        else:
            size = _push(nodes, size, leaves[at], 0)
            at += 1
    return size


def _push(nodes: list[bytes], size: int, node: bytes, height: int) -> int:
    """Append a perfect subtree of ``2**height`` leaves at ``size`` (a multiple of it)."""
    bit = height
    while size >> bit & 1:
        node = hashlib.sha256(NODE_PREFIX + nodes.pop() + node).digest()
        bit += 1
    nodes.append(node)
    return size + (1 << height)


_Fetched = tuple[int, list[bytes] | VerificationError, bytes]


def _fetch(
    source: TileSource, indices: Iterable[int], size: int, parallel: int
) -> Iterator[_Fetched]:
    """(index, the bundle's entries or why it is malformed, level-0 tile) for each index in
    order, ``parallel`` at a time."""

    def get(index: int) -> _Fetched:
        width = served_width(0, index, size)
        try:
            entries: list[bytes] | VerificationError = source.bundle(index, width)
        except VerificationError as exc:
            entries = exc
        return index, entries, source.tile(0, index, width)

    if parallel <= 1:
        yield from map(get, indices)
        return
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="monitor-fetch")
    try:
        pending: deque[Future[_Fetched]] = deque()
        remaining = iter(indices)
        for index in remaining:
            pending.append(pool.submit(get, index))
            if len(pending) >= 2 * parallel:
                break
        while pending:
            yield pending.popleft().result()
            following = next(remaining, None)
            if following is not None:
                pending.append(pool.submit(get, following))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not base64 text")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{what} is not base64: {exc}") from exc
    if len(data) != HASH_SIZE:
        raise ValueError(f"{what} holds {len(data)} bytes, not a {HASH_SIZE}-byte hash")
    return data


def _time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
