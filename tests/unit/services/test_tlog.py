"""The tile read API's use cases (C2SP tlog-tiles) against the fake unit of work: the published
checkpoint, hash tiles and entry bundles served only as far as it covers, the paths as C2SP
writes them, who may read, and the memory of full tiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import administrator, auditor, bench_operator, security_manager
from tests.unit.services.ledger_seed import SIGNER
from tests.unit.services.security_seed import ORIGIN
from triage.config import Settings
from triage.domain.caller import Caller
from triage.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from triage.ledger.bundle import WIDE_LENGTH_BYTES, parse_entry_bundle
from triage.ledger.entry import Ref
from triage.ledger.log import Log
from triage.ledger.rfc6962 import leaf_hashes
from triage.ledger.tiles import TileKey, encode_tile_index, subtree_root
from triage.services import ledger, tlog
from triage.services.common import make_entry

SYSTEM = Caller.system("unit")
SIZE = 600  # two full tiles and a partial one of 88; level 1 holds 2 hashes


def _grow(factory: FakeUnitOfWorkFactory, count: int, pad: int = 40) -> None:
    """Append ``count`` entries in one unit of work (a use case per entry would take long)."""
    with factory(write=True) as uow:
        start = uow.ledger.log.head().size
        uow.ledger.record(
            [
                make_entry(
                    uow, SYSTEM, "unit.note", Ref("note", str(n)), {"n": n, "pad": "x" * pad}
                )
                for n in range(start, start + count)
            ]
        )
        uow.commit()


def _checkpoint(factory: FakeUnitOfWorkFactory) -> int:
    return ledger.issue_checkpoint(factory, administrator(), ORIGIN, SIGNER).size


@pytest.fixture
def grown(factory: FakeUnitOfWorkFactory) -> FakeUnitOfWorkFactory:
    """A ledger of SIZE entries with a checkpoint of them all."""
    _grow(factory, SIZE)
    assert _checkpoint(factory) == SIZE
    return factory


def _entries(factory: FakeUnitOfWorkFactory, start: int, stop: int) -> list[bytes]:
    return [factory.database.storage.entries[i] for i in range(start, stop)]


def _public() -> FakeUnitOfWorkFactory:
    settings = Settings(data_dir=Path("/fake/data"), database_url="fake://memory", tlog_public=True)
    return FakeUnitOfWorkFactory(settings=settings)


# -- paths as C2SP writes them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "index", "width"),
    [
        ("000", 0, None),
        ("067", 67, None),
        ("x001/x234/067", 1234067, None),  # the spec's example
        ("x001/234.p/5", 1234, 5),
        ("000.p/255", 0, 255),
        ("x999/999.p/1", 999_999, 1),
    ],
)
def test_a_tile_index_is_read_as_c2sp_writes_it(written: str, index: int, width: int) -> None:
    assert tlog.parse_index(written) == (index, width)


@pytest.mark.parametrize("index", [0, 1, 999, 1000, 1234067, 10**12 + 5])
def test_every_index_reads_back_from_its_encoding(index: int) -> None:
    assert tlog.parse_index(encode_tile_index(index)) == (index, None)


@pytest.mark.parametrize(
    ("written", "part"),
    [
        ("0", "index"),  # three digits
        ("1234", "index"),
        ("x000/001", "index"),  # a superfluous leading group
        ("001/002", "index"),  # a group that is not the last lacks its x
        ("x1/000", "index"),
        ("000/", "index"),
        ("", "index"),
        ("000.p", "index"),  # no width after .p
        ("+01", "index"),
        ("000.p/0", "width"),
        ("000.p/256", "width"),
        ("000.p/05", "width"),
        ("000.p/x", "width"),
    ],
)
def test_a_malformed_index_or_width_is_refused_naming_the_part(written: str, part: str) -> None:
    with pytest.raises(tlog.MalformedTilePath, match=f"^{part}: "):
        tlog.parse_index(written)


@pytest.mark.parametrize(("written", "level"), [("0", 0), ("7", 7), ("63", 63)])
def test_a_level_is_0_to_63(written: str, level: int) -> None:
    assert tlog.parse_level(written) == level


@pytest.mark.parametrize("written", ["01", "64", "-1", "entries", "data", "", "1.0"])
def test_a_malformed_level_is_refused_naming_the_level(written: str) -> None:
    with pytest.raises(tlog.MalformedTilePath, match=r"^level: "):
        tlog.parse_level(written)


# -- the checkpoint --------------------------------------------------------------------------------


def test_the_published_checkpoint_is_the_latest_signed_one(factory: FakeUnitOfWorkFactory) -> None:
    _grow(factory, 3)
    with pytest.raises(NotFound, match="no signed checkpoint"):
        tlog.checkpoint(factory, auditor())
    first = ledger.issue_checkpoint(factory, administrator(), ORIGIN, SIGNER)
    assert tlog.checkpoint(factory, auditor()) == first.note
    _grow(factory, 2)
    assert tlog.checkpoint(factory, auditor()) == first.note  # grown, not yet signed
    second = ledger.issue_checkpoint(factory, administrator(), ORIGIN, SIGNER)
    assert tlog.checkpoint(factory, security_manager()) == second.note
    assert second.note.split("\n")[1] == "5"


def test_only_who_may_read_assurance_data_reads_unless_the_facility_made_it_public(
    grown: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied, match=r"assurance\.read"):
        tlog.checkpoint(grown, bench_operator())
    with pytest.raises(PermissionDenied, match=r"assurance\.read"):
        tlog.hash_tile(grown, bench_operator(), 0, 0)
    with pytest.raises(PermissionDenied, match=r"assurance\.read"):
        tlog.entry_bundle(grown, bench_operator(), 0)
    with pytest.raises(Unauthenticated, match="API token"):
        tlog.hash_tile(grown, None, 0, 0)

    public = _public()
    _grow(public, 5)
    _checkpoint(public)
    assert tlog.checkpoint(public, None).split("\n")[1] == "5"
    assert len(tlog.hash_tile(public, None, 0, 0, 5)) == 5 * 32
    assert len(parse_entry_bundle(tlog.entry_bundle(public, bench_operator(), 0, 5))) == 5


# -- hash tiles ------------------------------------------------------------------------------------


def test_full_and_partial_tiles_hold_the_tree_s_hashes(grown: FakeUnitOfWorkFactory) -> None:
    leaves = leaf_hashes(_entries(grown, 0, SIZE))
    assert tlog.hash_tile(grown, auditor(), 0, 0) == b"".join(leaves[:256])
    assert tlog.hash_tile(grown, auditor(), 0, 1) == b"".join(leaves[256:512])
    assert tlog.hash_tile(grown, auditor(), 0, 2, 88) == b"".join(leaves[512:600])
    # Any narrower width the checkpoint covers is the prefix of the stored tile.
    assert tlog.hash_tile(grown, auditor(), 0, 2, 10) == b"".join(leaves[512:522])
    assert tlog.hash_tile(grown, auditor(), 0, 1, 3) == b"".join(leaves[256:259])
    level1 = tlog.hash_tile(grown, auditor(), 1, 0, 2)
    assert level1 == subtree_root(leaves[:256]) + subtree_root(leaves[256:512])
    assert level1[:32] == Log(grown.database.storage).root_at(256)


def test_a_tile_beyond_the_published_checkpoint_is_not_found(
    grown: FakeUnitOfWorkFactory,
) -> None:
    for level, index, width in [(0, 2, None), (0, 2, 89), (0, 3, 1), (1, 0, None), (1, 0, 3)]:
        with pytest.raises(NotFound, match="beyond the published checkpoint"):
            tlog.hash_tile(grown, auditor(), level, index, width)
    _grow(grown, 200)  # stored, but no checkpoint signs it yet
    with pytest.raises(NotFound, match="tree size 600"):
        tlog.hash_tile(grown, auditor(), 0, 2)
    assert _checkpoint(grown) == 800
    leaves = leaf_hashes(_entries(grown, 512, 768))
    assert tlog.hash_tile(grown, auditor(), 0, 2) == b"".join(leaves)


def test_no_tile_is_served_before_the_first_checkpoint(factory: FakeUnitOfWorkFactory) -> None:
    _grow(factory, 300)
    with pytest.raises(NotFound, match="no signed checkpoint"):
        tlog.hash_tile(factory, auditor(), 0, 0)
    with pytest.raises(NotFound, match="no signed checkpoint"):
        tlog.entry_bundle(factory, auditor(), 0, 5)


def test_a_tile_storage_holds_too_little_of_is_an_error_not_a_short_tile(
    grown: FakeUnitOfWorkFactory,
) -> None:
    tiles = grown.database.storage.tiles
    tiles[TileKey(0, 1)] = tiles[TileKey(0, 1)][: 100 * 32]
    with pytest.raises(tlog.Unservable, match=r"tile/0/001: .* covers 256 hashes .* holds 100"):
        tlog.hash_tile(grown, auditor(), 0, 1)
    assert len(tlog.hash_tile(grown, auditor(), 0, 1, 100)) == 100 * 32
    del tiles[TileKey(0, 0)]
    with pytest.raises(tlog.Unservable, match="holds 0"):
        tlog.hash_tile(grown, auditor(), 0, 0, 1)


@pytest.mark.parametrize(
    ("level", "index", "width", "part"),
    [(64, 0, None, "level"), (-1, 0, None, "level"), (0, -1, None, "index"), (0, 0, 0, "width")],
)
def test_numbers_outside_c2sp_s_ranges_are_refused(
    grown: FakeUnitOfWorkFactory, level: int, index: int, width: int | None, part: str
) -> None:
    with pytest.raises(tlog.MalformedTilePath, match=f"^{part}: "):
        tlog.hash_tile(grown, auditor(), level, index, width)
    with pytest.raises(tlog.MalformedTilePath, match=r"^width: "):
        tlog.entry_bundle(grown, auditor(), 0, 256)


def test_full_tiles_are_served_from_memory_once_read(grown: FakeUnitOfWorkFactory) -> None:
    cache = tlog.ServedTiles()
    full = tlog.hash_tile(grown, auditor(), 0, 0, cache=cache)
    partial = tlog.hash_tile(grown, auditor(), 0, 2, 88, cache=cache)
    opened = len(grown.opened)
    # Storage changes behind the server's back: the full tile is answered from memory, with no
    # unit of work opened; a partial one is read again.
    grown.database.storage.tiles[TileKey(0, 0)] = b"\x00" * 8192
    grown.database.storage.tiles[TileKey(0, 2)] = b"\x01" * (88 * 32)
    assert tlog.hash_tile(grown, auditor(), 0, 0, cache=cache) == full
    assert len(grown.opened) == opened
    assert tlog.hash_tile(grown, auditor(), 0, 2, 88, cache=cache) != partial
    # The caller is still checked before memory answers.
    with pytest.raises(PermissionDenied):
        tlog.hash_tile(grown, bench_operator(), 0, 0, cache=cache)


# -- entry bundles ---------------------------------------------------------------------------------


def test_bundles_carry_the_entries_in_c2sp_form(grown: FakeUnitOfWorkFactory) -> None:
    full = tlog.entry_bundle(grown, auditor(), 1)
    assert parse_entry_bundle(full, 256) == _entries(grown, 256, 512)
    assert full[:2] == len(_entries(grown, 256, 257)[0]).to_bytes(2, "big")
    partial = tlog.entry_bundle(grown, auditor(), 2, 88)
    assert parse_entry_bundle(partial, 88) == _entries(grown, 512, 600)
    # Each entry hashes to its leaf in the level-0 tile, as C2SP requires.
    assert b"".join(leaf_hashes(parse_entry_bundle(partial))) == tlog.hash_tile(
        grown, auditor(), 0, 2, 88
    )
    assert parse_entry_bundle(tlog.entry_bundle(grown, auditor(), 2, 7)) == _entries(
        grown, 512, 519
    )


def test_a_bundle_beyond_the_published_checkpoint_is_not_found(
    grown: FakeUnitOfWorkFactory,
) -> None:
    for index, width in [(2, None), (2, 89), (3, 1)]:
        with pytest.raises(NotFound, match="beyond the published checkpoint"):
            tlog.entry_bundle(grown, auditor(), index, width)


def test_an_entry_too_large_for_a_c2sp_bundle_is_named(factory: FakeUnitOfWorkFactory) -> None:
    _grow(factory, 3)
    _grow(factory, 1, pad=70_000)
    _grow(factory, 1)
    _checkpoint(factory)
    with pytest.raises(
        tlog.TooLargeForBundle,
        match=r"entry 3 \(unit\.note\) is 70\d\d\d bytes.*65535.*at tile/entries-u32/000\.p/5",
    ):
        tlog.entry_bundle(factory, auditor(), 0, 5)
    # The wide form carries it: the same five entries, with uint32 lengths.
    wide = tlog.entry_bundle(factory, auditor(), 0, 5, wide=True)
    assert parse_entry_bundle(wide, 5, WIDE_LENGTH_BYTES) == _entries(factory, 0, 5)
    assert parse_entry_bundle(tlog.entry_bundle(factory, auditor(), 0, 3)) == _entries(
        factory, 0, 3
    )


def test_an_entry_missing_from_the_store_is_an_error(grown: FakeUnitOfWorkFactory) -> None:
    del grown.database.storage.entries[300]
    with pytest.raises(tlog.Unservable, match="entry 300 is missing"):
        tlog.entry_bundle(grown, auditor(), 1)
    assert len(parse_entry_bundle(tlog.entry_bundle(grown, auditor(), 1, 44))) == 44


def test_full_bundles_are_served_from_memory_once_read(grown: FakeUnitOfWorkFactory) -> None:
    cache = tlog.ServedTiles()
    full = tlog.entry_bundle(grown, auditor(), 0, cache=cache)
    opened = len(grown.opened)
    del grown.database.storage.entries[0]
    assert tlog.entry_bundle(grown, auditor(), 0, cache=cache) == full
    assert len(grown.opened) == opened
    with pytest.raises(tlog.Unservable):
        tlog.entry_bundle(grown, auditor(), 0, 10, cache=cache)  # partial: read again


# -- the memory of served tiles --------------------------------------------------------------------


def test_served_tiles_keep_at_most_their_bytes_dropping_the_least_recently_used() -> None:
    cache = tlog.ServedTiles(max_bytes=100)
    cache.put("a", b"a" * 40)
    cache.put("b", b"b" * 40)
    assert cache.get("a") == b"a" * 40  # now the most recently used
    cache.put("c", b"c" * 40)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"a" * 40, None, b"c" * 40)
    assert cache.held_bytes == 80
    cache.put("big", b"x" * 101)  # larger than the whole cache: not kept, nothing dropped
    assert cache.get("big") is None and cache.held_bytes == 80
    cache.put("a", b"A" * 10)
    assert cache.get("a") == b"A" * 10 and cache.held_bytes == 50
    cache.clear()
    assert cache.get("c") is None and cache.held_bytes == 0


# -- the setting -----------------------------------------------------------------------------------


def test_the_public_switch_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_TLOG_PUBLIC", raising=False)
    assert Settings.from_env().tlog_public is False
    for on in ("1", "true", "YES", " on "):
        monkeypatch.setenv("TRIAGE_TLOG_PUBLIC", on)
        assert Settings.from_env().tlog_public is True
    for off in ("0", "false", "no", "off", ""):
        monkeypatch.setenv("TRIAGE_TLOG_PUBLIC", off)
        assert Settings.from_env().tlog_public is False
    monkeypatch.setenv("TRIAGE_TLOG_PUBLIC", "maybe")
    with pytest.raises(InvalidInput, match=r"TRIAGE_TLOG_PUBLIC: 1 .* not 'maybe'"):
        Settings.from_env()
    shown = {s.label: (s.value, s.source) for s in _public().settings.read_only()}
    assert shown["Ledger tiles readable without a token"] == (
        "yes",
        "TRIAGE_TLOG_PUBLIC (default no)",
    )
