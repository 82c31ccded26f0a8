"""`triage backup` and `triage restore`: the whole facility in one archive, and back.

Both act on the data directory itself, as `triage init` and `triage serve` do: they run as the
host account that owns it, with no API token. A token would add nothing: whoever can read the
data directory holds the signing key already, and the archive holds it too. Each records itself
in the ledger as the system (actor ``system:backup``), never with a secret or a path.

The backup's entry is appended after the snapshot, in its own transaction, and before the
archive gets its final name: so the archive (whose manifest describes exactly the snapshot)
does not hold its own entry, and every archive under its final name has an entry naming it by
its manifest's SHA-256. A restore appends ``system.restored`` once the restored ledger is
verified, so the log shows where it was brought back from an archive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.adapters import backup
from triage.adapters.replay import replay_check
from triage.bootstrap import App
from triage.config import Settings
from triage.entrypoints.cli_common import DataDir, JsonFlag
from triage.entrypoints.encoding import b64
from triage.errors import IntegrityFailure, TriageError
from triage.services import backup as backup_service
from triage.services import ledger as ledger_service

BACKUP_HELP = (
    "Write a consistent backup of the facility to OUTPUT, while the server runs.\n\n"
    "OUTPUT is one tar archive: a snapshot of the database, the facility's keys, the evidence "
    "files, and manifest.json with the SHA-256 of each. The archive HOLDS THE FACILITY SIGNING "
    "KEY: it is written with mode 0600; store it as you would the key itself. It also holds the "
    "latest signed checkpoint kept outside the database, which a restore puts back.\n\n"
    "The ledger is first checked against the history last signed and a checkpoint is signed "
    "(a ledger that fails the check is refused: no archive).\n\n"
    "Run as the account that owns the data directory (no token). The backup is recorded in "
    "the ledger as a system.backup entry naming the manifest's SHA-256. An existing OUTPUT is "
    "never overwritten."
)
RESTORE_HELP = (
    "Restore a facility from ARCHIVE into a new, empty data directory (and, on PostgreSQL, into "
    "the new, empty database TRIAGE_DATABASE_URL names), then verify it.\n\n"
    "Every file is checked against the manifest before anything is written; links, absolute "
    "paths and '..' are refused, and so is a data directory or database that already holds "
    "anything. The schema is brought up to date, then the ledger is verified and replayed: "
    "exit 0 and a system.restored entry when it matches the manifest, exit 1 when it does not."
)


def record_backup(application: App, pending: backup.PendingBackup) -> int:
    """Append the ``system.backup`` entry naming the archive; returns its index."""
    manifest = pending.manifest
    data = {
        "manifest_sha256": pending.manifest_sha256,
        "format_version": backup.FORMAT_VERSION,
        "backend": manifest.backend,
        "ledger_size": manifest.ledger_size,
        "ledger_root": b64(manifest.ledger_root),
        "checkpoint_size": manifest.checkpoint_size,
        "members": len(manifest.members),
        "bytes": sum(m.size for m in manifest.members),
    }
    return backup_service.record_backup(application.uow, data)


def record_restore(application: App, checked: backup.CheckedArchive) -> int:
    """Append the ``system.restored`` entry naming the archive restored; returns its index."""
    manifest = checked.manifest
    data = {
        "manifest_sha256": checked.manifest_sha256,
        "backup_created_at": manifest.created_at,
        "ledger_size": manifest.ledger_size,
        "ledger_root": b64(manifest.ledger_root),
    }
    return backup_service.record_restore(application.uow, data)


def register(app: typer.Typer, open_app: Any, emit: Any, fail: Any) -> None:
    """Add `triage backup` and `triage restore` to the main app (helpers come from cli.py)."""

    @app.command("backup", help=BACKUP_HELP)
    def backup_command(
        output: Annotated[
            Path, typer.Argument(help="The archive to write (a new file; never overwritten).")
        ],
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Write a consistent backup of the facility to OUTPUT, while the server runs."""
        with open_app(data_dir) as application:
            # A missing or exposed key is refused before anything is written.
            signer = application.signer_key()
            # The ledger is vouched for and signed as it stands, so the archive's checkpoint
            # covers (nearly) all of it; a ledger that is not the history last signed is
            # refused, as at any checkpoint, and no archive is written.
            try:
                ledger_service.issue_checkpoint_if_grown(
                    application.uow, application.origin, signer
                )
            except IntegrityFailure as exc:
                where = f"first bad index {exc.index}: " if exc.index is not None else ""
                raise fail(
                    f"backup refused, no archive was written: {where}{exc} (recorded, and an "
                    "alert raised; 'triage ledger verify' says more)",
                    1,
                ) from exc
            settings = application.settings
            try:
                with backup.prepared_backup(
                    settings.data_dir, settings.database_url, application.facility.id, output
                ) as pending:
                    index = record_backup(application, pending)
                    path = pending.publish()
            except OSError as exc:
                raise fail(f"backup failed, no archive was written: {exc}") from exc
        manifest = pending.manifest
        data = {
            "archive": str(path),
            "manifest_sha256": pending.manifest_sha256,
            "ledger_entry": index,
            "manifest": manifest.to_json(),
        }
        emit(
            as_json,
            data,
            f"backup written: {path} (mode 0600: it holds the facility signing key)\n"
            f"facility {manifest.facility_id}, {manifest.backend}, {len(manifest.members)} "
            f"files; ledger size {manifest.ledger_size}, root {b64(manifest.ledger_root)}\n"
            f"manifest sha256 {pending.manifest_sha256} (ledger entry {index})",
        )

    @app.command("restore", help=RESTORE_HELP)
    def restore_command(
        archive: Annotated[Path, typer.Argument(help="An archive `triage backup` wrote.")],
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Restore a facility from ARCHIVE into a new data directory, then verify it."""
        settings = Settings.from_env(data_dir)
        try:
            restored = backup.restore_backup(archive, settings.data_dir, settings.database_url)
        except TriageError as exc:
            raise fail(str(exc)) from exc
        except OSError as exc:
            raise fail(f"restore failed: {exc}") from exc
        checked = restored.archive
        manifest = checked.manifest
        index = None
        with open_app(data_dir) as application:
            report = ledger_service.verify(
                application.uow, application.verifier_key(), application.origin
            )
            replay = replay_check(application.database, application.facility.id)
            problems = [
                p.message if p.index is None else f"index {p.index}: {p.message}"
                for p in report.problems
            ]
            if application.facility.id != manifest.facility_id:
                problems.append(
                    f"the restored facility is {application.facility.id!r}, the manifest "
                    f"names {manifest.facility_id!r}"
                )
            if (report.size, report.root) != (manifest.ledger_size, manifest.ledger_root):
                problems.append(
                    f"the restored ledger has size {report.size} and root {b64(report.root)}; "
                    f"the manifest says size {manifest.ledger_size} and root "
                    f"{b64(manifest.ledger_root)}"
                )
            problems += [f"replay: {d}" for d in replay.differences]
            if not problems:
                index = record_restore(application, checked)
        data = {
            "ok": not problems,
            "data_dir": str(restored.data_dir),
            "backend": restored.backend,
            "facility": manifest.facility_id,
            "manifest_sha256": checked.manifest_sha256,
            "backup_created_at": manifest.created_at,
            "size": report.size,
            "root": b64(report.root),
            "entries_checked": report.entries_checked,
            "checkpoints_checked": report.checkpoints_checked,
            "rows_replayed": replay.rows,
            "problems": problems,
            "ledger_entry": index,
        }
        if not problems:
            emit(
                as_json,
                data,
                f"restored {archive} into {restored.data_dir} ({restored.backend})\n"
                f"ok: {report.entries_checked} entries, {report.checkpoints_checked} checkpoints "
                f"verified; {replay.rows} rows agree with the ledger; size {report.size}, "
                f"root {b64(report.root)}\n"
                f"recorded as ledger entry {index}",
            )
            return
        emit(
            as_json,
            data,
            f"FAILED: the restored facility in {restored.data_dir} does not verify; do not put "
            "it into service:\n" + "\n".join(f"  {p}" for p in problems),
        )
        raise typer.Exit(1)
