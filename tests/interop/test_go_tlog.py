"""An independent implementation reads the facility's log: Go's golang.org/x/mod/sumdb/tlog and
sumdb/note (Debian's golang-golang-x-mod-dev) verify the checkpoint, hash tiles and entry
bundles a real `triage serve` publishes per C2SP tlog-tiles, on SQLite and PostgreSQL, and the
consistency of the served tree with an older checkpoint; and refuse it once a stored tile is
changed behind the facility's back (so the check cannot pass vacuously).

The checker is tests/interop/tlog/main.go, built once per session in GOPATH mode. Without Go
the tests fail (they do not skip): `make system-deps` installs it.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy

from tests.e2e.conftest import TEMPLATES, Triage, start_server, stop
from tests.interop.go_tlog import build_checker, run_checker
from tests.interop.ledger_growth import grow_and_sign
from tests.pgserver import PgCluster
from triage.ledger import cosignature
from triage.ledger.tiles import TILE_WIDTH

PREFIX = "/api/v1/ledger/tlog"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go checker, built once per session."""
    return build_checker(tmp_path_factory.mktemp("go"))


@dataclass
class Log:
    triage: Triage
    database_url: str
    vkey: str
    token: str
    old: Path  # an older signed checkpoint, in a file
    old_size: int
    size: int


@pytest.fixture
def log(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Log:
    """A facility whose ledger has two checkpoints, the latest over two full tiles and a
    partial one, and an auditor's token."""
    triage = Triage(tmp_path / "var")
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"gotlog{next(_numbers)}")
        triage.env["TRIAGE_DATABASE_URL"] = url
    else:
        url = f"sqlite:///{triage.data_dir / 'triage.db'}"
    vkey, auditor, old_note, old_size, size = TEMPLATES.copied(triage, "go-tlog", _two_checkpoints)
    assert size // TILE_WIDTH >= 2 and size % TILE_WIDTH, size
    # The older checkpoint as a witness cosigned it: Go's note.Open ignores the line of a key
    # it is not given (C2SP tlog-cosignature, 64-byte signature and 8-byte timestamp).
    witness, _ = cosignature.generate_cosigner_key("witness.example.org")
    body = old_note[: old_note.index("\n\n") + 1]
    line = cosignature.cosign(body, witness, 1_767_225_600)
    old_file = tmp_path / "old-checkpoint"
    old_file.write_text(cosignature.note_with_signatures(old_note, [line]))
    return Log(triage, url, vkey, auditor, old_file, old_size, size)


def _two_checkpoints(triage: Triage) -> tuple[str, str, str, int, int]:
    """A new facility with an auditor, its ledger grown past two full tiles with a checkpoint
    signed at 300 entries and another at the end: its verifier key, the auditor's token, the
    older checkpoint's note and size, and the ledger's size."""
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin("admin", "Ada Admin")
    auditor = triage.staff(admin, "aud", "auditor")
    old = grow_and_sign(triage, 300)
    latest = grow_and_sign(triage, 700)
    return vkey, auditor, old.note, old.size, latest.size


def _check(checker: Path, log: Log, base_url: str) -> subprocess.CompletedProcess[str]:
    return run_checker(checker, f"{base_url}{PREFIX}", log.vkey, log.token, log.old, proofs=8)


@contextmanager
def _served(log: Log) -> Iterator[str]:
    """A fresh `triage serve` of the facility (nothing in its memory yet): its base URL."""
    server, client = start_server(log.triage, "--checkpoint-interval", "0")
    try:
        yield str(client.base_url).rstrip("/")
    finally:
        client.close()
        stop(server)


def test_go_verifies_the_served_tiles_against_the_served_checkpoint(
    checker: Path, log: Log
) -> None:
    with _served(log) as base:
        checked = _check(checker, log, base)
    assert checked.returncode == 0, checked.stderr
    out = checked.stdout
    full, width = divmod(log.size, TILE_WIDTH)
    assert f"size {log.size}, signed by" in out
    assert "the tiles give the checkpoint's root" in out
    assert f"entries: {log.size} in {full + 1} bundles" in out
    assert "record proofs: 8 records proved included" in out
    assert f"consistency: size {log.old_size} is a prefix of size {log.size}" in out
    assert width > 0  # the last bundle and level-0 tile were partial ones


def _change_tile(log: Log, level: int, index: int, hash_number: int) -> None:
    """Flip a bit of one hash of a stored tile, behind the facility's back."""
    engine = sqlalchemy.create_engine(log.database_url)
    where = "level = :level AND idx = :idx"
    key = {"level": level, "idx": index}
    try:
        with engine.begin() as conn:
            stored = conn.execute(
                sqlalchemy.text(f"SELECT hashes FROM ledger_tile WHERE {where}"), key
            )
            hashes = bytearray(stored.scalar_one())
            hashes[hash_number * 32] ^= 0x01
            conn.execute(
                sqlalchemy.text(f"UPDATE ledger_tile SET hashes = :hashes WHERE {where}"),
                {**key, "hashes": bytes(hashes)},
            )
    finally:
        engine.dispose()


def test_go_refuses_a_tile_changed_in_the_database(checker: Path, log: Log) -> None:
    _change_tile(log, 0, 1, 5)  # the leaf hash of entry 261
    with _served(log) as base:  # a fresh server: nothing of the tile is in its memory
        checked = _check(checker, log, base)
    assert checked.returncode == 1, checked.stdout
    assert checked.stderr == (
        "FAIL: entry 261 (tile/entries/001): its record hash is not the tile's hash\n"
    )
    assert "the tiles give the checkpoint's root" in checked.stdout

    _change_tile(log, 1, 0, 0)  # the root of entries 0 to 255
    with _served(log) as base:
        checked = _check(checker, log, base)
    assert checked.returncode == 1, checked.stdout
    assert checked.stderr == "FAIL: tree hash from the tiles: downloaded inconsistent tile\n"
    assert "entries:" not in checked.stdout
