"""`triage witness follow`: the monitor follows a log through its tiles, verifies every new entry
and each step's consistency, and says loudly when the log rolls back, forks or rewrites history.

The log is served from memory exactly as the C2SP tlog-tiles paths serve it (hash tiles sliced
to the width the checkpoint's size gives, entry bundles in the spec's form), so every round
here is the one a real server would see.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from triage.entrypoints.cli.witness_follow import follow, run_rounds
from triage.ledger import note
from triage.ledger.bundle import WIDE_LENGTH_BYTES, format_entry_bundle, parse_entry_bundle
from triage.ledger.checkpoint import Checkpoint, sign_checkpoint
from triage.ledger.cosignature import cosign, generate_cosigner_key
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import LedgerStateError
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.policy import Policy, parse_policy
from triage.ledger.tiles import TILE_WIDTH, TileKey
from triage.witness.monitor import (
    HttpTileSource,
    LogState,
    SourceError,
    StateStore,
    bundle_path,
    follow_round,
    served_width,
    tile_path,
)

ORIGIN = "device-triage.local/test"
URL = "http://facility.test/api/v1/ledger/tlog"
AT = datetime(2026, 11, 24, 15, 7, 57, tzinfo=UTC)


def entry(n: int, facility: str = "FAC-1", note_text: str = "") -> bytes:
    """A small ledger entry (cheap enough for logs of 65,536 and more)."""
    data: dict[str, Any] = {"n": n}
    if note_text:
        data["note"] = note_text
    return Entry(
        "device.received", AT, Ref("operator", "ben"), facility, Ref("device", f"D{n}"), data
    ).to_bytes()


@dataclass
class FakeLog:
    """A facility's log in memory, its signing key and the checkpoint it publishes."""

    signer: str
    vkey: str
    storage: MemoryLogStorage = field(default_factory=MemoryLogStorage)

    @property
    def log(self) -> Log:
        return Log(self.storage)

    def grow(self, count: int, make: Callable[[int], bytes] = entry) -> FakeLog:
        size = self.log.head().size
        batch = 10_000
        for start in range(size, size + count, batch):
            self.log.append([make(n) for n in range(start, min(start + batch, size + count))])
        return self

    def checkpoint(self, size: int | None = None) -> str:
        """A signed checkpoint of the log at ``size`` (default: its size now)."""
        head = self.log.head()
        size = head.size if size is None else size
        body = Checkpoint(ORIGIN, size, self.log.root_at(size))
        return sign_checkpoint(body, self.signer)

    def source(self, size: int | None = None, checkpoint: str | None = None) -> MemorySource:
        size = self.log.head().size if size is None else size
        return MemorySource(self.storage, size, checkpoint or self.checkpoint(size))


def new_log(signer: str | None = None) -> FakeLog:
    if signer is None:
        signer, vkey = note.generate_key(ORIGIN)
    else:
        vkey = note.verifier_key_from_signer(signer)
    return FakeLog(signer, vkey)


class MemorySource:
    """A log's tile read API from memory, serving what a checkpoint of ``size`` covers only
    (anything else is a 404, as the server answers), and counting what it was asked."""

    def __init__(self, storage: MemoryLogStorage, size: int, checkpoint: str) -> None:
        self.storage = storage
        self.size = size
        self.note = checkpoint
        self.bundles: list[int] = []
        self.tiles: list[tuple[int, int]] = []
        self.entry_override: dict[int, bytes] = {}
        self.tile_override: dict[tuple[int, int], bytes] = {}

    def checkpoint(self) -> bytes:
        return self.note.encode("utf-8")

    def tile(self, level: int, index: int, width: int | None) -> bytes:
        self._served(level, index, width, tile_path(level, index, width))
        self.tiles.append((level, index))
        if (level, index) in self.tile_override:
            return self.tile_override[(level, index)]
        data = self.storage.tiles[TileKey(level, index)]
        return data[: (width or TILE_WIDTH) * 32]

    def bundle(self, index: int, width: int | None) -> list[bytes]:
        self._served(0, index, width, bundle_path(index, width))
        self.bundles.append(index)
        start = index * TILE_WIDTH
        entries = [
            self.entry_override.get(n, self.storage.entries[n])
            for n in range(start, start + (width or TILE_WIDTH))
        ]
        # As the HTTP source reads them: through the C2SP form.
        return parse_entry_bundle(format_entry_bundle(entries), width or TILE_WIDTH)

    def _served(self, level: int, index: int, width: int | None, path: str) -> None:
        try:
            expected = served_width(level, index, self.size)
        except LedgerStateError:
            expected = -1  # a tile this size does not have
        if expected != width:
            raise SourceError(f"{URL}/{path} is not served (404)")


