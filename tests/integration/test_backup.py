"""`triage backup` and `triage restore` on SQLite and PostgreSQL: a restored facility is the same
ledger, verifies, and carries on; a damaged, altered or unsafe archive is refused before anything
is written; nothing is ever overwritten."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import itertools
import json
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, select
from typer.testing import CliRunner, Result

from tests.integration.conftest import Staffed
from tests.integration.ledger_rows import all_entries, set_entry
from tests.people import enrol
from tests.pgserver import PgCluster
from triage import bootstrap
from triage.adapters import backup, migrate
from triage.adapters.database import Database
from triage.adapters.tables import ledger_head
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.entrypoints.cli import app as cli
from triage.ledger import checkpoint, rfc6962
from triage.ledger.entry import Entry
from triage.services import job_steps, operators, photos
from triage.services import ledger as ledger_service

D1, D2, D3 = "BC-33-AC-FF-FE-FA-55-01", "BC-33-AC-FF-FE-FA-55-02", "BC-33-AC-FF-FE-FA-55-03"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
_restore_numbers = itertools.count()


def _cli(data_dir: Path, database_url: str | None, *args: str, token: str | None = None) -> Result:
    env = {
        "TRIAGE_DATA_DIR": str(data_dir),
        "TRIAGE_DATABASE_URL": database_url,
        "TRIAGE_TOKEN": token,
        "TRIAGE_FACILITY": None,
    }
    return CliRunner().invoke(cli, list(args), env=env)


def _back_up(app: bootstrap.App, archive: Path) -> dict[str, object]:
    result = _cli(
        app.settings.data_dir, app.settings.database_url, "backup", str(archive), "--json"
    )
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


@pytest.fixture
def target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, str]:
    """A new data directory and a new, empty database to restore into."""
    data_dir = tmp_path / "restored" / "data"
    if backend == "sqlite":
        return data_dir, f"sqlite:///{data_dir / 'triage.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return data_dir, cluster.create_database(f"restore{next(_restore_numbers)}")


def _entries(app: bootstrap.App) -> list[Entry]:
    with app.uow(write=False) as uow:
        return [
            Entry.from_bytes(data)
            for batch in uow.ledger.storage.read_entries(0, 2**62)
            for _, data in batch
        ]


def _triage_activity(staffed: Staffed) -> str:
    """A released device, a device inspected with a photo; returns the photo's digest."""
    app = staffed.app
    staffed.manifest("C-1", [D1, D2])
    job = staffed.reset(staffed.receive(D1).id)
    job_steps.seal(app.uow, staffed.ben, job.id, "SL-0001")
    job_steps.release(app.uow, staffed.ben, job.id)
    second = staffed.receive(D2)
    digest, size = app.evidence_store().put(PNG)
    photos.attach_photo(app.uow, staffed.ben, second.id, digest, "image/png", size)
    return digest


