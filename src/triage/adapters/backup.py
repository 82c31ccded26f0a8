"""Backups: one tar archive with a consistent snapshot of the database, the data directory's
files the facility needs to go on (signing key, secrets key, evidence files) and a manifest.

The snapshot is taken while the server runs. SQLite: the online backup API copies the live
database in one step under one read transaction (WAL lets writers carry on). PostgreSQL: a
REPEATABLE READ transaction exports its snapshot, reads the ledger's head in it, and
``pg_dump --snapshot`` dumps exactly that snapshot; so the manifest's ledger size, root and
checkpoint describe exactly the database in the archive. Evidence files are listed after the
snapshot: a file is stored before the entry naming it, so every file the snapshot refers to
is there (a later file may come too; it is named by its digest and harms nothing).

``manifest.json`` is the archive's last member: format version, time, backend, facility, the
ledger at the snapshot, and the SHA-256 and size of every other member. A restore checks every
member against it, and refuses links, absolute paths, ``..`` and anything it does not list,
before it writes anything.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from triage import __version__
from triage.adapters import migrate
from triage.adapters.checkpoint_file import (
    CHECKPOINT_FILE,
    HASHES_FILE,
    CheckpointFile,
    checkpoint_dir,
)
from triage.adapters.database import Database
from triage.adapters.keys import SECRETS_FILE, SIGNER_FILE, VERIFIER_FILE
from triage.adapters.ledger_store import SqlLedger
from triage.adapters.tables import facility as facility_table
from triage.domain.bounded import InputLimitError, load_json
from triage.errors import Conflict, InfrastructureFailure, InvalidInput, NotInitialised
from triage.services.backup import ArchiveManifest, PreparedArchive, RestoredArchive

FORMAT = "device-triage-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/triage.sqlite3"
POSTGRES_MEMBER = "database/triage.pgdump"
DATABASE_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": POSTGRES_MEMBER}
# Archive name -> (path under the data directory, file mode once restored).
KEY_MEMBERS = {
    f"data/keys/{SIGNER_FILE}": (f"keys/{SIGNER_FILE}", 0o600),
    f"data/keys/{VERIFIER_FILE}": (f"keys/{VERIFIER_FILE}", 0o644),
    f"data/keys/{SECRETS_FILE}": (f"keys/{SECRETS_FILE}", 0o600),
}
_EVIDENCE_MEMBER = re.compile(r"^data/evidence/([0-9a-f]{2})/(\1[0-9a-f]{62})$")
# The checkpoint kept outside the database, and its leaf hashes (adapters/checkpoint_file.py).
_KEPT_MEMBER = re.compile(
    rf"^data/ledger/[a-z0-9][a-z0-9-]{{0,62}}/({CHECKPOINT_FILE}|{HASHES_FILE})$"
)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_STAGED_DUMP = ".restore.pgdump"


class BackupToolError(InfrastructureFailure):
    """pg_dump or pg_restore failed; the message carries what it said."""

    title = "Backup tool failed"


@dataclass(frozen=True)
class Member:
    """One file in the archive, as the manifest lists it."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """What an archive holds, and the facility's ledger at the moment of the snapshot."""

    created_at: str
    backend: str
    facility_id: str
    log_origin: str
    schema_revision: str | None
    ledger_size: int
    ledger_root: bytes
    checkpoint: str | None
    checkpoint_size: int | None
    software_version: str
    members: tuple[Member, ...]

    def to_json(self) -> dict[str, Any]:
        """The manifest as written into the archive."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "software_version": self.software_version,
            "backend": self.backend,
            "schema_revision": self.schema_revision,
            "facility": {"id": self.facility_id, "log_origin": self.log_origin},
            "ledger": {
                "size": self.ledger_size,
                "root": _b64(self.ledger_root),
                "latest_checkpoint": self.checkpoint,
                "latest_checkpoint_size": self.checkpoint_size,
            },
            "members": [{"name": m.name, "sha256": m.sha256, "size": m.size} for m in self.members],
        }

    def to_bytes(self) -> bytes:
        """The manifest's bytes (its SHA-256 is what the ledger entry records)."""
        return (json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """Parse and check a manifest; InvalidInput names the first field that is wrong."""
        try:
            data = load_json(raw, MANIFEST, max_bytes=_MAX_MANIFEST_BYTES)
        except InputLimitError as exc:
            raise InvalidInput(f"{exc}; the archive is damaged") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput(f"{MANIFEST}: not the manifest of a device-triage backup")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise InvalidInput(
                f"{MANIFEST}: format_version {version!r}; this version of triage reads "
                f"version {FORMAT_VERSION} (a newer triage made this archive?)"
            )
        backend = _field(data, "backend", str)
        if backend not in DATABASE_MEMBERS:
            raise InvalidInput(f"{MANIFEST}: backend {backend!r} is neither sqlite nor postgresql")
        facility = _field(data, "facility", dict)
        ledger = _field(data, "ledger", dict)
        members = tuple(_member(item) for item in _field(data, "members", list))
        names = [m.name for m in members]
        for name in names:
            if names.count(name) > 1:
                raise InvalidInput(f"{MANIFEST}: member {name!r} is listed twice")
            _restored_path(name)
        databases = [name for name in names if name in DATABASE_MEMBERS.values()]
        if databases != [DATABASE_MEMBERS[backend]]:
            raise InvalidInput(
                f"{MANIFEST}: a {backend} backup holds one database, {DATABASE_MEMBERS[backend]}"
            )
        if f"data/keys/{SIGNER_FILE}" not in names:
            raise InvalidInput(f"{MANIFEST}: no facility signing key (data/keys/{SIGNER_FILE})")
        root = _field(ledger, "root", str)
        try:
            root_bytes = base64.b64decode(root, validate=True)
        except ValueError as exc:
            raise InvalidInput(f"{MANIFEST}: ledger.root is not base64") from exc
        revision = data.get("schema_revision")
        checkpoint = ledger.get("latest_checkpoint")
        checkpoint_size = ledger.get("latest_checkpoint_size")
        return cls(
            created_at=_field(data, "created_at", str),
            backend=backend,
            facility_id=_field(facility, "id", str),
            log_origin=_field(facility, "log_origin", str),
            schema_revision=revision if isinstance(revision, str) else None,
            ledger_size=_field(ledger, "size", int),
            ledger_root=root_bytes,
            checkpoint=checkpoint if isinstance(checkpoint, str) else None,
            checkpoint_size=checkpoint_size if isinstance(checkpoint_size, int) else None,
            software_version=str(data.get("software_version", "")),
            members=members,
        )


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"{MANIFEST}: {name} is missing or not a {kind.__name__}")
    return value