class Dead:
    """A source that is never reachable."""

    def checkpoint(self) -> bytes:
        raise SourceError(f"cannot read {URL}/checkpoint after 3 attempts: refused")

    def tile(self, level: int, index: int, width: int | None) -> bytes:
        raise AssertionError("not asked")

    def bundle(self, index: int, width: int | None) -> list[bytes]:
        raise AssertionError("not asked")


def run(
    source: Any,
    store: StateStore,
    key: str,
    policy: Policy | None = None,
    as_json: bool = False,
) -> int:
    return run_rounds(source, store, URL, key, policy, None, None, as_json)


def state_file(store: StateStore) -> Path:
    return store.log_dir(ORIGIN) / "state.json"


def kept(store: StateStore, key: str) -> LogState:
    found = store.load(ORIGIN, key)
    assert found is not None
    return found


# -- following


def test_a_first_follow_verifies_the_log_from_the_empty_tree_and_keeps_its_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(300)
    store = StateStore(tmp_path / "monitor")
    source = facility.source()

    assert run(source, store, facility.vkey) == 0

    out = capsys.readouterr().out
    assert f"ok: {ORIGIN} from size 0 to 300: 300 entries verified" in out
    state = kept(store, facility.vkey)
    assert (state.size, state.root) == (300, facility.log.root_at(300))
    assert state.checkpoint == source.note
    assert len(state.nodes) == 4  # 300 = 256 + 32 + 8 + 4: a subtree root per set bit
    assert (store.log_dir(ORIGIN) / "checkpoint").read_text() == source.note
    assert source.bundles == [0, 1]
    assert state.facility == "FAC-1"


def test_a_round_with_nothing_new_reads_no_entry(tmp_path: Path) -> None:
    facility = new_log().grow(40)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    again = facility.source()

    report = follow_round(again, store, URL, facility.vkey)

    assert (report.old_size, report.new_size, report.entries_verified) == (40, 40, 0)
    assert again.bundles == [] and again.tiles == []
    assert report.summary() == f"ok: {ORIGIN} unchanged at size 40"


