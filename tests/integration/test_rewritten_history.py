"""Issue 16, attack 5: whoever holds the database but not the key rewrites history.

They change entry 50 and rebuild bundles, tiles and head to match; the facility must then
refuse to sign (on demand, periodically, before an export or a backup), naming entry 50, and
hold writes until an administrator acknowledges it. Deleting or rolling back the stored
checkpoints must make `triage ledger verify` fail: the latest one is kept outside the database.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete, select, text, update
from typer.testing import CliRunner

from tests.integration.conftest import Staffed
from tests.integration.ledger_rows import all_entries, append_test_entries, set_entry, truncate
from triage import bootstrap
from triage.adapters.tables import ledger_checkpoint, ledger_head, ledger_tile
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.entrypoints.cli import app as cli
from triage.errors import TriageError
from triage.ledger import checkpoint
from triage.ledger.entry import Entry
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.services import ledger as ledger_service
from triage.services import operators, tokens

try:
    from triage.errors import IntegrityFailure
except ImportError:  # pragma: no cover - only on the code from before issue 16
    IntegrityFailure = TriageError  # type: ignore[misc,assignment]

try:  # enrolment the way people enrol (issue 16); before it, the host issued tokens
    from tests.people import enrol
except ImportError:  # pragma: no cover - only on the code from before issue 16
    enrol = None  # type: ignore[assignment]

SIGNED = 120  # the last checkpoint signs entries 0..119
FORGED = b'{"forged": "a release that never happened"}'


def _grow_to(app: bootstrap.App, size: int) -> None:
    now = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size
    append_test_entries(app, size - now)


def _token(staffed: Staffed, operator_id: str, role: Role) -> str:
    app = staffed.app
    if enrol is None:  # the code from before issue 16
        operators.create_operator(
            app.uow, staffed.admin, operator_id, operator_id, frozenset({role})
        )
        return tokens.issue_token(app.uow, Caller.system("test"), operator_id).secret
    return enrol(app, staffed.admin, operator_id, [role]).token


def _cli(app: bootstrap.App, token: str, *args: str) -> tuple[int, str]:
    env = {
        "TRIAGE_DATA_DIR": str(app.settings.data_dir),
        "TRIAGE_DATABASE_URL": app.settings.database_url,
        "TRIAGE_TOKEN": token,
    }
    run = CliRunner().invoke(cli, list(args), env=env)
    return run.exit_code, run.output


def _tamper(app: bootstrap.App, conn_action: object) -> None:
    with app.database.engine.begin() as conn:
        if app.database.dialect == "sqlite":
            conn.execute(text("PRAGMA foreign_keys = OFF"))
        conn_action(conn)  # type: ignore[operator]


def rewrite_entry_50(conn: Connection) -> None:
    """Change entry 50 (in its bundle or its row) and rebuild tiles and head to match."""
    size = int(conn.execute(select(ledger_head.c.size)).scalar_one())
    entries = all_entries(conn, size)
    entries[50] = FORGED
    set_entry(conn, 50, FORGED)
    rebuilt = MemoryLogStorage()
    Log(rebuilt).append(entries)
    conn.execute(delete(ledger_tile))
    conn.execute(
        ledger_tile.insert(),
        [
            {"log_id": "demo", "level": k.level, "idx": k.index, "hashes": v}
            for k, v in rebuilt.tiles.items()
        ],
    )
    conn.execute(update(ledger_head).values(size=size, root=rebuilt.head.root))


def _signed_roots(app: bootstrap.App) -> dict[int, bytes]:
    with app.uow(write=False) as uow:
        stored = uow.ledger.storage.read_checkpoints()
    return {
        c.size: checkpoint.open_checkpoint(c.note, [app.verifier_key()], app.origin).root_hash
        for c in stored
    }


# 130 entries: entry 50 is a row of its own; 300: it is inside bundle 0.
@pytest.mark.parametrize("size", [130, 300], ids=["in-a-row", "in-a-bundle"])
def test_a_rewritten_history_is_never_signed(staffed: Staffed, size: int) -> None:
    app = staffed.app
    admin = _token(staffed, "adele", Role.ADMINISTRATOR)
    auditor = _token(staffed, "verity", Role.AUDITOR)
    _grow_to(app, SIGNED)
    code, out = _cli(app, admin, "ledger", "checkpoint")
    assert code == 0, out
    _grow_to(app, size)
    honest = _signed_roots(app)

    _tamper(app, rewrite_entry_50)

    # On demand: refused, naming entry 50; nothing new is signed.
    code, out = _cli(app, admin, "ledger", "checkpoint")
    assert code == 1, out
    assert "first bad index 50" in out
    assert "entry 50 does not hash to the tree the last checkpoint (size 120) signed" in out
    assert _signed_roots(app) == honest

    # The periodic checkpoint `triage serve` runs, and the evidence pack's, refuse too.
    from triage.entrypoints.scheduler import periodic_checkpoint

    with pytest.raises(IntegrityFailure) as refused:
        periodic_checkpoint(app)
    assert refused.value.index == 50
    # A device receipt signs a fresh checkpoint too: refused.
    with pytest.raises(IntegrityFailure):
        ledger_service.issue_checkpoint(
            app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
        )

    # An export is refused rather than made over the rewritten entries.
    export = app.settings.data_dir.parent / "ledger.jsonl"
    code, out = _cli(app, auditor, "ledger", "export", str(export))
    assert code == 1, out
    assert "first bad index 50" in out
    assert not export.exists()
    assert _signed_roots(app) == honest

    # The refusal is on record, with a security alert naming it.
    with app.uow(write=False) as uow:
        alerts, _ = uow.security.alerts("open", 0, 50)
    integrity = [a for a in alerts if a.metric == "ledger_integrity"]
    assert len(integrity) == 1  # the same finding is recorded once
    assert "entry 50" in json.dumps(integrity[0].to_json())


def test_a_rewritten_history_refuses_the_backup(staffed: Staffed, tmp_path: Path) -> None:
    app = staffed.app
    _grow_to(app, SIGNED)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    _grow_to(app, 200)
    _tamper(app, rewrite_entry_50)
    env = {
        "TRIAGE_DATA_DIR": str(app.settings.data_dir),
        "TRIAGE_DATABASE_URL": app.settings.database_url,
    }
    archive = tmp_path / "facility.tar"
    run = CliRunner().invoke(cli, ["backup", str(archive)], env=env)
    assert run.exit_code != 0, run.output
    assert "first bad index 50" in run.output
    assert not archive.exists()


def _delete_all(conn: Connection) -> None:
    conn.execute(delete(ledger_checkpoint))


def _roll_back(conn: Connection) -> None:
    conn.execute(delete(ledger_checkpoint).where(ledger_checkpoint.c.size > SIGNED))


def _truncate_and_rebuild(conn: Connection) -> None:
    """Back to 200 entries, tiles and head rebuilt, checkpoints beyond it deleted."""
    kept = all_entries(conn, 200)
    truncate(conn, 200)
    rebuilt = MemoryLogStorage()
    Log(rebuilt).append(kept)
    conn.execute(delete(ledger_tile))
    conn.execute(
        ledger_tile.insert(),
        [
            {"log_id": "demo", "level": k.level, "idx": k.index, "hashes": v}
            for k, v in rebuilt.tiles.items()
        ],
    )
    conn.execute(update(ledger_head).values(size=200, root=rebuilt.head.root))
    conn.execute(delete(ledger_checkpoint).where(ledger_checkpoint.c.size > 200))


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (_delete_all, "the checkpoint table lacks the checkpoint at size 300"),
        (_roll_back, "the checkpoint table lacks the checkpoint at size 300"),
        (_truncate_and_rebuild, "beyond the log's size 200"),
    ],
    ids=["deleted", "rolled-back", "truncated"],
)
def test_deleted_or_rolled_back_checkpoints_fail_verify(
    staffed: Staffed, tamper: object, says: str
) -> None:
    app = staffed.app
    auditor = _token(staffed, "verity", Role.AUDITOR)
    _grow_to(app, SIGNED)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    _grow_to(app, 300)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    code, out = _cli(app, auditor, "ledger", "verify", "--json")
    assert code == 0, out

    _tamper(app, tamper)

    code, out = _cli(app, auditor, "ledger", "verify", "--json")
    assert code == 1, out
    report = json.loads(out)
    assert report["ok"] is False
    assert any(says in p["message"] for p in report["problems"]), report["problems"]
    # And nothing is signed over it.
    with pytest.raises(IntegrityFailure):
        ledger_service.issue_checkpoint(
            app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
        )


def test_a_missing_checkpoint_file_fails_verify(staffed: Staffed) -> None:
    app = staffed.app
    auditor = _token(staffed, "verity", Role.AUDITOR)
    _grow_to(app, SIGNED)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    kept = app.settings.data_dir / "ledger" / "demo" / "checkpoint"
    assert kept.stat().st_mode & 0o077 == 0
    kept.unlink()
    code, out = _cli(app, auditor, "ledger", "verify", "--json")
    assert code == 1, out
    assert "is missing" in json.dumps(json.loads(out)["problems"])


def test_an_installation_from_before_gets_a_warning_then_keeps_the_file(staffed: Staffed) -> None:
    app = staffed.app
    auditor = _token(staffed, "verity", Role.AUDITOR)
    _grow_to(app, SIGNED)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    # As an installation from before the file was kept: no directory at all.
    shutil.rmtree(app.settings.data_dir / "ledger")
    code, out = _cli(app, auditor, "ledger", "verify", "--json")
    assert code == 0, out
    assert "no checkpoint is kept outside the database yet" in " ".join(json.loads(out)["warnings"])
    # The next checkpoint keeps it (and the leaf hashes of everything before it).
    _grow_to(app, 130)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    folder = app.settings.data_dir / "ledger" / "demo"
    assert (folder / "leaf-hashes").stat().st_size == 130 * 32
    code, out = _cli(app, auditor, "ledger", "verify", "--json")
    assert code == 0 and json.loads(out)["warnings"] == [], out


def test_the_server_holds_writes_until_an_administrator_acknowledges(staffed: Staffed) -> None:
    from triage.entrypoints.asgi import create_app

    app = staffed.app
    admin = _token(staffed, "adele", Role.ADMINISTRATOR)
    supervisor = _token(staffed, "suki", Role.SUPERVISOR)
    _grow_to(app, SIGNED)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    _grow_to(app, 140)
    _tamper(app, rewrite_entry_50)
    # What `triage serve` runs every interval (its checkpoint loop).
    with contextlib.suppress(TriageError):
        ledger_service.issue_checkpoint_if_grown(
            app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
        )

    client = TestClient(create_app(app))
    as_admin = {"Authorization": f"Bearer {admin}"}
    as_supervisor = {"Authorization": f"Bearer {supervisor}"}
    # Every write is answered 503 with the reason; reads still work.
    write = client.post("/api/v1/tokens", headers=as_supervisor, json={})
    assert write.status_code == 503, write.text
    assert "entry 50" in write.json()["detail"]
    assert "acknowledge" in write.json()["detail"]
    state = client.get("/api/v1/ledger/integrity", headers=as_admin).json()
    assert state["writes_held"] is True
    assert state["refusal"]["first_bad_index"] == 50
    assert client.get("/api/v1/ledger", headers=as_admin).status_code == 200
    assert client.post("/logout").status_code != 503  # signing out still works

    # Only an administrator acknowledges, with a reason; it is recorded.
    denied = client.post(
        "/api/v1/ledger/integrity/acknowledge",
        headers=as_supervisor,
        json={"reason": "looked at it and it is fine"},
    )
    assert denied.status_code == 403
    short = client.post(
        "/api/v1/ledger/integrity/acknowledge", headers=as_admin, json={"reason": "ok"}
    )
    assert short.status_code == 422
    done = client.post(
        "/api/v1/ledger/integrity/acknowledge",
        headers=as_admin,
        json={"reason": "entry 50 rewritten in the database; restoring last night's backup"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["writes_held"] is False
    with app.uow(write=False) as uow:
        last = Entry.from_bytes(uow.ledger.log.entry(uow.ledger.log.head().size - 1))
    assert last.type in ("ledger.refusal_acknowledged", "alert.resolved")
    assert client.get("/api/v1/ledger/integrity", headers=as_admin).json()["writes_held"] is False

    # Writes resume; checkpoints stay refused while the ledger still fails the check, and the
    # same finding does not hold writes again.
    resumed = client.post("/api/v1/tokens", headers=as_supervisor, json={})
    assert resumed.status_code != 503, resumed.text
    from triage.entrypoints.scheduler import periodic_checkpoint

    with pytest.raises(IntegrityFailure):
        periodic_checkpoint(app)
    assert client.get("/api/v1/ledger/integrity", headers=as_admin).json()["writes_held"] is False
    again = client.post(
        "/api/v1/ledger/integrity/acknowledge",
        headers=as_admin,
        json={"reason": "nothing is waiting for this one"},
    )
    assert again.status_code == 409


def test_the_cli_acknowledges_too(staffed: Staffed) -> None:
    app = staffed.app
    admin = _token(staffed, "adele", Role.ADMINISTRATOR)
    _grow_to(app, SIGNED)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    _tamper(app, rewrite_entry_50)
    code, out = _cli(app, admin, "ledger", "checkpoint")
    assert code == 1 and "first bad index 50" in out
    code, out = _cli(app, admin, "ledger", "integrity", "--json")
    assert code == 0 and json.loads(out)["writes_held"] is True, out
    code, out = _cli(
        app, admin, "ledger", "acknowledge", "--reason", "investigating the database host"
    )
    assert code == 0, out
    assert ledger_service.writes_held(app.uow) is None


def test_a_backup_holds_the_checkpoint_file_and_a_restore_puts_it_back(
    staffed: Staffed, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    app = staffed.app
    auditor = _token(staffed, "verity", Role.AUDITOR)
    _grow_to(app, SIGNED)
    env = {
        "TRIAGE_DATA_DIR": str(app.settings.data_dir),
        "TRIAGE_DATABASE_URL": app.settings.database_url,
    }
    archive = tmp_path / "facility.tar"
    run = CliRunner().invoke(cli, ["backup", str(archive)], env=env)
    assert run.exit_code == 0, run.output
    kept = app.settings.data_dir / "ledger" / "demo" / "checkpoint"
    with tarfile.open(archive) as tar:
        member = tar.extractfile("data/ledger/demo/checkpoint")
        assert member is not None
        in_archive = member.read()
        assert "data/ledger/demo/leaf-hashes" in tar.getnames()
    # The backup signed a checkpoint of the ledger first; the archive holds the kept one.
    assert (
        checkpoint.open_checkpoint(in_archive.decode(), [app.verifier_key()], app.origin).size
        >= ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size - 1
    )
    assert in_archive == kept.read_bytes()

    data_dir = tmp_path / "restored" / "data"
    if backend == "sqlite":
        url = f"sqlite:///{data_dir / 'triage.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("restorekept")
    run = CliRunner().invoke(
        cli,
        ["restore", str(archive)],
        env={"TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_DATABASE_URL": url},
    )
    assert run.exit_code == 0, run.output
    restored_file = data_dir / "ledger" / "demo" / "checkpoint"
    assert restored_file.read_bytes() == in_archive
    assert restored_file.stat().st_mode & 0o077 == 0
    restored = bootstrap.bootstrap(Settings(data_dir, url))
    try:
        env = {
            "TRIAGE_DATA_DIR": str(data_dir),
            "TRIAGE_DATABASE_URL": url,
            "TRIAGE_TOKEN": auditor,
        }
        run = CliRunner().invoke(cli, ["ledger", "verify", "--json"], env=env)
        assert run.exit_code == 0, run.output
        # A restored database whose checkpoints were then deleted fails verification.
        with restored.database.engine.begin() as conn:
            conn.execute(delete(ledger_checkpoint))
        run = CliRunner().invoke(cli, ["ledger", "verify", "--json"], env=env)
        assert run.exit_code == 1, run.output
    finally:
        restored.close()