def _member(item: object) -> Member:
    if not isinstance(item, dict):
        raise InvalidInput(f"{MANIFEST}: members holds something that is not an object")
    name = _field(item, "name", str)
    sha256 = _field(item, "sha256", str)
    size = _field(item, "size", int)
    if not _DIGEST.match(sha256) or size < 0:
        raise InvalidInput(f"{MANIFEST}: member {name!r} has a malformed sha256 or size")
    return Member(name, sha256, size)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def backend_of(database_url: str) -> str:
    """'sqlite' or 'postgresql', or InvalidInput naming the database URL."""
    backend = make_url(database_url).get_backend_name()
    if backend not in DATABASE_MEMBERS:
        raise InvalidInput(f"TRIAGE_DATABASE_URL: unsupported database {backend!r}")
    return backend


# -- writing an archive -------------------------------------------------------------------------


@dataclass
class PendingBackup:
    """A complete archive under a temporary name; ``publish`` gives it its final name."""

    temporary: Path
    output: Path
    manifest: Manifest
    manifest_sha256: str
    published: bool = False

    def publish(self) -> Path:
        """Link the archive to its final name (never replacing a file) and drop the temporary."""
        try:
            os.link(self.temporary, self.output)
        except FileExistsError as exc:
            raise Conflict(f"{self.output} exists; a backup never overwrites a file") from exc
        except OSError:
            # A file system without hard links (FAT, some network shares): rename, after
            # checking again that nothing took the name meanwhile.
            if self.output.exists():
                raise Conflict(f"{self.output} exists; a backup never overwrites a file") from None
            os.rename(self.temporary, self.output)
        self.temporary.unlink(missing_ok=True)
        _fsync_directory(self.output.parent)
        self.published = True
        return self.output


