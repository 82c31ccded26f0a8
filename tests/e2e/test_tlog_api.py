"""The ledger's tile read API (C2SP tlog-tiles) against a real `triage serve`: the paths as the
spec writes them, only what the published checkpoint covers, partial widths, caching headers,
gzip-compressed bundles, a token of who may read assurance data, or none in public mode."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Triage, start_server, stop
from tests.interop.ledger_growth import SYSTEM, grow_and_sign
from triage.ledger.bundle import WIDE_LENGTH_BYTES, parse_entry_bundle
from triage.ledger.checkpoint import Checkpoint, open_checkpoint
from triage.ledger.entry import Ref
from triage.ledger.rfc6962 import leaf_hashes, root_hash
from triage.services.common import make_entry

PREFIX = "/api/v1/ledger/tlog"


@dataclass
class Served:
    triage: Triage
    client: httpx.Client
    vkey: str
    tokens: dict[str, str]
    size: int

    def get(self, path: str, who: str | None = "auditor", **headers: str) -> httpx.Response:
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.get(f"{PREFIX}/{path}", headers=headers)

    def checkpoint(self, who: str | None = "auditor") -> Checkpoint:
        answer = self.get("checkpoint", who)
        assert answer.status_code == 200, answer.text
        return open_checkpoint(answer.text, [self.vkey])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    triage = Triage(tmp_path_factory.mktemp("tlog") / "var")
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin("admin", "Ada Admin")
    triage.register_owner(admin)
    tokens = {
        "admin": admin,
        "auditor": triage.staff(admin, "aud", "auditor"),
        "security": triage.staff(admin, "sam", "security_manager"),
        "bench": triage.staff(admin, "ben", "bench_operator", bench="B1"),
        "owner": triage.staff(admin, "own", "asset_owner", asset_owner="MAP-1"),
    }
    size = grow_and_sign(triage, 600).size
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        yield Served(triage, client, vkey, tokens, size)
    finally:
        client.close()
        stop(server)


def _index(n: int) -> str:
    groups = [f"{n % 1000:03d}"]
    while n >= 1000:
        n //= 1000
        groups.append(f"x{n % 1000:03d}")
    return "/".join(reversed(groups))


def test_the_checkpoint_is_the_latest_signed_note(served: Served) -> None:
    answer = served.get("checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] == "private, max-age=5"
    cp = open_checkpoint(answer.text, [served.vkey])
    assert cp.size == served.size
    listed = served.client.get(
        "/api/v1/ledger", headers={"Authorization": f"Bearer {served.tokens['auditor']}"}
    ).json()
    assert listed["checkpoint"] == answer.text


def test_tiles_and_bundles_rebuild_the_signed_tree(served: Served) -> None:
    cp = served.checkpoint()
    full, width = divmod(cp.size, 256)
    assert full >= 2 and width > 0
    entries: list[bytes] = []
    hashes = b""
    for n in range(full + 1):
        suffix = "" if n < full else f".p/{width}"
        tile = served.get(f"tile/0/{_index(n)}{suffix}")
        bundle = served.get(f"tile/entries/{_index(n)}{suffix}")
        assert (tile.status_code, bundle.status_code) == (200, 200)
        for answer in (tile, bundle):
            assert answer.headers["content-type"] == "application/octet-stream"
            assert answer.headers["cache-control"] == "private, max-age=31536000, immutable"
        found = parse_entry_bundle(bundle.content, 256 if n < full else width)
        assert b"".join(leaf_hashes(found)) == tile.content
        entries += found
        hashes += tile.content
    assert len(entries) == cp.size
    assert root_hash(leaf_hashes(entries)) == cp.root_hash
    # Level 1: the root of each full level-0 tile, partial (the tree has under 65,536 leaves).
    level1 = served.get(f"tile/1/000.p/{full}")
    assert level1.status_code == 200 and len(level1.content) == 32 * full
    assert level1.content[:32] == root_hash([hashes[i : i + 32] for i in range(0, 256 * 32, 32)])


def test_a_narrower_partial_tile_is_a_prefix_of_the_full_one(served: Served) -> None:
    full = served.get("tile/0/000").content
    assert served.get("tile/0/000.p/1").content == full[:32]
    assert served.get("tile/0/000.p/200").content == full[: 200 * 32]
    bundle = parse_entry_bundle(served.get("tile/entries/000").content, 256)
    assert parse_entry_bundle(served.get("tile/entries/000.p/3").content, 3) == bundle[:3]


def test_what_the_checkpoint_does_not_cover_is_not_found(served: Served) -> None:
    full, width = divmod(served.size, 256)
    for path in (
        f"tile/0/{_index(full)}",
        f"tile/0/{_index(full)}.p/{width + 1}",
        f"tile/0/{_index(full + 1)}.p/1",
        f"tile/entries/{_index(full)}",
        "tile/1/000",
        "tile/2/000.p/1",
    ):
        answer = served.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "beyond the published checkpoint" in answer.json()["detail"]
        # Published later under the same path: no cache may keep the refusal.
        assert answer.headers["cache-control"] == "no-store"


def test_a_tile_is_served_once_a_checkpoint_covers_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    triage = Triage(tmp_path_factory.mktemp("grows") / "var")
    triage.run("init")
    admin = triage.first_admin("admin", "Ada Admin")
    first = grow_and_sign(triage, 200).size
    server, client = start_server(triage, "--checkpoint-interval", "0")
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        assert client.get(f"{PREFIX}/tile/0/000", headers=auth).status_code == 404
        assert client.get(f"{PREFIX}/tile/0/000.p/{first}", headers=auth).status_code == 200
        second = grow_and_sign(triage, 300).size
        assert second >= 256
        tile = client.get(f"{PREFIX}/tile/0/000", headers=auth)
        assert tile.status_code == 200 and len(tile.content) == 8192
        cp = client.get(f"{PREFIX}/checkpoint", headers=auth).text
        assert cp.split("\n")[1] == str(second)
    finally:
        client.close()
        stop(server)


def test_an_entry_too_large_for_a_c2sp_bundle_is_named_and_served_wide(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """C2SP bundles carry uint16 lengths; the ledger holds larger entries (a dispatch note of
    hundreds of devices): the C2SP form of such a bundle answers 501 naming the entry and the
    wide form (uint32 lengths) beside it, never a bundle cut short; and the monitor follows
    the log through it."""
    triage = Triage(tmp_path_factory.mktemp("large") / "var")
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin("admin", "Ada Admin")
    with triage.opened() as app, app.uow(write=True) as uow:
        big = make_entry(uow, SYSTEM, "test.large", Ref("test", "1"), {"pad": "x" * 70_000})
        index = uow.ledger.record([big])
        uow.commit()
    size = grow_and_sign(triage, index + 2).size
    server, client = start_server(triage, "--checkpoint-interval", "0")
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        answer = client.get(f"{PREFIX}/tile/entries/000.p/{size}", headers=auth)
        assert answer.status_code == 501, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        detail = answer.json()["detail"]
        assert f"entry {index} (test.large) is 70" in detail and "65535" in detail, detail
        assert f"tile/entries-u32/000.p/{size}" in detail, detail
        wide = client.get(f"{PREFIX}/tile/entries-u32/000.p/{size}", headers=auth)
        assert wide.status_code == 200, wide.text
        entries = parse_entry_bundle(wide.content, size, WIDE_LENGTH_BYTES)
        assert len(entries[index]) > 70_000 and b"test.large" in entries[index]
        fits = client.get(f"{PREFIX}/tile/entries/000.p/{index}", headers=auth)
        assert len(parse_entry_bundle(fits.content, index)) == index
        assert client.get(f"{PREFIX}/tile/0/000.p/{size}", headers=auth).status_code == 200
        url = str(client.base_url).rstrip("/") + PREFIX
        followed = triage.run(
            "witness", "follow", url, "--key", vkey, "--token", admin,
            "--state", str(tmp_path / "monitor"), "--json",
        )  # fmt: skip
        assert json.loads(followed.stdout)["to_size"] == size, followed.stdout
    finally:
        client.close()
        stop(server)


def test_bundles_are_gzip_compressed_when_the_client_accepts_it(served: Served) -> None:
    plain = served.get("tile/entries/000", **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    for accepted in ("gzip", "gzip, identity", "br;q=1.0, gzip;q=0.5", "*"):
        with served.client.stream(
            "GET",
            f"{PREFIX}/tile/entries/000",
            headers={
                "Authorization": f"Bearer {served.tokens['auditor']}",
                "Accept-Encoding": accepted,
            },
        ) as answer:
            raw = b"".join(answer.iter_raw())
        assert answer.headers["content-encoding"] == "gzip", accepted
        assert gzip.decompress(raw) == plain.content
        assert len(raw) < len(plain.content)
    refused = served.get("tile/entries/000", **{"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    # Hash tiles are random bytes: nothing to gain from compressing them.
    tile = served.get("tile/0/000", **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tile.headers


@pytest.mark.parametrize(
    ("path", "part"),
    [
        ("tile/01/000", "level"),
        ("tile/64/000", "level"),
        ("tile/data/000", "level"),
        ("tile/0/0", "index"),
        ("tile/0/x000/001", "index"),
        ("tile/0/001/002", "index"),
        ("tile/0/000/", "index"),
        ("tile/0/", "index"),
        ("tile/entries/1", "index"),
        ("tile/entries/", "index"),
        ("tile/0/000.p/0", "width"),
        ("tile/0/000.p/256", "width"),
        ("tile/entries/000.p/07", "width"),
    ],
)
def test_a_malformed_path_is_refused_naming_its_part(served: Served, path: str, part: str) -> None:
    answer = served.get(path)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith(f"{part}: ")


@pytest.mark.parametrize("path", ["tiles/0/000", "tile", "checkpoints", "entries/000"])
def test_a_path_outside_the_api_is_not_found(served: Served, path: str) -> None:
    assert served.get(path).status_code == 404


def test_a_token_of_who_may_read_assurance_data_is_needed(served: Served) -> None:
    for path in ("checkpoint", "tile/0/000", "tile/entries/000"):
        nobody = served.get(path, None)
        assert nobody.status_code == 401, path
        assert nobody.headers["www-authenticate"] == "Bearer"
        for who in ("owner", "bench"):
            refused = served.get(path, who)
            assert refused.status_code == 403, (path, who)
            assert "assurance.read" in refused.json()["detail"]
        for who in ("auditor", "security", "admin"):
            assert served.get(path, who).status_code == 200, (path, who)
    spec = served.client.get("/api/v1/openapi.json").json()["paths"]
    assert spec[f"{PREFIX}/checkpoint"]["get"]["x-access"] == "assurance.read"
    assert spec[f"{PREFIX}/tile/{{level}}/{{index}}"]["get"]["x-access"] == "assurance.read"


def test_in_public_mode_anyone_reads_without_a_token(served: Served) -> None:
    served.triage.env["TRIAGE_TLOG_PUBLIC"] = "1"
    try:
        server, client = start_server(served.triage, "--checkpoint-interval", "0")
    finally:
        del served.triage.env["TRIAGE_TLOG_PUBLIC"]
    try:
        checkpoint = client.get(f"{PREFIX}/checkpoint")
        assert checkpoint.status_code == 200
        assert checkpoint.headers["cache-control"] == "public, max-age=5"
        assert open_checkpoint(checkpoint.text, [served.vkey]).size == served.size
        tile = client.get(f"{PREFIX}/tile/0/000")
        assert tile.status_code == 200
        assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert tile.content == served.get("tile/0/000").content
        # An asset owner's person, refused the tiles behind a token, reads them like anyone.
        owner = {"Authorization": f"Bearer {served.tokens['owner']}"}
        assert client.get(f"{PREFIX}/tile/entries/000", headers=owner).status_code == 200
        # The rest of the API still needs its token.
        assert client.get("/api/v1/ledger").status_code == 401
        spec = client.get("/api/v1/openapi.json").json()["paths"]
        for path in ("checkpoint", "tile/entries/{index}", "tile/{level}/{index}"):
            operation = spec[f"{PREFIX}/{path}"]["get"]
            assert operation["x-access"] == "public", path
            assert "401" not in operation["responses"], path
    finally:
        client.close()
        stop(server)
