"""Wires settings, database, keys and facility together: the only module that knows them all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from triage.adapters import keys, migrate
from triage.adapters.checkpoint_file import CheckpointFile, checkpoint_dir
from triage.adapters.database import Database
from triage.adapters.evidence_store import EvidenceStore
from triage.adapters.unit_of_work import SqlUnitOfWorkFactory
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.facility import Facility, default_origin
from triage.errors import InvalidInput, NotInitialised
from triage.services import assessment, assurance, history, seals
from triage.services import facility as facility_service
from triage.services import ledger as ledger_service

DEMO_FACILITY_ID = "demo"
DEMO_FACILITY_NAME = "Demo Triage Facility"


@dataclass
class App:
    """Everything a running command or server needs."""

    settings: Settings
    database: Database
    facility: Facility
    uow: SqlUnitOfWorkFactory

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

    def receipt(self, caller: Caller, device: str) -> str:
        """A device's offline receipt, signed by this facility."""
        return history.device_receipt(self.uow, caller, device, self.origin, self.signer_key())

    def certificate(self, caller: Caller, device: str) -> bytes:
        """A released device's triage certificate (PDF), built from its verified receipt."""
        from triage.adapters.certificate import render_certificate

        receipt = self.receipt(caller, device)
        return render_certificate(receipt, self.verifier_key(), self.facility.name)

    def seal_labels(self, caller: Caller, **which: Any) -> tuple[bytes, str]:
        """Labels (PDF, one per seal) for the seal bags of a batch or of some seals, and a
        file name for them."""
        from triage.adapters.labels import SealLabel, render_seal_labels, seal_labels_filename
        from triage.domain.seals import describe_class

        found = seals.seals_for_labels(self.uow, caller, **which)
        labels = [
            SealLabel(
                s.serial,
                s.batch_id,
                describe_class(batch["seal_class"], batch["class_description"]),
                batch["supplier"],
            )
            for s, batch in found
        ]
        name = seal_labels_filename(labels[0].serial if labels else "none", len(labels))
        return render_seal_labels(labels, self.facility.name), name

    def device_label(self, caller: Caller, job_id: str) -> tuple[bytes, str]:
        """The label (PDF) for a device's bag: its Device ID, seal and job; and a file name."""
        from triage.adapters.labels import (
            DeviceLabel,
            device_label_filename,
            render_device_labels,
        )

        job, device = seals.job_for_label(self.uow, caller, job_id)
        label = DeviceLabel(
            device.id.value, device.type.name, job.id, job.seal_serial, self.facility.name
        )
        return render_device_labels([label]), device_label_filename(device.id.value)

    def evidence_store(self) -> EvidenceStore:
        """Evidence files, by SHA-256, in the data directory."""
        return EvidenceStore(self.settings.data_dir / "evidence")

    def evidence_sources(self) -> assurance.EvidenceSources:
        """The whole-ledger checks automatic evidence reports."""

        def verification() -> dict[str, Any]:
            from triage.entrypoints.encoding import b64

            report = ledger_service.verify(self.uow, self.verifier_key(), self.origin)
            latest = ledger_service.status(self.uow).latest_checkpoint
            return {
                "ok": report.ok,
                "size": report.size,
                "root": b64(report.root),
                "entries_checked": report.entries_checked,
                "checkpoints_checked": report.checkpoints_checked,
                "problems": [{"index": p.index, "message": p.message} for p in report.problems],
                "latest_checkpoint": None if latest is None else latest.note,
                "verifier_key": self.verifier_key(),
            }

        def replay() -> dict[str, Any]:
            from triage.adapters.replay import replay_check

            report = replay_check(self.database, self.facility.id)
            return {
                "ok": not report.differences,
                "entries": report.entries,
                "rows": report.rows,
                "differences": [str(d) for d in report.differences],
            }

        return assurance.EvidenceSources(verification, replay)

    # -- assurance exports (OSCAL JSON, the evidence pack) ------------------------------------

    def oscal_catalog(self, caller: Caller) -> dict[str, Any]:
        """The controls in force as an OSCAL catalog."""
        from triage.adapters import oscal

        catalogue, own, not_applicable = assurance.catalogue_parts(self.uow, caller)
        return oscal.catalog(catalogue, own, not_applicable, datetime.now(UTC))

    def _facility_json(self) -> dict[str, str]:
        return {"id": self.facility.id, "name": self.facility.name}

    def oscal_assessment_results(self, caller: Caller, assessment_id: str) -> dict[str, Any]:
        """One assessment as OSCAL assessment-results."""
        from triage.adapters import oscal

        catalogue, own, _ = assurance.catalogue_parts(self.uow, caller)
        found = assessment.get(self.uow, caller, assessment_id)
        return oscal.assessment_results(
            found, [*catalogue.controls, *own], self._facility_json(), datetime.now(UTC)
        )

    def oscal_poam(self, caller: Caller) -> dict[str, Any]:
        """Open findings and remedial actions as an OSCAL plan-of-action-and-milestones."""
        from triage.adapters import oscal

        catalogue, own, _ = assurance.catalogue_parts(self.uow, caller)
        found = assessment.list_all(self.uow, caller)
        return oscal.plan_of_action(
            found, [*catalogue.controls, *own], self._facility_json(), datetime.now(UTC)
        )

    def evidence_pack(self, caller: Caller, assessment_id: str) -> tuple[bytes, bytes, str]:
        """(PDF, zip, zip file name): the assessment's evidence pack, every file checked
        against its recorded SHA-256 and with the inclusion proof of its ledger entry."""
        from triage.adapters import evidence_pack
        from triage.entrypoints.encoding import b64, inclusion_json

        found = assessment.get(self.uow, caller, assessment_id)
        store = self.evidence_store()
        rows = assurance.control_readiness(self.uow, caller, store)
        chosen = set(found["controls"])
        rows = [r for r in rows if r["control"]["id"] in chosen]
        files = []
        proofs: dict[str, dict[str, Any]] = {}
        # Every proof is against one signed checkpoint of the log as it is now, and carries
        # its entry's bytes: the pack is checkable with nothing but the verifier key.
        ledger_service.issue_checkpoint_if_grown(self.uow, self.origin, self.signer_key())
        checkpoint = ledger_service.status(self.uow).latest_checkpoint
        for item in found["evidence"]:
            _, content = assurance.evidence_file(self.uow, caller, store, item["id"])
            files.append((item, content))
            if item["ledger_index"] is not None and checkpoint is not None:
                index = item["ledger_index"]
                proof = ledger_service.prove_inclusion(self.uow, index, checkpoint.size)
                with self.uow(write=False) as uow:
                    entry = uow.ledger.log.entry(index)
                proofs[item["id"]] = {
                    **inclusion_json(proof),
                    "entry": b64(entry),
                    "checkpoint": checkpoint.note,
                }
        catalogue, _, _ = assurance.catalogue_parts(self.uow, caller)
        at = datetime.now(UTC)
        pdf = evidence_pack.render_assessment_pdf(
            found, rows, self.facility.name, f"{catalogue.name} {catalogue.version}", at
        )
        pack = evidence_pack.build_pack(found, rows, files, proofs, pdf, at)
        return pdf, pack, evidence_pack.pack_filename(found)

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
    origin = origin or default_origin(facility_id)
    try:  # validate before anything is written
        Facility(facility_id, name, origin, datetime.now(UTC))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
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
    factory = SqlUnitOfWorkFactory(database, facility_id, keeper)
    facility, created = facility_service.create_facility(factory, facility_id, name, origin)
    if created:
        # A new facility keeps its checkpoint from the start: a missing file is then a
        # failure, not an installation from before the file was kept (those only get a warning).
        keeper.start()
    app = App(settings, database, facility, factory)
    return InitResult(app, verifier, key_created, created)


def bootstrap(settings: Settings | None = None, facility_id: str | None = None) -> App:
    """Open an initialised installation; ``TRIAGE_FACILITY`` picks one when there are several."""
    settings = settings or Settings.from_env()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        raise NotInitialised(f"no database at {url.database}; run 'triage init' first")
    database = Database(settings.database_url)
    if not migrate.is_current(database):
        raise NotInitialised("the database schema is not up to date; run 'triage init'")
    wanted = facility_id or os.environ.get("TRIAGE_FACILITY")
    with SqlUnitOfWorkFactory(database, "")(write=False) as uow:
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
    return App(settings, database, facility, SqlUnitOfWorkFactory(database, facility.id, keeper))
