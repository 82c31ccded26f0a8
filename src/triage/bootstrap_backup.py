"""Wiring for backup and restore: the archive adapter behind the backup service's port.

Kept beside ``bootstrap.py`` while issue 15 reworks that module; it belongs there.
"""

from __future__ import annotations

from pathlib import Path

from triage.adapters.backup import TarArchives
from triage.bootstrap import App, bootstrap
from triage.config import Settings
from triage.services import backup as backup_service


def archives(app: App) -> TarArchives:
    """Archives of the installation ``app`` runs."""
    return TarArchives(app.settings.data_dir, app.settings.database_url, app.facility.id)


def restore(settings: Settings, archive: Path) -> backup_service.RestoreReport:
    """Restore ``archive`` into the new installation ``settings`` name, then open it and check
    it against the archive's manifest (recorded when it agrees)."""
    restored = TarArchives(settings.data_dir, settings.database_url, "").restore(archive)
    app = bootstrap(settings)
    try:
        return backup_service.accept_restore(
            app.uow,
            restored,
            app.facility.id,
            app.origin,
            app.verifier_key(),
            app.replay_check,
        )
    finally:
        app.close()
