"""An in-memory ``LogStorage``: for tests, tools and offline experiments, not for a facility."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from triage.ledger.log import LogHead, StoredCheckpoint
from triage.ledger.rfc6962 import EMPTY_ROOT
from triage.ledger.tiles import TileKey


class MemoryLogStorage:
    """Entries, tiles, head and checkpoints in dictionaries; the lock is a no-op."""

    def __init__(self) -> None:
        self.head = LogHead(0, EMPTY_ROOT)
        self.entries: dict[int, bytes] = {}
        self.tiles: dict[TileKey, bytes] = {}
        self.checkpoints: dict[int, str] = {}

    def lock_head(self) -> LogHead:
        return self.head

    def read_head(self) -> LogHead:
        return self.head

    def write_head(self, head: LogHead) -> None:
        self.head = head

    def insert_entries(self, first_index: int, entries: Sequence[bytes]) -> None:
        for offset, data in enumerate(entries):
            if first_index + offset in self.entries:
                raise ValueError(f"entry {first_index + offset} already exists")
            self.entries[first_index + offset] = data

    def read_entries(self, start: int, stop: int) -> Iterator[Sequence[tuple[int, bytes]]]:
        found = sorted(i for i in self.entries if start <= i < stop)
        for at in range(0, len(found), 1000):
            yield [(index, self.entries[index]) for index in found[at : at + 1000]]

    def read_bundles(self, first_tile: int, stop_tile: int) -> Iterator[tuple[int, bytes]] | None:
        return None  # entries are kept one by one here

    def read_tiles(self, keys: Collection[TileKey]) -> Mapping[TileKey, bytes]:
        return {key: self.tiles[key] for key in keys if key in self.tiles}

    def iter_tiles(self, level: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
        for key in sorted(k for k in self.tiles if k.level == level and k.index >= start):
            yield key.index, self.tiles[key]

    def write_tiles(self, tiles: Mapping[TileKey, bytes]) -> None:
        self.tiles.update(tiles)

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self.checkpoints.setdefault(checkpoint.size, checkpoint.note)

    def read_checkpoints(self) -> list[StoredCheckpoint]:
        return [StoredCheckpoint(size, self.checkpoints[size]) for size in sorted(self.checkpoints)]
