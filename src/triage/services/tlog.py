"""The ledger's C2SP tlog-tiles read API: what a monitor, a witness or Go's tlog package reads.

Three resources (https://c2sp.org/tlog-tiles): the published checkpoint, hash tiles
(``tile/<L>/<N>[.p/<W>]``) and entry bundles (``tile/entries/<N>[.p/<W>]``). Only what the
published checkpoint covers is served: a client may only ask for a tile a checkpoint it verified
requires, and a tile beyond it would show entries no checkpoint has signed yet.

Full tiles and full bundles never change, so they are kept in memory once served
(``ServedTiles``); a partial tile of width W is the first W hashes of the stored tile, which
only grows, so any width the checkpoint covers can be cut from what is stored today.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.errors import (
    InfrastructureFailure,
    NotFound,
    NotRepresentable,
    TriageError,
    Unauthenticated,
    VerificationError,
)
from triage.ledger import note
from triage.ledger.bundle import (
    BUNDLE_SIZE,
    MAX_SPEC_ENTRY_BYTES,
    SPEC_LENGTH_BYTES,
    WIDE_LENGTH_BYTES,
    format_entry_bundle,
)
from triage.ledger.checkpoint import parse_checkpoint
from triage.ledger.entry import Entry
from triage.ledger.rfc6962 import HASH_SIZE
from triage.ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TileKey, encode_tile_index
from triage.services import witnessing
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

MAX_LEVEL = 63  # C2SP: a tile level is 0 to 63
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


class MalformedTilePath(TriageError):
    """A tile path that is not written as C2SP tlog-tiles says; the message names the part
    (level, index or width) first."""

    title = "Malformed tile path"


class TooLargeForBundle(NotRepresentable):
    """An entry bundle holding an entry over 64 KiB, which the C2SP form (uint16 lengths)
    cannot carry: the message names the entry and the wide form's path."""

    title = "Entry too large for a C2SP entry bundle"


class Unservable(InfrastructureFailure):
    """The published checkpoint covers a tile or bundle that cannot be served: storage lacks
    it (a damaged ledger), or an entry is too large for a C2SP entry bundle."""

    title = "Cannot serve this tile"


@dataclass(frozen=True)
class TilePath:
    """A parsed tile path: ``level`` None for an entry bundle, ``width`` None for a full tile."""

    level: int | None
    index: int
    width: int | None

    def __str__(self) -> str:
        level = "entries" if self.level is None else str(self.level)
        suffix = "" if self.width is None else f".p/{self.width}"
        return f"tile/{level}/{encode_tile_index(self.index)}{suffix}"


_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_GROUP = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")


def parse_level(text: str) -> int:
    """A tile level as C2SP writes it: 0 to 63, no leading zeros; MalformedTilePath if not."""
    if not _LEVEL.fullmatch(text) or int(text) > MAX_LEVEL:
        raise MalformedTilePath(
            f"level: {text[:20]!r} is not a tile level: 0 to {MAX_LEVEL} without leading zeros "
            "(or 'entries' for an entry bundle)"
        )
    return int(text)


def parse_index(text: str) -> tuple[int, int | None]:
    """(index, width) from the rest of a tile path, such as ``x001/234`` or ``x001/234.p/5``
    (width None: a full tile); MalformedTilePath naming the index or the width if it is not
    written as C2SP says."""
    parts = text.split("/")
    width: int | None = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        written = parts.pop()
        if not _WIDTH.fullmatch(written) or int(written) >= TILE_WIDTH:
            raise MalformedTilePath(
                f"width: {written[:20]!r} is not a partial tile's width: 1 to {TILE_WIDTH - 1} "
                "without leading zeros"
            )
        width = int(written)
        parts[-1] = parts[-1].removesuffix(".p")
    *groups, last = parts
    well_formed = all(_GROUP.fullmatch(g) for g in groups) and _LAST.fullmatch(last)
    # The shortest encoding only: x000/001 is 001 written with a superfluous group.
    if not well_formed or (groups and groups[0] == "x000"):
        raise MalformedTilePath(
            f"index: {text[:60]!r} is not a tile index: three-digit groups, all but the last "
            "starting with 'x', no leading x000 (1234067 is x001/x234/067)"
        )
    index = 0
    for group in [*(g[1:] for g in groups), last]:
        index = index * 1000 + int(group)
    return index, width