@contextmanager
def prepared_backup(
    data_dir: Path, database_url: str, facility_id: str, output: Path
) -> Iterator[PendingBackup]:
    """Write the archive under a temporary name beside ``output``; unless the caller publishes
    it inside the ``with`` block, it is removed on leaving, so no half archive is ever left
    under the final name."""
    output = output.absolute()
    if output.exists() or output.is_symlink():
        raise Conflict(f"{output} exists; a backup never overwrites a file: choose a new name")
    if not output.parent.is_dir():
        raise InvalidInput(f"OUTPUT: the directory {output.parent} does not exist")
    backend = backend_of(database_url)
    # mkstemp creates the file with mode 0600: the archive holds the signing key.
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    temporary = Path(name)
    pending: PendingBackup | None = None
    try:
        with os.fdopen(handle, "wb") as raw:
            os.fchmod(raw.fileno(), 0o600)
            manifest, content = _write_archive(
                raw, output.parent, backend, data_dir, database_url, facility_id
            )
            raw.flush()
            os.fsync(raw.fileno())
        pending = PendingBackup(temporary, output, manifest, hashlib.sha256(content).hexdigest())
        yield pending
    finally:
        if pending is None or not pending.published:
            temporary.unlink(missing_ok=True)


def _write_archive(
    raw: IO[bytes],
    beside: Path,
    backend: str,
    data_dir: Path,
    database_url: str,
    facility_id: str,
) -> tuple[Manifest, bytes]:
    """Snapshot the database, then archive it, the data directory's files and the manifest."""
    created = datetime.now(UTC).replace(microsecond=0)
    mtime = int(created.timestamp())
    # The snapshot is staged beside the archive, not in a shared /tmp: it holds secrets.
    with tempfile.TemporaryDirectory(dir=beside, prefix=".triage-backup-") as work:
        # The checkpoint kept outside the database is copied before the snapshot: it is
        # written after the database commits its checkpoint, so the snapshot holds it too.
        kept = Path(work) / "kept"
        kept.mkdir()
        kept_files = [
            (f"data/ledger/{facility_id}/{path.name}", path)
            for path in CheckpointFile(checkpoint_dir(data_dir, facility_id)).copy_to(kept)
        ]
        if backend == "sqlite":
            database_file, snapshot = _sqlite_snapshot(database_url, Path(work), facility_id)
        else:
            database_file, snapshot = _postgres_snapshot(database_url, Path(work), facility_id)
        # Listed after the snapshot: every evidence file the snapshot names exists by now.
        files = [(DATABASE_MEMBERS[backend], database_file), *kept_files, *_data_files(data_dir)]
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            members = tuple(_add_file(tar, member, path, mtime) for member, path in files)
            manifest = Manifest(
                created_at=created.isoformat().replace("+00:00", "Z"),
                backend=backend,
                software_version=__version__,
                members=members,
                **snapshot,
            )
            content = manifest.to_bytes()
            tar.addfile(_tar_info(MANIFEST, len(content), mtime), io.BytesIO(content))
    return manifest, content


def _sqlite_snapshot(
    database_url: str, work: Path, facility_id: str
) -> tuple[Path, dict[str, Any]]:
    source_path = Path(make_url(database_url).database or "").resolve()
    if not source_path.is_file():
        raise NotInitialised(f"no database at {source_path}; run 'triage init' first")
    target = work / "triage.sqlite3"
    # mode=rw: never create an empty database where the real one should be.
    source = sqlite3.connect(source_path.as_uri() + "?mode=rw", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            # pages=-1: the whole database in one step, under one read transaction of the
            # source, so the copy is one consistent state however busy the writers are.
            source.backup(copy, pages=-1)
            # A standalone file: no -wal beside it to forget.
            copy.execute("PRAGMA journal_mode = DELETE")
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
        finally:
            copy.close()
    finally:
        source.close()
    if check != "ok":
        raise BackupToolError(f"the database snapshot fails SQLite's quick_check: {check}")
    engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return target, _describe(conn, facility_id)
    finally:
        engine.dispose()


def _postgres_snapshot(
    database_url: str, work: Path, facility_id: str
) -> tuple[Path, dict[str, Any]]:
    pg_dump = find_pg_tool("pg_dump")
    conninfo, env = libpq_connection(database_url)
    target = work / "triage.pgdump"
    database = Database(database_url)
    try:
        with database.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                # The snapshot of this transaction is the one pg_dump dumps: what we read
                # here about the ledger is exactly what the dump holds.
                snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                described = _describe(conn, facility_id)
                _run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot_id}",
                        f"--file={target}",
                        f"--dbname={conninfo}",
                    ],
                    env,
                    "pg_dump",
                )
    except OperationalError as exc:
        raise NotInitialised(f"cannot read the database: {exc.orig}") from exc
    finally:
        database.dispose()
    return target, described