def test_a_restored_facility_is_the_same_ledger_and_carries_on(
    staffed: Staffed, tmp_path: Path, target: tuple[Path, str]
) -> None:
    app = staffed.app
    photo = _triage_activity(staffed)
    token = enrol(app, staffed.admin, "audrey").token
    old = ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    # One more entry after the checkpoint: the snapshot is not just the checkpointed tree.
    operators.create_operator(app.uow, staffed.admin, "late", "Late", frozenset({Role.AUDITOR}))
    before = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR)

    archive = tmp_path / "facility.tar"
    out = _back_up(app, archive)

    # The archive is private, and its manifest describes exactly the archive and the snapshot.
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        infos = tar.getmembers()
        raw_manifest = _read(tar, tar.getmember("manifest.json"))
        digests = {
            i.name: hashlib.sha256(_read(tar, i)).hexdigest()
            for i in infos
            if i.name != "manifest.json"
        }
    manifest = json.loads(raw_manifest)
    assert out["manifest_sha256"] == hashlib.sha256(raw_manifest).hexdigest()
    assert {m["name"]: m["sha256"] for m in manifest["members"]} == digests
    database_member = backup.DATABASE_MEMBERS[app.database.dialect]
    assert set(digests) == {
        database_member,
        "data/keys/facility.key",
        "data/keys/facility.vkey",
        "data/keys/secrets.key",
        f"data/evidence/{photo[:2]}/{photo}",
        # The devices' security logs the inspections used are evidence too.
        *(
            f"data/evidence/{e.data['sha256'][:2]}/{e.data['sha256']}"
            for e in staffed.entries("device.security_log_recorded")
        ),
        # The latest signed checkpoint kept outside the database, and its leaf hashes.
        "data/ledger/demo/checkpoint",
        "data/ledger/demo/leaf-hashes",
    }
    assert manifest["format_version"] == 1
    assert manifest["backend"] == app.database.dialect
    assert manifest["facility"] == {"id": "demo", "log_origin": app.origin}
    assert manifest["ledger"]["size"] == before.size
    assert manifest["ledger"]["root"] == base64.b64encode(before.root).decode()
    # The backup vouched for and signed the ledger as it stood before its snapshot.
    assert manifest["ledger"]["latest_checkpoint_size"] == before.size
    assert manifest["ledger"]["latest_checkpoint"] != old.note

    # The backup is recorded after its snapshot, naming the archive by its manifest's hash.
    recorded = _entries(app)
    assert len(recorded) == before.size + 1
    assert recorded[-1].type == "system.backup"
    assert recorded[-1].actor.id == "backup"
    assert recorded[-1].data["manifest_sha256"] == out["manifest_sha256"]
    assert "PRIVATE" not in json.dumps(recorded[-1].data)

    data_dir, database_url = target
    restored_run = _cli(data_dir, database_url, "restore", str(archive), "--json")
    assert restored_run.exit_code == 0, restored_run.output
    report = json.loads(restored_run.stdout)
    assert report["ok"] is True
    assert (report["size"], report["root"]) == (before.size, manifest["ledger"]["root"])

    restored = bootstrap.bootstrap(Settings(data_dir, database_url))
    try:
        assert migrate.is_current(restored.database)
        assert restored.verifier_key() == app.verifier_key()
        assert restored.signer_key() == app.signer_key()
        assert stat.S_IMODE((data_dir / "keys" / "facility.key").stat().st_mode) == 0o600
        # The old signed checkpoint still verifies with the facility's key.
        old_body = checkpoint.open_checkpoint(old.note, [restored.verifier_key()], restored.origin)
        assert restored.evidence_store().check(photo) == "ok"
        assert restored.evidence_store().read(photo) == PNG

        # The token issued before the backup works, and the auditor's checks pass.
        for args in (["ledger", "verify", "--json"], ["ledger", "replay", "--check", "--json"]):
            run = _cli(data_dir, database_url, *args, token=token)
            assert run.exit_code == 0, run.output
            assert json.loads(run.stdout)["ok"] is True

        # The same ledger up to the snapshot, then the restore's own entry (not the backup's).
        entries = _entries(restored)
        assert entries[: before.size] == recorded[: before.size]
        assert [e.type for e in entries[before.size :]] == ["system.restored"]
        assert entries[-1].data["manifest_sha256"] == out["manifest_sha256"]
        with restored.uow(write=False) as uow:
            assert uow.ledger.log.root_at(before.size) == before.root

        # New triage work is appended, and the log is provably an extension of the old one.
        carry_on = dataclasses.replace(staffed, app=restored)
        carry_on.manifest("C-2", [D3])
        job = carry_on.reset(carry_on.receive(D3).id)
        assert job.state is JobState.VERIFIED
        new = ledger_service.issue_checkpoint(
            restored.uow, ledger_service.LEDGER_ACTOR, restored.origin, restored.signer_key()
        )
        new_body = checkpoint.open_checkpoint(new.note, [app.verifier_key()], app.origin)
        assert new_body.size > before.size + 1
        proof = ledger_service.prove_consistency(
            restored.uow, ledger_service.LEDGER_ACTOR, old.size, new.size
        )
        rfc6962.verify_consistency(
            old.size, new.size, proof.hashes, old_body.root_hash, new_body.root_hash
        )
        assert ledger_service.verify(
            restored.uow, ledger_service.LEDGER_ACTOR, restored.verifier_key(), restored.origin
        ).ok
    finally:
        restored.close()


