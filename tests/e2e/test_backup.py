"""An operator backs up a running facility with the real `triage` command while work goes on,
and restores it elsewhere: the archive is one consistent state, and the restored facility
verifies and carries on the same ledger."""

from __future__ import annotations

import base64
import itertools
import json
import stat
import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import Triage, start_server, stop
from tests.pgserver import PgCluster
from triage import bootstrap
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.ledger import checkpoint, rfc6962
from triage.ledger.entry import Entry
from triage.services import operators

_numbers = itertools.count()


def _on(backend: str, triage: Triage, request: pytest.FixtureRequest) -> Triage:
    """``triage`` on the backend: SQLite in its data directory, or a new PostgreSQL database."""
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        triage.env["TRIAGE_DATABASE_URL"] = cluster.create_database(f"e2e{next(_numbers)}")
    return triage


def _settings(triage: Triage) -> Settings:
    data_dir = triage.data_dir.resolve()
    url = triage.env.get("TRIAGE_DATABASE_URL") or f"sqlite:///{data_dir / 'triage.db'}"
    return Settings(data_dir, url)


class Writer(threading.Thread):
    """Registers operators one after another, each its own ledger entry, until stopped."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.written = 0
        self.warmed_up = threading.Event()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        app = bootstrap.bootstrap(self.settings)
        try:
            while not self.stopping.is_set():
                operators.create_operator(
                    app.uow,
                    Caller.system("test"),
                    f"w{self.written}",
                    "Writer",
                    frozenset({Role.AUDITOR}),
                )
                self.written += 1
                if self.written == 5:
                    self.warmed_up.set()
        except BaseException as exc:
            self.error = exc
            self.warmed_up.set()
        finally:
            app.close()


def _json(triage: Triage, *args: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(triage.run(*args, "--json").stdout)
    return result


def test_backup_of_a_running_facility_restores_to_the_same_verified_ledger(
    backend: str, triage: Triage, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = _on(backend, triage, request)
    vkey = str(_json(source, "init")["verifier_key"])
    source.env["TRIAGE_TOKEN"] = source.first_admin("ada")
    source.run("ledger", "checkpoint")
    archive = tmp_path / "backups" / "facility.tar"
    archive.parent.mkdir()

    server, client = start_server(source, "--checkpoint-interval", "1")
    writer = Writer(_settings(source))
    try:
        writer.start()
        assert writer.warmed_up.wait(60) and writer.error is None, writer.error
        # Taken while the server signs checkpoints and the writer appends entries.
        backed_up = _json(source, "backup", str(archive))
        written_at_backup = writer.written
    finally:
        writer.stopping.set()
        writer.join(60)
        client.close()
        stop(server)
    assert writer.error is None, writer.error
    assert writer.written >= written_at_backup >= 5

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert sorted(p.name for p in archive.parent.iterdir()) == ["facility.tar"]
    manifest = backed_up["manifest"]
    assert isinstance(manifest, dict)
    size = manifest["ledger"]["size"]
    root = base64.b64decode(manifest["ledger"]["root"])
    old = checkpoint.open_checkpoint(
        manifest["ledger"]["latest_checkpoint"], [vkey], "device-triage.local/demo"
    )

    # The archive is one state of the live ledger: a prefix of it, with its entry after it.
    live = bootstrap.bootstrap(_settings(source))
    try:
        with live.uow(write=False) as uow:
            assert uow.ledger.log.root_at(size) == root
            index = int(str(backed_up["ledger_entry"]))
            entry = Entry.from_bytes(uow.ledger.log.entry(index))
        assert index >= size
        assert entry.type == "system.backup"
        assert entry.data["manifest_sha256"] == backed_up["manifest_sha256"]
    finally:
        live.close()
    assert _json(source, "ledger", "verify")["ok"] is True

    target = _on(backend, Triage(tmp_path / "elsewhere" / "var"), request)
    target.env["TRIAGE_TOKEN"] = source.env["TRIAGE_TOKEN"]
    restored = _json(target, "restore", str(archive))
    assert restored["ok"] is True
    assert (restored["size"], restored["root"]) == (size, manifest["ledger"]["root"])
    assert target.run("keys", "show").stdout.strip() == vkey
    assert _json(target, "ledger", "verify")["ok"] is True
    assert _json(target, "ledger", "replay", "--check")["ok"] is True

    # Work goes on in the restored facility, and its log extends the one backed up.
    target.run("operator", "add", "newcomer", "--name", "Newcomer", "--role", "auditor")
    new = checkpoint.open_checkpoint(
        str(_json(target, "ledger", "checkpoint")["checkpoint"]),
        [vkey],
        "device-triage.local/demo",
    )
    assert new.size == size + 2  # the restore's own entry, then the new operator
    proof = json.loads(target.run("ledger", "consistency", "--from", str(old.size)).stdout)
    rfc6962.verify_consistency(
        old.size,
        new.size,
        [base64.b64decode(h) for h in proof["proof"]],
        old.root_hash,
        new.root_hash,
    )

    again = target.run("restore", str(archive), check=False)
    assert again.returncode == 2
    assert "is not empty" in again.stderr
    assert _json(target, "ledger", "verify")["size"] == new.size