def _describe(conn: Connection, facility_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(facility_table.c.log_origin).where(facility_table.c.id == facility_id)
    ).first()
    if row is None:
        raise NotInitialised(f"no facility {facility_id!r} in the database")
    ledger = SqlLedger(conn, facility_id)
    head = ledger.log.head()
    latest = ledger.log.latest_checkpoint()
    return {
        "facility_id": facility_id,
        "log_origin": row[0],
        "schema_revision": MigrationContext.configure(conn).get_current_revision(),
        "ledger_size": head.size,
        "ledger_root": head.root,
        "checkpoint": None if latest is None else latest.note,
        "checkpoint_size": None if latest is None else latest.size,
    }


def _data_files(data_dir: Path) -> list[tuple[str, Path]]:
    """The data directory's files a restored facility needs: keys, then evidence."""
    files = []
    for member, (relative, _) in KEY_MEMBERS.items():
        path = data_dir / relative
        if path.is_file():
            files.append((member, path))
    evidence = data_dir / "evidence"
    if evidence.is_dir():
        for folder in sorted(evidence.iterdir()):
            if folder.is_symlink() or not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                member = f"data/evidence/{folder.name}/{path.name}"
                # Only stored evidence: not the store's half-written temporaries, not links.
                if _EVIDENCE_MEMBER.match(member) and path.is_file() and not path.is_symlink():
                    files.append((member, path))
    return files


class _HashingReader:
    """Reads through to a file, hashing what was read."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.hash.update(data)
        return data


def _tar_info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_file(tar: tarfile.TarFile, member: str, path: Path, mtime: int) -> Member:
    with path.open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        reader = _HashingReader(source)
        # addfile copies exactly ``size`` bytes, so the digest is of what the archive holds.
        tar.addfile(_tar_info(member, size, mtime), reader)
    return Member(member, reader.hash.hexdigest(), size)


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


# -- checking and restoring an archive ----------------------------------------------------------


@dataclass(frozen=True)
class CheckedArchive:
    """An archive whose every member matched its manifest."""

    path: Path
    manifest: Manifest
    manifest_sha256: str


def check_archive(archive: Path) -> CheckedArchive:
    """Check the archive's members (regular files with safe, known names, each listed once)
    and each one's SHA-256 and size against the manifest; InvalidInput names the member."""
    if not archive.is_file():
        raise InvalidInput(f"ARCHIVE: {archive} is not a file")
    try:
        with tarfile.open(archive, "r:*") as tar:
            infos = _safe_members(tar.getmembers())
            if MANIFEST not in infos:
                raise InvalidInput(f"{archive} has no {MANIFEST}: not a device-triage backup")
            raw = _read_member(tar, infos[MANIFEST], _MAX_MANIFEST_BYTES)
            manifest = Manifest.from_bytes(raw)
            listed = {m.name for m in manifest.members}
            for name in infos:
                if name != MANIFEST and name not in listed:
                    raise InvalidInput(
                        f"archive member {name!r} is not listed in the manifest: refused"
                    )
            for member in manifest.members:
                info = infos.get(member.name)
                if info is None:
                    raise InvalidInput(
                        f"archive member {member.name!r} is listed in the manifest but missing"
                    )
                digest = _member_digest(tar, info)
                if info.size != member.size or digest != member.sha256:
                    raise InvalidInput(
                        f"archive member {member.name!r} does not match its SHA-256 in the "
                        "manifest: the archive is damaged or was altered; nothing was restored"
                    )
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidInput(f"{archive} is not a readable tar archive: {exc}") from exc
    return CheckedArchive(archive, manifest, hashlib.sha256(raw).hexdigest())


def _safe_members(infos: list[tarfile.TarInfo]) -> dict[str, tarfile.TarInfo]:
    """Every member by name, refusing unsafe paths, links and anything but regular files."""
    found: dict[str, tarfile.TarInfo] = {}
    for info in infos:
        name = info.name
        path = PurePosixPath(name)
        if (
            not name
            or path.is_absolute()
            or re.match(r"^[A-Za-z]:", name)
            or "\\" in name
            or "\x00" in name
            or any(part in ("..", ".") for part in name.split("/"))
        ):
            raise InvalidInput(
                f"archive member {name!r} has an absolute path or '..': refused; "
                "nothing was restored"
            )
        if info.issym() or info.islnk():
            raise InvalidInput(
                f"archive member {name!r} is a link: refused; a backup holds only regular files"
            )
        if not info.isreg():
            raise InvalidInput(
                f"archive member {name!r} is not a regular file: refused; a backup holds only "
                "regular files"
            )
        if name in found:
            raise InvalidInput(f"archive member {name!r} appears twice: refused")
        found[name] = info
    return found