@pytest.mark.parametrize(
    "steps",
    [
        (255, 256, 257),
        (1, 255, 511, 512, 513),
        (256, 65_536, 65_537, 65_536 + 256 * 3 + 7),
    ],
)
def test_growth_across_tile_boundaries_is_verified_without_re_reading_old_entries(
    tmp_path: Path, steps: tuple[int, ...]
) -> None:
    facility = new_log()
    store = StateStore(tmp_path)
    before = 0
    for size in steps:
        facility.grow(size - before)
        source = facility.source()

        report = follow_round(source, store, URL, facility.vkey)

        assert (report.old_size, report.new_size) == (before, size)
        assert report.entries_verified == size - before
        state = kept(store, facility.vkey)
        assert (state.size, state.root) == (size, facility.log.root_at(size))
        assert len(state.nodes) == size.bit_count()  # O(log n): one root per set bit
        # Only the bundles holding new entries were read: the first may be the rest of a
        # partial one, the last a partial one at the checkpoint's width.
        assert source.bundles == list(range(before // TILE_WIDTH, (size - 1) // TILE_WIDTH + 1))
        before = size


def test_the_state_is_a_compact_range_that_later_rounds_extend(tmp_path: Path) -> None:
    facility = new_log().grow(1000)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    saved = json.loads(state_file(store).read_text())
    assert saved["size"] == 1000
    assert len(saved["range"]) == bin(1000).count("1")

    facility.grow(3)
    assert run(facility.source(), store, facility.vkey) == 0
    assert kept(store, facility.vkey).root == facility.log.root_at(1003)


def test_json_output_names_the_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facility = new_log().grow(5)
    assert run(facility.source(), StateStore(tmp_path), facility.vkey, as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["ok"] is True
    assert (printed["from_size"], printed["to_size"], printed["entries_verified"]) == (0, 5, 5)
    assert printed["origin"] == ORIGIN
    assert printed["witnesses"] is None


def test_interval_rounds_follow_a_growing_log(tmp_path: Path) -> None:
    facility = new_log().grow(10)
    store = StateStore(tmp_path)
    sizes = iter([10, 20, 30])
    sources: list[MemorySource] = []

    class Growing:
        def __getattr__(self, name: str) -> Any:
            return getattr(sources[-1], name)

    def next_round(_seconds: float) -> None:
        size = next(sizes)
        facility.grow(size - facility.log.head().size)
        sources.append(facility.source())

    next_round(0)
    code = run_rounds(Growing(), store, URL, facility.vkey, None, 5.0, 3, False, next_round)

    assert code == 0
    assert kept(store, facility.vkey).size == 30


# -- misbehaviour


def alarm_files(store: StateStore) -> list[Path]:
    return sorted((store.log_dir(ORIGIN) / "evidence").glob("*.json"))


def test_a_rollback_is_reported_loudly_with_evidence_and_the_state_is_not_advanced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(300)
    store = StateStore(tmp_path / "monitor")
    assert run(facility.source(), store, facility.vkey) == 0
    capsys.readouterr()
    before = state_file(store).read_bytes()
    kept_note = kept(store, facility.vkey).checkpoint
    rolled_back = facility.source(size=200)

    assert run(rolled_back, store, facility.vkey) == 2

    err = capsys.readouterr().err
    assert f"ROLLBACK DETECTED in the log {ORIGIN} at {URL}" in err
    assert "size 300" in err and "size 200" in err
    assert kept(store, facility.vkey).checkpoint.split("\n")[2] in err  # the kept root
    assert state_file(store).read_bytes() == before
    [evidence] = alarm_files(store)
    found = json.loads(evidence.read_text())
    assert found["alarm"] == "ROLLBACK"
    assert found["kept"]["checkpoint"] == kept_note
    assert found["served"]["checkpoint"] == rolled_back.note
    assert (found["kept"]["size"], found["served"]["size"]) == (300, 200)
    assert str(evidence) in err
    assert f"delete {store.log_dir(ORIGIN)}" in err


def test_a_misbehaviour_is_said_again_until_the_auditor_starts_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(20)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    assert run(facility.source(size=10), store, facility.vkey) == 2
    capsys.readouterr()

    # The log serves its good history again, or cannot be reached: still not resolved.
    assert run(facility.source(), store, facility.vkey) == 2
    assert "ROLLBACK DETECTED" in capsys.readouterr().err
    assert run(Dead(), store, facility.vkey) == 2
    assert "not resolved since" in capsys.readouterr().err
    assert len(alarm_files(store)) == 1

    # Starting over: the state directory deleted, the log is followed from the start again.
    for path in sorted(store.log_dir(ORIGIN).rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    assert run(facility.source(), store, facility.vkey) == 0


def test_a_fork_at_the_same_size_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(50)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    before = state_file(store).read_bytes()
    # Another history of the same size, signed with the same key.
    other = new_log(facility.signer).grow(50, lambda n: entry(n, note_text="other"))

    assert run(other.source(), store, facility.vkey) == 2

    err = capsys.readouterr().err
    assert f"FORK DETECTED in the log {ORIGIN}" in err
    assert "two checkpoints of size 50 sign different roots" in err
    assert state_file(store).read_bytes() == before
    [evidence] = alarm_files(store)
    assert json.loads(evidence.read_text())["served"]["checkpoint"] == other.checkpoint()


def test_a_history_rewritten_at_a_bigger_size_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(300)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    before = state_file(store).read_bytes()
    # The same log with entry 7 changed, grown on, re-signed with the facility's key: its
    # tiles, bundles and checkpoint all agree with one another.
    rewritten = new_log(facility.signer).grow(
        700, lambda n: entry(n, note_text="changed") if n == 7 else entry(n)
    )

    assert run(rewritten.source(), store, facility.vkey) == 2

    err = capsys.readouterr().err
    assert f"REWRITTEN HISTORY DETECTED in the log {ORIGIN}" in err
    assert "size 300" in err and "size 700" in err
    assert state_file(store).read_bytes() == before
    [evidence] = alarm_files(store)
    found = json.loads(evidence.read_text())
    assert found["alarm"] == "REWRITTEN HISTORY"
    assert found["served_root_at_kept_size"] != found["kept"]["root"]
    assert found["served"]["checkpoint"] == rewritten.checkpoint()


# -- failures


def test_a_bundle_whose_entry_does_not_match_its_tile_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(100)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    before = state_file(store).read_bytes()
    facility.grow(500)
    source = facility.source()
    source.entry_override[300] = entry(300, note_text="not what was logged")

    assert run(source, store, facility.vkey) == 1

    err = capsys.readouterr().err
    assert f"{URL}/tile/entries/001: entry 300 does not hash to leaf hash 44" in err
    assert "REWRITTEN" not in err
    assert state_file(store).read_bytes() == before
    assert alarm_files(store) == []


def test_an_entry_verified_before_served_otherwise_is_a_bad_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(100)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    facility.grow(10)
    source = facility.source()
    # Entry 5 is in the partial bundle the next round reads the rest of.
    source.entry_override[5] = entry(5, note_text="changed")

    assert run(source, store, facility.vkey) == 1
    assert "entry 5 does not hash to leaf hash 5" in capsys.readouterr().err


def test_a_tile_that_does_not_hold_the_entries_hashes_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(256)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    facility.grow(20)
    source = facility.source()
    tile = bytearray(facility.storage.tiles[TileKey(0, 1)][: 20 * 32])
    tile[3 * 32] ^= 1
    source.tile_override[(0, 1)] = bytes(tile)

    assert run(source, store, facility.vkey) == 1
    err = capsys.readouterr().err
    assert "tile/0/001.p/20: leaf hash 3 is not the hash of entry 259" in err


def test_an_entry_that_is_not_a_ledger_entry_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(3).grow(1, lambda n: b'{"not": "an entry"}')

    assert run(facility.source(), StateStore(tmp_path), facility.vkey) == 1
    assert "entry 3 is not a ledger entry" in capsys.readouterr().err


def test_an_entry_of_another_facility_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(3).grow(1, lambda n: entry(n, facility="FAC-2"))

    assert run(facility.source(), StateStore(tmp_path), facility.vkey) == 1
    assert "entry 3 is of facility 'FAC-2'" in capsys.readouterr().err


def test_a_checkpoint_not_signed_by_the_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(10)
    impostor = new_log().grow(10)  # a key of the same name, not the facility's
    store = StateStore(tmp_path)

    assert run(impostor.source(), store, facility.vkey) == 1

    assert "does not verify with --key" in capsys.readouterr().err
    assert not state_file(store).exists()


def test_a_checkpoint_with_a_broken_signature_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(10)
    text, _, signature = facility.checkpoint().rpartition(" ")
    # A character of the signature proper, after the key hash (the first 4 bytes).
    flipped = "A" if signature[20] != "A" else "B"
    broken = f"{text} {signature[:20]}{flipped}{signature[21:]}"

    assert run(facility.source(checkpoint=broken), StateStore(tmp_path), facility.vkey) == 1
    assert "bad signature" in capsys.readouterr().err


def test_an_unreachable_log_is_a_failure_not_a_misbehaviour(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(Dead(), StateStore(tmp_path), new_log().vkey) == 1
    assert f"cannot read {URL}/checkpoint" in capsys.readouterr().err


def test_an_edited_state_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facility = new_log().grow(10)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    saved = json.loads(state_file(store).read_text())
    saved["range"][0] = base64.b64encode(bytes(32)).decode()
    state_file(store).write_text(json.dumps(saved))

    assert run(facility.source(), store, facility.vkey) == 1
    assert "does not verify (the compact range does not hash to the root)" in (
        capsys.readouterr().err
    )


# -- witnesses


def witnessed(facility: FakeLog, signers: list[str]) -> str:
    checkpoint = facility.checkpoint()
    body = checkpoint.split("\n\n")[0] + "\n"
    lines = [cosign(body, signer, 1_700_000_000) for signer in signers]
    return checkpoint + "".join(lines)


def two_witnesses() -> tuple[list[str], Policy]:
    (s1, v1), (s2, v2) = generate_cosigner_key("w1.test"), generate_cosigner_key("w2.test")
    policy = parse_policy(f"witness w1 {v1}\nwitness w2 {v2}\ngroup both 2 w1 w2\nquorum both\n")
    return [s1, s2], policy


def test_a_checkpoint_below_the_policys_quorum_is_reported_and_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(10)
    signers, policy = two_witnesses()
    store = StateStore(tmp_path)
    source = facility.source(checkpoint=witnessed(facility, signers[:1]))

    assert run(source, store, facility.vkey, policy) == 1

    err = capsys.readouterr().err
    assert "is not witnessed as the policy needs" in err
    assert "cosigned by w1: not met" in err
    assert not state_file(store).exists()


def test_a_checkpoint_with_a_quorum_is_followed_and_its_witnesses_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(10)
    signers, policy = two_witnesses()
    store = StateStore(tmp_path)
    cosigned = witnessed(facility, signers)

    assert run(facility.source(checkpoint=cosigned), store, facility.vkey, policy) == 0

    out = capsys.readouterr().out
    assert "10 entries verified; witnesses: quorum both: 2 of (w1, w2)" in out
    assert "cosigned by w1, w2: met" in out
    assert kept(store, facility.vkey).checkpoint == cosigned


def test_a_rollback_is_reported_even_when_the_witnesses_refused_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = new_log().grow(10)
    signers, policy = two_witnesses()
    store = StateStore(tmp_path)
    assert run(facility.source(checkpoint=witnessed(facility, signers)), store, facility.vkey) == 0

    assert run(facility.source(size=5), store, facility.vkey, policy) == 2
    assert "ROLLBACK DETECTED" in capsys.readouterr().err


# -- the HTTP source


def test_the_http_source_reads_the_spec_paths_with_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "/entries/" in request.url.path:
            return httpx.Response(200, content=format_entry_bundle([b"e"] * TILE_WIDTH))
        return httpx.Response(200, content=b"x" * 32)

    with HttpTileSource(URL + "/", "tok", transport=httpx.MockTransport(handler)) as source:
        source.tile(1, 1_234_067, None)
        source.tile(0, 5, 17)
        assert source.bundle(1000, None) == [b"e"] * TILE_WIDTH

    assert [r.url.path for r in seen] == [
        "/api/v1/ledger/tlog/tile/1/x001/x234/067",
        "/api/v1/ledger/tlog/tile/0/005.p/17",
        "/api/v1/ledger/tlog/tile/entries/x001/000",
    ]
    assert {r.headers["Authorization"] for r in seen} == {"Bearer tok"}
    assert "gzip" in seen[0].headers["Accept-Encoding"]


def test_a_bundle_too_large_for_the_c2sp_form_is_read_in_the_wide_form() -> None:
    """A 501 from the C2SP path (an entry over 64 KiB) is not retried: the same bundle is
    read with uint32 lengths from the facility's path beside it."""
    large = b"L" * 70_000
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if "/entries/" in request.url.path:
            return httpx.Response(501, json={"detail": "entry 1 is 70000 bytes"})
        return httpx.Response(200, content=format_entry_bundle([b"a", large], WIDE_LENGTH_BYTES))

    with HttpTileSource(URL, transport=httpx.MockTransport(handler)) as source:
        assert source.bundle(0, 2) == [b"a", large]
    assert seen == [
        "/api/v1/ledger/tlog/tile/entries/000.p/2",
        "/api/v1/ledger/tlog/tile/entries-u32/000.p/2",
    ]


def test_the_http_source_retries_server_errors_and_connection_failures() -> None:
    answers: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: httpx.Response(503, text="busy"),
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
        lambda r: httpx.Response(200, content=b"checkpoint"),
    ]
    waits: list[float] = []
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)(request)

    source = HttpTileSource(URL, transport=httpx.MockTransport(handler), sleep=waits.append)
    assert source.checkpoint() == b"checkpoint"
    assert waits == [0.5, 1.0]  # backing off between attempts
    assert all("Authorization" not in r.headers for r in seen)  # no token: none sent


def test_the_http_source_gives_up_after_its_attempts() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    source = HttpTileSource(URL, transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(SourceError, match=f"cannot read {URL}/checkpoint after 3 attempts"):
        source.checkpoint()


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (401, "refused access (401): no token; pass --token or set TRIAGE_TOKEN"),
        (404, "tile/0/000.p/3 is not served (404)"),
        (418, "answered 418"),
    ],
)
def test_the_http_source_names_a_refusal(status: int, said: str) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={"detail": "no token"})

    source = HttpTileSource(URL, transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError, match=said.replace("(", r"\(").replace(")", r"\)")):
        source.tile(0, 0, 3)
    assert len(calls) == 1  # not retried


def test_the_http_source_refuses_a_response_larger_than_the_resource_can_be() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\0" * (8192 + 1))

    source = HttpTileSource(URL, transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError, match="larger than 8192 bytes"):
        source.tile(0, 0, None)


def test_a_partial_width_outside_1_to_255_is_not_a_path() -> None:
    with pytest.raises(ValueError, match="1 to 255, not 256"):
        tile_path(0, 0, 256)


def test_served_widths_follow_the_spec_example() -> None:
    # A tree of 70,000: 273 full level-0 tiles and a partial one of 112; one full level-1
    # tile and a partial one of 17; a partial level-2 tile of 1.
    assert served_width(0, 272, 70_000) is None
    assert served_width(0, 273, 70_000) == 112
    assert served_width(1, 0, 70_000) is None
    assert served_width(1, 1, 70_000) == 17
    assert served_width(2, 0, 70_000) == 1


def test_the_state_round_trips(tmp_path: Path) -> None:
    facility = new_log().grow(7)
    store = StateStore(tmp_path)
    assert run(facility.source(), store, facility.vkey) == 0
    state = kept(store, facility.vkey)
    store.save(replace(state, url="http://elsewhere.test/tlog"))
    assert kept(store, facility.vkey).url == "http://elsewhere.test/tlog"


# -- the command's arguments


def follow_command(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command()(follow)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_arguments_that_are_wrong_fail_with_1_never_with_the_alarms_2(tmp_path: Path) -> None:
    vkey = new_log().vkey
    state = str(tmp_path / "monitor")

    code, said = follow_command(URL, "--key", "not-a-key", "--state", state)
    assert (code, "--key: malformed verifier key" in said) == (1, True)

    code, said = follow_command("facility.test/tlog", "--key", vkey, "--state", state)
    assert (code, "must start with http:// or https://" in said) == (1, True)

    missing = str(tmp_path / "no-policy")
    code, said = follow_command(URL, "--key", vkey, "--policy", missing, "--state", state)
    assert (code, f"--policy {missing}" in said) == (1, True)

    bad = tmp_path / "policy"
    bad.write_text("quorum nobody\n")
    code, said = follow_command(URL, "--key", vkey, "--policy", str(bad), "--state", state)
    assert code == 1 and "--policy" in said
    assert not Path(state).exists()
