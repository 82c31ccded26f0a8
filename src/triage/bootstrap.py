"""Wires settings, database, keys and facility together: the only module that knows them all.

What only some commands need (the PDF printer and reportlab, the OSCAL and evidence-pack
builders, the replay check, backups, the DUIS schema) is imported when first used, so that a
command that does not print or export starts without loading it (issue 22).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from triage.adapters import keys, migrate
from triage.adapters.changes import ChangeHub, ChangeWatcher, Runner
from triage.adapters.checkpoint_file import CheckpointFile, checkpoint_dir
from triage.adapters.clock import SystemClock
from triage.adapters.database import Database
from triage.adapters.evidence_store import EvidenceStore
from triage.adapters.packaged_data import PackagedFiles
from triage.adapters.passwords import Argon2Passwords
from triage.adapters.totp import PyotpCodes
from triage.adapters.unit_of_work import SqlUnitOfWorkFactory
from triage.config import DEMO_FACILITY_ID, DEMO_FACILITY_NAME, Settings
from triage.domain.facility import Facility, default_origin
from triage.errors import Conflict, NotInitialised
from triage.services.issuer import Issuer

if TYPE_CHECKING:
    from triage.adapters.backup import TarArchives
    from triage.duis.schema import DuisSchema
    from triage.services.backup import RestoreReport
    from triage.services.incident_reports import RegisterPrinter
    from triage.services.ports import (
        Clock,
        DocumentRenderer,
        OscalBuilder,
        PackBuilder,
        ReplayResult,
    )


@dataclass
class App:
    """Everything a running command or server needs."""

    settings: Settings
    database: Database
    facility: Facility
    uow: SqlUnitOfWorkFactory

    @cached_property
    def documents(self) -> DocumentRenderer:
        """The facility's documents as PDF (reportlab loads here, on first use)."""
        from triage.adapters.pdf.documents import PdfDocuments

        return PdfDocuments()

    @cached_property
    def oscal(self) -> OscalBuilder:
        """OSCAL JSON documents of the assurance records."""
        from triage.adapters.oscal import OscalDocuments

        return OscalDocuments()

    @cached_property
    def packs(self) -> PackBuilder:
        """Assessment reports and evidence packs (reportlab loads here, on first use)."""
        from triage.adapters.evidence_pack import EvidencePacks

        return EvidencePacks()

    @cached_property
    def register_printer(self) -> RegisterPrinter:
        """Prints the incident register (issue 20 (E))."""
        from triage.adapters.pdf.documents import PdfDocuments

        return PdfDocuments()

    @property
    def changes(self) -> ChangeHub:
        """Who waits in this process for what the facility records: the API's waiting reads,
        woken after each commit."""
        return self.uow.changes

    def change_watcher(self, run: Runner) -> ChangeWatcher:
        """What wakes this process's waiters for the changes other processes record; ``run``
        runs its quick read of the ledger (``routing.Quick.read``)."""
        return ChangeWatcher(self.changes, self.uow.change_reader(), run)

    @property
    def origin(self) -> str:
        """The facility log's origin: the first line of its checkpoints and its key's name."""
        return self.facility.log_origin

    def signer_key(self) -> str:
        """The facility's signing key, read from its 0600 file."""
        return keys.load_signer_key(self.settings.keys_dir)

    def verifier_key(self) -> str:
        """The facility's public verifier key."""
        return keys.load_verifier_key(self.settings.keys_dir)

    def secret_box(self) -> keys.SecretBox:
        """Encrypts and decrypts stored secrets (TOTP secrets) with the 0600 secrets key."""
        return keys.load_secret_box(self.settings.keys_dir)

    def issuer(self) -> Issuer:
        """The facility with its signing and verifier keys, for what it issues."""
        return Issuer(self.facility, self.signer_key(), self.verifier_key())

    def evidence_store(self) -> EvidenceStore:
        """Evidence files, by SHA-256, in the data directory."""
        return EvidenceStore(self.settings.data_dir / "evidence")

    def duis_schema(self) -> DuisSchema:
        """The DUIS schema the facility configured (loaded once per process); Conflict saying
        how to configure it when it is missing or cannot be loaded."""
        from triage.duis import schema as duis_schema
        from triage.duis.errors import DuisError

        path = self.settings.duis_schema or self.settings.data_dir / "duis"
        try:
            return duis_schema.load(path)
        except DuisError as exc:
            raise Conflict(
                f"{exc}. DUIS files are validated against the DCC's DUIS 5.4 schema, which "
                "this product does not ship: put 'DUIS Schema V5.4.xsd' with the two schemas "
                "it imports ('MMC Schema V5.4.xsd', 'xmldsig-core-schema.xsd') in "
                f"{self.settings.data_dir / 'duis'}, or set TRIAGE_DUIS_SCHEMA to the file "
                "or its folder"
            ) from None

    def archives(self) -> TarArchives:
        """Backup archives of this installation."""
        from triage.adapters.backup import TarArchives  # only backups need it (and Alembic)

        return TarArchives(self.settings.data_dir, self.settings.database_url, self.facility.id)

    def replay_check(self) -> ReplayResult:
        """Replay the whole ledger into fresh tables and compare them with the live ones."""
        from triage.adapters.replay import replay_check

        return replay_check(self.database, self.facility.id)

    def close(self) -> None:
        """Release database connections."""
        self.database.dispose()