def _archive(app: bootstrap.App, tmp_path: Path) -> Path:
    archive = tmp_path / "facility.tar"
    _back_up(app, archive)
    return archive


def _rewrite(
    archive: Path,
    out: Path,
    change: Callable[[str, bytes], bytes] = lambda _name, data: data,
    extra: tuple[tuple[tarfile.TarInfo, bytes], ...] = (),
) -> Path:
    with tarfile.open(archive) as source, tarfile.open(out, "w") as copy:
        for info in source.getmembers():
            data = change(info.name, _read(source, info))
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
        for info, data in extra:
            copy.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out


def _flip_a_byte_of(member: str) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0x01
        return bytes(flipped)

    return change


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    source = tar.extractfile(info)
    assert source is not None
    return source.read()


def _nothing_written(data_dir: Path) -> None:
    """No data directory, and no half-restored one beside it."""
    assert not data_dir.exists()
    leftovers = [p.name for p in data_dir.parent.glob(".*")] if data_dir.parent.exists() else []
    assert leftovers == []


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "member",
    [
        "database/triage.sqlite3",
        "data/keys/facility.key",
        "data/keys/facility.vkey",
        "data/keys/secrets.key",
    ],
)
def test_an_altered_member_is_refused_naming_it(
    app: bootstrap.App, tmp_path: Path, target: tuple[Path, str], member: str
) -> None:
    altered = _rewrite(_archive(app, tmp_path), tmp_path / "altered.tar", _flip_a_byte_of(member))
    data_dir, database_url = target
    run = _cli(data_dir, database_url, "restore", str(altered))
    assert run.exit_code == 2
    assert f"archive member '{member}' does not match its SHA-256" in run.stderr
    _nothing_written(data_dir)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_damaged_manifest_or_archive_is_refused(
    app: bootstrap.App, tmp_path: Path, target: tuple[Path, str]
) -> None:
    archive = _archive(app, tmp_path)
    data_dir, database_url = target

    def truncate_manifest(name: str, data: bytes) -> bytes:
        return data[: len(data) // 2] if name == "manifest.json" else data

    broken = _rewrite(archive, tmp_path / "broken.tar", truncate_manifest)
    run = _cli(data_dir, database_url, "restore", str(broken))
    assert run.exit_code == 2
    assert "manifest.json: not valid JSON" in run.stderr

    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    run = _cli(data_dir, database_url, "restore", str(cut))
    assert run.exit_code == 2
    assert "error:" in run.stderr
    _nothing_written(data_dir)


def _with_manifest_fixed(change: Callable[[str, bytes], bytes]) -> Callable[[str, bytes], bytes]:
    """``change``, and a manifest rewritten to match it: what someone altering the archive
    with care would do. Only the ledger's own checks can catch that."""
    changed: dict[str, bytes] = {}

    def rewrite(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            changed[name] = change(name, data)
            return changed[name]
        manifest = json.loads(data)
        for member in manifest["members"]:
            member["sha256"] = hashlib.sha256(changed[member["name"]]).hexdigest()
            member["size"] = len(changed[member["name"]])
        return change(name, json.dumps(manifest).encode())

    return rewrite


def _alter_ledger_entry(tmp_path: Path, altered_at: list[int]) -> Callable[[str, bytes], bytes]:
    """Renames Audrey in her operator.created entry, inside the archived database."""

    def change(name: str, data: bytes) -> bytes:
        if name != "database/triage.sqlite3":
            return data
        copy = tmp_path / "altered.sqlite3"
        copy.write_bytes(data)
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.begin() as conn:
                size = int(conn.execute(select(ledger_head.c.size)).scalar_one())
                entries = all_entries(conn, size)
                ((index, entry),) = [(i, d) for i, d in enumerate(entries) if b'"Audrey"' in d]
                set_entry(conn, index, entry.replace(b'"Audrey"', b'"Audrex"'))
        finally:
            engine.dispose()
        altered_at.append(index)
        return copy.read_bytes()

    return change


def _alter_manifest_root(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["ledger"]["root"] = base64.b64encode(bytes(32)).decode()
    return json.dumps(manifest).encode()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("alteration", ["ledger entry", "manifest root"])
def test_a_restore_that_does_not_verify_fails_and_is_not_recorded(
    app: bootstrap.App, tmp_path: Path, target: tuple[Path, str], alteration: str
) -> None:
    operators.create_operator(
        app.uow, Caller.system("test"), "audrey", "Audrey", frozenset({Role.AUDITOR})
    )
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    size = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size
    altered_at: list[int] = []
    change = (
        _alter_ledger_entry(tmp_path, altered_at)
        if alteration == "ledger entry"
        else _alter_manifest_root
    )
    altered = _rewrite(
        _archive(app, tmp_path), tmp_path / "altered.tar", _with_manifest_fixed(change)
    )
    data_dir, database_url = target
    run = _cli(data_dir, database_url, "restore", str(altered), "--json")
    assert run.exit_code == 1, run.output
    report = json.loads(run.stdout)
    assert report["ok"] is False
    assert report["ledger_entry"] is None
    expected = f"index {altered_at[0]}:" if altered_at else "the manifest says size"
    assert any(expected in problem for problem in report["problems"]), report["problems"]
    restored = bootstrap.bootstrap(Settings(data_dir, database_url))
    try:
        assert ledger_service.status(restored.uow, ledger_service.LEDGER_ACTOR).size == size
    finally:
        restored.close()


def _regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, kind: bytes, to: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = to
    return info, b""


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_regular("../escape.txt", b"owned"), "has an absolute path or '..'"),
        (_regular("data/keys/../../../escape.txt", b"owned"), "has an absolute path or '..'"),
        (_regular("/tmp/escape.txt", b"owned"), "has an absolute path or '..'"),
        (_link("data/evidence/ab/escape.txt", tarfile.SYMTYPE, "/etc/passwd"), "is a link"),
        (_link("escape.txt", tarfile.LNKTYPE, "data/keys/facility.key"), "is a link"),
        (_regular("data/escape.txt", b"owned"), "is not listed in the manifest"),
    ],
)
def test_unsafe_members_are_refused_and_nothing_is_written(
    app: bootstrap.App,
    tmp_path: Path,
    target: tuple[Path, str],
    extra: tuple[tarfile.TarInfo, bytes],
    message: str,
) -> None:
    unsafe = _rewrite(_archive(app, tmp_path), tmp_path / "unsafe.tar", extra=(extra,))
    data_dir, database_url = target
    run = _cli(data_dir, database_url, "restore", str(unsafe))
    assert run.exit_code == 2
    assert f"archive member {extra[0].name!r} {message}" in run.stderr
    _nothing_written(data_dir)
    assert not Path("/tmp/escape.txt").exists()
    assert not any(p.name == "escape.txt" for p in tmp_path.rglob("*"))