class ServedTiles:
    """Full tiles and full bundles as served, which never change: repeated requests are
    answered from memory, not the database. Bounded in bytes, least recently used dropped
    first; thread-safe (the server answers requests on several threads)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """What was kept under ``key``, if it is still held."""
        with self._lock:
            data = self._held.get(key)
            if data is not None:
                self._held.move_to_end(key)
            return data

    def put(self, key: Hashable, data: bytes) -> None:
        """Keep ``data`` under ``key`` (something larger than the whole cache is not kept)."""
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._held.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._held[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes:
                _, dropped = self._held.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        """Forget everything held."""
        with self._lock:
            self._held.clear()
            self._bytes = 0

    @property
    def held_bytes(self) -> int:
        """How many bytes are held now."""
        return self._bytes


def checkpoint(uow_factory: UnitOfWorkFactory, caller: Caller | None) -> str:
    """The published checkpoint: the latest signed one, with the cosignatures gathered for it.

    ``caller`` None: nobody signed in (allowed only when the facility made the API public).
    """
    _check_reader(uow_factory, caller)
    with uow_factory(write=False) as uow:
        published = witnessing.published_checkpoint(uow)
    if published is None:
        raise NotFound("the ledger has no signed checkpoint yet: nothing is published")
    return published


def hash_tile(
    uow_factory: UnitOfWorkFactory,
    caller: Caller | None,
    level: int,
    index: int,
    width: int | None = None,
    cache: ServedTiles | None = None,
) -> bytes:
    """Hash tile ``level``/``index`` (``width`` hashes of it for a partial tile, None for all
    256), when the published checkpoint covers it; NotFound beyond it."""
    _check_reader(uow_factory, caller)
    path = _checked(TilePath(level, index, width))
    key = ("tile", level, index)
    if width is None and cache is not None and (kept := cache.get(key)) is not None:
        return kept
    count = TILE_WIDTH if width is None else width
    with uow_factory(write=False) as uow:
        _require_covered(uow, path, level)
        data = uow.ledger.storage.read_tiles([TileKey(level, index)]).get(TileKey(level, index))
    if data is None or len(data) < count * HASH_SIZE:
        held = 0 if data is None else len(data) // HASH_SIZE
        raise Unservable(
            f"{path}: the published checkpoint covers {count} hashes of this tile but storage "
            f"holds {held}: the ledger is damaged; run 'triage ledger verify'"
        )
    tile = data[: count * HASH_SIZE]
    if width is None and cache is not None:
        cache.put(key, tile)
    return tile


def entry_bundle(
    uow_factory: UnitOfWorkFactory,
    caller: Caller | None,
    index: int,
    width: int | None = None,
    cache: ServedTiles | None = None,
    wide: bool = False,
) -> bytes:
    """Entry bundle ``index`` in the C2SP form (each entry behind its uint16 length), ``width``
    entries of it for a partial bundle (None: all 256), when the published checkpoint covers
    it; NotFound beyond it. TooLargeForBundle when an entry is over 64 KiB: ``wide`` gives the
    same bundle with uint32 lengths (``tile/entries-u32/``), which carries any entry."""
    _check_reader(uow_factory, caller)
    path = _checked(TilePath(None, index, width))
    key = ("entries-u32" if wide else "entries", index)
    if width is None and cache is not None and (kept := cache.get(key)) is not None:
        return kept
    start = index * BUNDLE_SIZE
    stop = start + (BUNDLE_SIZE if width is None else width)
    with uow_factory(write=False) as uow:
        _require_covered(uow, path, 0)
        entries = _read_entries(uow, start, stop, path)
    if not wide:
        _refuse_too_large(entries, start, path)
    bundle = format_entry_bundle(entries, WIDE_LENGTH_BYTES if wide else SPEC_LENGTH_BYTES)
    if width is None and cache is not None:
        cache.put(key, bundle)
    return bundle


def _read_entries(uow: UnitOfWork, start: int, stop: int, path: TilePath) -> list[bytes]:
    """Entries ``start`` to ``stop - 1``, every one present.

    Read to the end before anything is refused (at most a bundle's worth), so that the
    storage's cursor is done with inside the unit of work.
    """
    entries: list[bytes] = []
    complete = True
    for batch in uow.ledger.storage.read_entries(start, stop):
        for found, data in batch:
            complete = complete and found == start + len(entries)
            if complete:
                entries.append(bytes(data))
    if len(entries) != stop - start:
        raise Unservable(
            f"{path}: entry {start + len(entries)} is missing from the store though the "
            "published checkpoint covers it: the ledger is damaged; run 'triage ledger verify'"
        )
    return entries


def _refuse_too_large(entries: list[bytes], start: int, path: TilePath) -> None:
    """TooLargeForBundle naming the first entry over 64 KiB, if any."""
    for offset, data in enumerate(entries):
        if len(data) > MAX_SPEC_ENTRY_BYTES:
            wide = str(path).replace("tile/entries/", "tile/entries-u32/", 1)
            raise TooLargeForBundle(
                f"{path}: entry {start + offset} ({_entry_type(data)}) is {len(data)} bytes; "
                f"a C2SP entry bundle carries entries of at most {MAX_SPEC_ENTRY_BYTES} bytes. "
                f"The same bundle with uint32 lengths is at {wide}"
            )


def _entry_type(data: bytes) -> str:
    try:
        return Entry.from_bytes(bytes(data)).type
    except (VerificationError, RecursionError):
        return "an entry that does not parse"


def _check_reader(uow_factory: UnitOfWorkFactory, caller: Caller | None) -> None:
    """Anyone when the facility made the API public; otherwise who may read assurance data."""
    if uow_factory.settings.tlog_public:
        return
    if caller is None:
        raise Unauthenticated(
            "the ledger's tiles are read with an API token ('Authorization: Bearer ...') "
            "of someone who may read assurance data"
        )
    caller.require(Permission.ASSURANCE_READ)


def _checked(path: TilePath) -> TilePath:
    """The path, if its numbers are in the ranges C2SP allows; MalformedTilePath if not."""
    if path.level is not None and not 0 <= path.level <= MAX_LEVEL:
        raise MalformedTilePath(f"level: {path.level} is not a tile level: 0 to {MAX_LEVEL}")
    if path.index < 0:
        raise MalformedTilePath(f"index: {path.index} is negative")
    if path.width is not None and not 1 <= path.width < TILE_WIDTH:
        raise MalformedTilePath(
            f"width: {path.width} is not a partial tile's width: 1 to {TILE_WIDTH - 1}"
        )
    return path


def _require_covered(uow: UnitOfWork, path: TilePath, level: int) -> None:
    """NotFound unless the published checkpoint's tree holds every hash the path names."""
    size = _published_size(uow)
    per_hash = 1 << (TILE_HEIGHT * level)  # leaves under one hash of this level
    first = path.index * TILE_WIDTH * per_hash
    end = first + (TILE_WIDTH if path.width is None else path.width) * per_hash
    if end > size:
        raise NotFound(
            f"{path} is beyond the published checkpoint (tree size {size}): fetch the "
            "checkpoint and only the tiles its size requires"
        )


def _published_size(uow: UnitOfWork) -> int:
    published = witnessing.published_checkpoint(uow)
    if published is None:
        raise NotFound("the ledger has no signed checkpoint yet: no tile is published")
    try:
        text, _ = note.open_note(published)
        return parse_checkpoint(text.decode("utf-8")).size
    except VerificationError as exc:
        raise Unservable(f"the published checkpoint does not parse: {exc}") from exc