@dataclass(frozen=True)
class InitResult:
    """What ``triage init`` did."""

    app: App
    verifier_key: str
    key_created: bool
    facility_created: bool


def initialise(
    settings: Settings,
    facility_id: str = DEMO_FACILITY_ID,
    name: str = DEMO_FACILITY_NAME,
    origin: str | None = None,
) -> InitResult:
    """Create the data directory, the database schema, the facility key and the facility."""
    from triage.services import facility as facility_service

    origin = origin or default_origin(facility_id)
    clock = SystemClock()
    Facility(facility_id, name, origin, clock.now())  # validate before anything is written
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    verifier, key_created = keys.create_facility_key(settings.keys_dir, origin)
    keys.create_secrets_key(settings.keys_dir)
    database = Database(settings.database_url)
    migrate.upgrade(database)
    key_name = verifier.split("+", 1)[0]
    if key_name != origin:
        raise NotInitialised(
            f"the facility key in {settings.keys_dir} is named {key_name!r}, but the log origin "
            f"is {origin!r}; use --origin {key_name} or a fresh data directory"
        )
    keeper = CheckpointFile(checkpoint_dir(settings.data_dir, facility_id))
    factory = _factory(settings, database, facility_id, keeper, clock)
    facility, created = facility_service.create_facility(factory, facility_id, name, origin)
    if created:
        # A new facility keeps its checkpoint from the start: a missing file is then a
        # failure, not an installation from before the file was kept (those only get a warning).
        keeper.start()
    app = App(settings, database, facility, factory)
    return InitResult(app, verifier, key_created, created)


def bootstrap(settings: Settings | None = None, facility_id: str | None = None) -> App:
    """Open an initialised installation; ``facility_id`` (or the setting ``facility``,
    ``TRIAGE_FACILITY``) picks one when there are several."""
    settings = settings or Settings.from_env()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        raise NotInitialised(f"no database at {url.database}; run 'triage init' first")
    database = Database(settings.database_url)
    if not migrate.is_current(database):
        raise NotInitialised("the database schema is not up to date; run 'triage init'")
    wanted = facility_id or settings.facility
    with SqlUnitOfWorkFactory(database, "", settings=settings)(write=False) as uow:
        facilities = uow.facilities.list()
    chosen = [f for f in facilities if wanted in (None, f.id)]
    if not chosen:
        raise NotInitialised(
            f"no facility {wanted!r} in the database; run 'triage init'"
            if wanted
            else "no facility in the database; run 'triage init'"
        )
    if len(chosen) > 1:
        raise NotInitialised(
            "several facilities share this database; set TRIAGE_FACILITY to one of "
            + ", ".join(f.id for f in chosen)
        )
    facility = chosen[0]
    keeper = CheckpointFile(checkpoint_dir(settings.data_dir, facility.id))
    factory = _factory(settings, database, facility.id, keeper, SystemClock())
    return App(settings, database, facility, factory)


def restore(settings: Settings, archive: Path) -> RestoreReport:
    """Restore ``archive`` into the new installation ``settings`` name, then open it and check
    it against the archive's manifest (recorded when it agrees)."""
    from triage.adapters.backup import TarArchives
    from triage.services import backup as backup_service

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


def _factory(
    settings: Settings, database: Database, facility_id: str, keeper: CheckpointFile, clock: Clock
) -> SqlUnitOfWorkFactory:
    """The unit-of-work factory, with the settings, clock, password hasher, TOTP codes and
    packaged data the use cases reach through it."""
    return SqlUnitOfWorkFactory(
        database,
        facility_id,
        keeper,
        passwords=Argon2Passwords(),
        totp=PyotpCodes(),
        packaged=PackagedFiles(),
        clock=clock,
        settings=settings,
    )