def test_restore_never_overwrites_a_facility(
    app: bootstrap.App, backend: str, tmp_path: Path, target: tuple[Path, str]
) -> None:
    archive = _archive(app, tmp_path)
    key = (app.settings.keys_dir / "facility.key").read_bytes()
    size = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size

    # Over the facility's own data directory and database.
    run = _cli(app.settings.data_dir, app.settings.database_url, "restore", str(archive))
    assert run.exit_code == 2
    assert f"the data directory {app.settings.data_dir} is not empty" in run.stderr

    # Into a data directory that holds only a key.
    data_dir, database_url = target
    (data_dir / "keys").mkdir(parents=True)
    (data_dir / "keys" / "facility.key").write_bytes(b"someone else's key\n")
    run = _cli(data_dir, database_url, "restore", str(archive))
    assert run.exit_code == 2
    assert "is not empty (it holds keys)" in run.stderr
    assert (data_dir / "keys" / "facility.key").read_bytes() == b"someone else's key\n"

    if backend == "postgresql":
        # A new data directory, but the facility's own (non-empty) database.
        fresh = tmp_path / "fresh"
        run = _cli(fresh, app.settings.database_url, "restore", str(archive))
        assert run.exit_code == 2
        assert "is not empty (it holds public." in run.stderr
        assert not fresh.exists()

    assert (app.settings.keys_dir / "facility.key").read_bytes() == key
    assert ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size == size
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok


def test_an_archive_is_never_overwritten_nor_left_half_written(
    app: bootstrap.App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "out" / "facility.tar"
    archive.parent.mkdir()
    archive.write_bytes(b"last week's backup")
    size = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size
    run = _cli(app.settings.data_dir, app.settings.database_url, "backup", str(archive))
    assert run.exit_code == 2
    assert "exists; a backup never overwrites a file" in run.stderr
    assert archive.read_bytes() == b"last week's backup"

    # A failure after the snapshot leaves nothing under the final name, nor temporaries.
    def fail(_self: backup.Manifest) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(backup.Manifest, "to_bytes", fail)
    new = archive.parent / "new.tar"
    with (
        pytest.raises(OSError, match="disk full"),
        backup.prepared_backup(
            app.settings.data_dir, app.settings.database_url, app.facility.id, new
        ) as pending,
    ):
        pending.publish()
    assert sorted(p.name for p in archive.parent.iterdir()) == ["facility.tar"]
    # Neither refusal nor failure recorded a backup.
    assert ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size == size


def test_an_older_backup_is_brought_to_the_current_schema(
    app: bootstrap.App, tmp_path: Path, target: tuple[Path, str]
) -> None:
    operators.create_operator(
        app.uow, Caller.system("test"), "audrey", "Audrey", frozenset({Role.AUDITOR})
    )
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    previous = ScriptDirectory.from_config(config).get_revision(head).down_revision
    assert isinstance(previous, str)
    with app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, previous)
    assert not migrate.is_current(app.database)

    archive = tmp_path / "old.tar"
    with backup.prepared_backup(
        app.settings.data_dir, app.settings.database_url, app.facility.id, archive
    ) as pending:
        pending.publish()
    assert pending.manifest.schema_revision == previous

    data_dir, database_url = target
    run = _cli(data_dir, database_url, "restore", str(archive), "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["ok"] is True
    database = Database(database_url)
    try:
        assert migrate.is_current(database)
    finally:
        database.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_sqlite_archive_is_not_restored_into_postgresql(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    sqlite_app = bootstrap.initialise(
        Settings(tmp_path / "lite", f"sqlite:///{tmp_path / 'lite' / 'triage.db'}")
    ).app
    try:
        archive = _archive(sqlite_app, tmp_path)
    finally:
        sqlite_app.close()
    data_dir, database_url = target
    run = _cli(data_dir, database_url, "restore", str(archive))
    assert run.exit_code == 2
    assert "the archive holds a sqlite database but TRIAGE_DATABASE_URL names a postgresql" in (
        run.stderr
    )
    _nothing_written(data_dir)


def test_the_database_password_never_reaches_a_command_line() -> None:
    conninfo, env = backup.libpq_connection(
        "postgresql+psycopg://tri%40ge:s3cr%27t@db.example.net:5433/tri'age?sslmode=require"
    )
    assert "s3cr" not in conninfo
    assert env["PGPASSWORD"] == "s3cr't"
    assert conninfo == (
        "sslmode='require' host='db.example.net' port='5433' user='tri@ge' dbname='tri\\'age'"
    )
    socket, env = backup.libpq_connection("postgresql://triage@/triage?host=/run/postgresql")
    assert socket == "host='/run/postgresql' user='triage' dbname='triage'"
