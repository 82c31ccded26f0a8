"""Backups and restores: the ledger's record of them, and when a restored facility is accepted.

The archive itself sits behind the ``BackupArchives`` port (``adapters/backup.py``). A backup
vouches for and signs the ledger first; its ``system.backup`` entry is appended after the
snapshot, in its own transaction, and before the archive gets its final name: so the archive
(whose manifest describes exactly the snapshot) does not hold its own entry, and every archive
under its final name has an entry naming it by its manifest's SHA-256. A restore appends
``system.restored`` only once the restored ledger verifies, replays and matches the manifest.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from triage.domain.caller import Caller
from triage.ledger.audit import AuditReport
from triage.ledger.entry import Ref
from triage.services import ledger as ledger_service
from triage.services.common import make_entry
from triage.services.ports import ReplayCheck, UnitOfWorkFactory
from triage.services.proof_encoding import b64

BACKUP_ACTOR = Caller.system("backup")


@dataclass(frozen=True)
class ArchiveManifest:
    """What the ledger and the restore check need of an archive's ``manifest.json``."""

    sha256: str  # of manifest.json's bytes: what names the archive in the ledger
    format_version: int
    created_at: str
    backend: str
    facility_id: str
    ledger_size: int
    ledger_root: bytes
    checkpoint_size: int | None
    members: int
    total_bytes: int
    # manifest.json as written into the archive: a file format of its own, printed as it is.
    document: dict[str, Any]


class PreparedArchive(Protocol):
    """A complete archive under a temporary name, removed unless published."""

    @property
    def manifest(self) -> ArchiveManifest: ...

    def publish(self) -> Path:
        """Give the archive its final name (never replacing a file); returns it."""
        ...


@dataclass(frozen=True)
class RestoredArchive:
    """An archive whose every member matched its manifest, restored into a new data directory."""

    manifest: ArchiveManifest
    data_dir: Path
    backend: str


class BackupArchives(Protocol):
    """Writes a facility's archive, and restores one into a new, empty installation."""

    def prepare(self, output: Path) -> AbstractContextManager[PreparedArchive]:
        """Snapshot the facility into an archive beside ``output`` (OSError when it cannot)."""
        ...

    def restore(self, archive: Path) -> RestoredArchive:
        """Check ``archive`` and restore it (InvalidInput or Conflict before writing anything)."""
        ...


@dataclass(frozen=True)
class BackupResult:
    """An archive under its final name and the ledger entry naming it."""

    archive: Path
    manifest: ArchiveManifest
    ledger_entry: int


@dataclass(frozen=True)
class RestoreReport:
    """How a restored facility checked against its archive's manifest."""

    restored: RestoredArchive
    verification: AuditReport
    rows_replayed: int
    problems: list[str]
    ledger_entry: int | None  # the system.restored entry, when accepted

    @property
    def ok(self) -> bool:
        """Whether the restored facility may be put into service."""
        return not self.problems


def back_up(
    uow_factory: UnitOfWorkFactory,
    archives: BackupArchives,
    output: Path,
    origin: str,
    signer_key: str,
) -> BackupResult:
    """Vouch for and sign the ledger as it stands, write the archive, record it, publish it.

    A ledger that is not the history last signed is refused (IntegrityFailure, recorded as at
    any checkpoint) and no archive is written; the checkpoint covers (nearly) all of the archive.
    """
    ledger_service.issue_checkpoint_if_grown(
        uow_factory, ledger_service.LEDGER_ACTOR, origin, signer_key
    )
    with archives.prepare(output) as prepared:
        manifest = prepared.manifest
        index = _record(
            uow_factory,
            "system.backup",
            {
                "manifest_sha256": manifest.sha256,
                "format_version": manifest.format_version,
                "backend": manifest.backend,
                "ledger_size": manifest.ledger_size,
                "ledger_root": b64(manifest.ledger_root),
                "checkpoint_size": manifest.checkpoint_size,
                "members": manifest.members,
                "bytes": manifest.total_bytes,
            },
        )
        path = prepared.publish()
    return BackupResult(path, manifest, index)


def accept_restore(
    uow_factory: UnitOfWorkFactory,
    restored: RestoredArchive,
    facility_id: str,
    origin: str,
    verifier_key: str,
    replay: ReplayCheck,
) -> RestoreReport:
    """Verify and replay the restored ledger and compare it with the manifest; when all agree,
    record ``system.restored`` naming the archive."""
    manifest = restored.manifest
    report = ledger_service.verify(uow_factory, ledger_service.LEDGER_ACTOR, verifier_key, origin)
    replayed = replay()
    problems = [
        p.message if p.index is None else f"index {p.index}: {p.message}" for p in report.problems
    ]
    if facility_id != manifest.facility_id:
        problems.append(
            f"the restored facility is {facility_id!r}, the manifest names {manifest.facility_id!r}"
        )
    if (report.size, report.root) != (manifest.ledger_size, manifest.ledger_root):
        problems.append(
            f"the restored ledger has size {report.size} and root {b64(report.root)}; "
            f"the manifest says size {manifest.ledger_size} and root {b64(manifest.ledger_root)}"
        )
    problems += [f"replay: {d}" for d in replayed.differences]
    index = None
    if not problems:
        index = _record(
            uow_factory,
            "system.restored",
            {
                "manifest_sha256": manifest.sha256,
                "backup_created_at": manifest.created_at,
                "ledger_size": manifest.ledger_size,
                "ledger_root": b64(manifest.ledger_root),
            },
        )
    return RestoreReport(restored, report, replayed.rows, problems, index)


# ``data`` is the entry's data: a JSON object (see common.make_entry).
def _record(uow_factory: UnitOfWorkFactory, entry_type: str, data: dict[str, Any]) -> int:
    with uow_factory(write=True) as uow:
        subject = Ref("facility", uow.facility_id)
        index = uow.ledger.record([make_entry(uow, BACKUP_ACTOR, entry_type, subject, data)])
        uow.commit()
    return index