def _restored_path(name: str) -> str:
    """Where a member goes, relative to the data directory ('' for the database)."""
    if name in DATABASE_MEMBERS.values():
        return ""
    if name in KEY_MEMBERS:
        return KEY_MEMBERS[name][0]
    if _EVIDENCE_MEMBER.match(name) or _KEPT_MEMBER.match(name):
        return name.removeprefix("data/")
    raise InvalidInput(f"{MANIFEST}: member {name!r} is not part of a device-triage backup")


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, limit: int) -> bytes:
    if info.size > limit:
        raise InvalidInput(f"archive member {info.name!r} is larger than {limit} bytes")
    source = tar.extractfile(info)
    assert source is not None  # a regular file, checked by _safe_members
    return source.read()


def _member_digest(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    source = tar.extractfile(info)
    assert source is not None
    hasher = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        hasher.update(chunk)
    return hasher.hexdigest()


@dataclass(frozen=True)
class RestoreResult:
    """What a restore put where."""

    archive: CheckedArchive
    data_dir: Path
    backend: str


def restore_backup(archive: Path, data_dir: Path, database_url: str) -> RestoreResult:
    """Check the archive, refuse any target that holds data, then restore the data directory
    and the database and bring the schema to the latest migration.

    The data directory is assembled under a temporary name beside it and renamed into place at
    the end, so a failed restore leaves no half data directory. pg_restore runs in one
    transaction: it restores all or nothing; should a later step fail, drop and recreate the
    database before trying again.
    """
    checked = check_archive(archive)
    manifest = checked.manifest
    backend = backend_of(database_url)
    if manifest.backend != backend:
        raise Conflict(
            f"the archive holds a {manifest.backend} database but TRIAGE_DATABASE_URL names a "
            f"{backend} one; restore into the same kind of database"
        )
    _check_new_data_dir(data_dir)
    database_path = ""
    pg_restore = ""
    if backend == "sqlite":
        database_path = _sqlite_path_in(database_url, data_dir)
    else:
        pg_restore = find_pg_tool("pg_restore")
        _check_empty_database(database_url)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir.parent, prefix=f".{data_dir.name}.restoring-"))
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in manifest.members:
                relative = _restored_path(member.name)
                if not relative:
                    relative = database_path or _STAGED_DUMP
                mode = KEY_MEMBERS[member.name][1] if member.name in KEY_MEMBERS else 0o600
                _extract(tar, tar.getmember(member.name), member, staging / relative, mode)
        if backend == "sqlite":
            _migrate(f"sqlite:///{staging / database_path}")
        else:
            dump = staging / _STAGED_DUMP
            conninfo, env = libpq_connection(database_url)
            _run_tool(
                [
                    pg_restore,
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-owner",
                    "--no-acl",
                    f"--dbname={conninfo}",
                    str(dump),
                ],
                env,
                "pg_restore",
            )
            dump.unlink()
            _migrate(database_url)
        # rename(2) replaces an empty directory; _check_new_data_dir allowed only that.
        os.rename(staging, data_dir)
        _fsync_directory(data_dir.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RestoreResult(checked, data_dir, backend)


def _check_new_data_dir(data_dir: Path) -> None:
    if data_dir.is_symlink() or (data_dir.exists() and not data_dir.is_dir()):
        raise Conflict(f"{data_dir} is not a directory; restore into a new data directory")
    if data_dir.is_dir():
        held = sorted(p.name for p in data_dir.iterdir())
        if held:
            raise Conflict(
                f"the data directory {data_dir} is not empty (it holds {', '.join(held[:5])}); "
                "a restore never overwrites a facility: move it aside or choose a new --data-dir"
            )


def _sqlite_path_in(database_url: str, data_dir: Path) -> str:
    path = Path(make_url(database_url).database or "")
    try:
        relative = path.resolve().relative_to(data_dir.resolve())
    except ValueError as exc:
        raise InvalidInput(
            f"TRIAGE_DATABASE_URL: the SQLite database {path} is outside the data directory "
            f"{data_dir}; a restore puts it inside (unset TRIAGE_DATABASE_URL for the default)"
        ) from exc
    return str(relative)


def _check_empty_database(database_url: str) -> None:
    database = Database(database_url)
    query = text(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
        "ORDER BY 1 LIMIT 1"
    )
    try:
        with database.read() as conn:
            held = conn.execute(query).scalar()
    except OperationalError as exc:
        raise NotInitialised(f"cannot connect to the database to restore into: {exc.orig}") from exc
    finally:
        database.dispose()
    if held is not None:
        name = make_url(database_url).database
        raise Conflict(
            f"the database {name!r} is not empty (it holds {held}); a restore never overwrites "
            "a facility: create a new, empty database and point TRIAGE_DATABASE_URL at it"
        )


def _extract(
    tar: tarfile.TarFile, info: tarfile.TarInfo, member: Member, target: Path, mode: int
) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    source = tar.extractfile(info)
    assert source is not None
    hasher = hashlib.sha256()
    handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(handle, "wb") as out:
        while chunk := source.read(_CHUNK):
            hasher.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(target, mode)
    # Checked once already; checked again in case the archive changed since.
    if hasher.hexdigest() != member.sha256:
        raise InvalidInput(
            f"archive member {member.name!r} changed while it was being restored; nothing was "
            "restored"
        )


def _migrate(database_url: str) -> None:
    database = Database(database_url)
    try:
        migrate.upgrade(database)
    finally:
        database.dispose()


# -- PostgreSQL's own tools -----------------------------------------------------------------------


def find_pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        candidate = Path(directory) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise NotInitialised(
        f"{name} not found on PATH or under /usr/lib/postgresql/*/bin; install the PostgreSQL "
        "client tools (Debian: apt-get install postgresql-client)"
    )


def _version(directory: str) -> tuple[int, ...]:
    number = Path(directory).parent.name
    return tuple(int(part) for part in number.split(".") if part.isdigit())


def libpq_connection(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for a SQLAlchemy URL, and the environment to run a tool in:
    the password goes in PGPASSWORD, never on a command line others can read."""
    url = make_url(database_url)
    if not url.database:
        raise InvalidInput("TRIAGE_DATABASE_URL: names no database")
    params: dict[str, str] = {}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    password = url.password if url.password is not None else params.pop("password", None)
    params.pop("password", None)
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = str(url.port)
    if url.username:
        params["user"] = url.username
    params["dbname"] = url.database
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in params.items())
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return conninfo, env


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run_tool(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        said = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupToolError(
            f"{what} failed (exit {result.returncode}): {said[-1] if said else 'no message'}"
        )


# -- the services' port -------------------------------------------------------------------------


def _summary(manifest: Manifest, sha256: str) -> ArchiveManifest:
    return ArchiveManifest(
        sha256=sha256,
        format_version=FORMAT_VERSION,
        created_at=manifest.created_at,
        backend=manifest.backend,
        facility_id=manifest.facility_id,
        ledger_size=manifest.ledger_size,
        ledger_root=manifest.ledger_root,
        checkpoint_size=manifest.checkpoint_size,
        members=len(manifest.members),
        total_bytes=sum(m.size for m in manifest.members),
        document=manifest.to_json(),
    )


@dataclass
class _Prepared:
    pending: PendingBackup

    @property
    def manifest(self) -> ArchiveManifest:
        return _summary(self.pending.manifest, self.pending.manifest_sha256)

    def publish(self) -> Path:
        return self.pending.publish()


@dataclass(frozen=True)
class TarArchives:
    """Tar archives of one installation (``services.backup.BackupArchives``)."""

    data_dir: Path
    database_url: str
    facility_id: str  # the facility backed up; restores take theirs from the manifest

    @contextmanager
    def prepare(self, output: Path) -> Iterator[PreparedArchive]:
        """The archive under a temporary name beside ``output`` (see ``prepared_backup``)."""
        with prepared_backup(self.data_dir, self.database_url, self.facility_id, output) as pending:
            yield _Prepared(pending)

    def restore(self, archive: Path) -> RestoredArchive:
        """Check and restore ``archive`` into this (new, empty) installation."""
        done = restore_backup(archive, self.data_dir, self.database_url)
        summary = _summary(done.archive.manifest, done.archive.manifest_sha256)
        return RestoredArchive(summary, done.data_dir, done.backend)
