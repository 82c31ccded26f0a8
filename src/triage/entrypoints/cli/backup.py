"""`triage backup` and `triage restore`: the whole facility in one archive, and back.

Both act on the data directory itself, as `triage init` and `triage serve` do: they run as the
host account that owns it, with no API token. A token would add nothing: whoever can read the
data directory holds the signing key already, and the archive holds it too. What the ledger
records of them, and when a restore is accepted, is services/backup.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.config import Settings
from triage.entrypoints.cli.options import DataDir, JsonFlag
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import open_app
from triage.errors import IntegrityFailure, TriageError

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


def backup(
    output: Annotated[
        Path, typer.Argument(help="The archive to write (a new file; never overwritten).")
    ],
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a consistent backup of the facility to OUTPUT, while the server runs."""
    from triage.services import backup as backup_service
    from triage.services.proof_encoding import b64

    with open_app(data_dir) as application:
        # A missing or exposed key is refused before anything is written.
        signer = application.signer_key()
        try:
            done = backup_service.back_up(
                application.uow,
                application.archives(),
                output,
                application.origin,
                signer,
            )
        except IntegrityFailure as exc:
            where = f"first bad index {exc.index}: " if exc.index is not None else ""
            raise fail(
                f"backup refused, no archive was written: {where}{exc} (recorded, and an "
                "alert raised; 'triage ledger verify' says more)",
                1,
            ) from exc
        except OSError as exc:
            raise fail(f"backup failed, no archive was written: {exc}") from exc
    manifest = done.manifest
    data = {
        "archive": str(done.archive),
        "manifest_sha256": manifest.sha256,
        "ledger_entry": done.ledger_entry,
        "manifest": manifest.document,
    }
    emit(
        as_json,
        data,
        f"backup written: {done.archive} (mode 0600: it holds the facility signing key)\n"
        f"facility {manifest.facility_id}, {manifest.backend}, {manifest.members} "
        f"files; ledger size {manifest.ledger_size}, root {b64(manifest.ledger_root)}\n"
        f"manifest sha256 {manifest.sha256} (ledger entry {done.ledger_entry})",
    )


def restore(
    archive: Annotated[Path, typer.Argument(help="An archive `triage backup` wrote.")],
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Restore a facility from ARCHIVE into a new data directory, then verify it."""
    from triage import bootstrap  # the database stack loads only when a command runs
    from triage.services.proof_encoding import b64

    try:
        found = bootstrap.restore(Settings.from_env(data_dir), archive)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"restore failed: {exc}") from exc
    restored = found.restored
    manifest = restored.manifest
    report = found.verification
    data = {
        "ok": found.ok,
        "data_dir": str(restored.data_dir),
        "backend": restored.backend,
        "facility": manifest.facility_id,
        "manifest_sha256": manifest.sha256,
        "backup_created_at": manifest.created_at,
        "size": report.size,
        "root": b64(report.root),
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "rows_replayed": found.rows_replayed,
        "problems": found.problems,
        "ledger_entry": found.ledger_entry,
    }
    if found.ok:
        emit(
            as_json,
            data,
            f"restored {archive} into {restored.data_dir} ({restored.backend})\n"
            f"ok: {report.entries_checked} entries, {report.checkpoints_checked} checkpoints "
            f"verified; {found.rows_replayed} rows agree with the ledger; size {report.size}, "
            f"root {b64(report.root)}\n"
            f"recorded as ledger entry {found.ledger_entry}",
        )
        return
    emit(
        as_json,
        data,
        f"FAILED: the restored facility in {restored.data_dir} does not verify; do not put "
        "it into service:\n" + "\n".join(f"  {p}" for p in found.problems),
    )
    raise typer.Exit(1)
