"""Fakes of the assurance area's ports that are not storage (the evidence file store, the
replay check, the OSCAL and evidence-pack builders), a facility's issuer, and seeding helpers
that go through the real use cases."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from tests.unit.fakes import FACILITY_ID, START, FakeUnitOfWorkFactory
from tests.unit.services.callers import administrator
from triage.domain.assurance_records import Assessment, AttachedEvidence, Evidence
from triage.domain.caller import Caller
from triage.domain.catalogue import Catalogue, Control, ControlReadiness
from triage.domain.facility import Facility
from triage.errors import InvalidInput
from triage.ledger import note
from triage.services import assessment, assurance
from triage.services.issuer import Issuer
from triage.services.ports import EntryProof, OscalDocument

ORIGIN = "triage.example.net/unit"
SIGNER, VERIFIER = note.generate_key(ORIGIN)
FACILITY = Facility(FACILITY_ID, "Unit Test Facility", ORIGIN, START)
ISSUER = Issuer(FACILITY, SIGNER, VERIFIER)

# A control of the provider's own, as an administrator defines it.
OWN = {
    "id": "P-1",
    "clause": "Provider",
    "group": "Our own",
    "title": "Visitors are escorted",
    "requirement": "Every visitor to the triage floor is escorted by a member of staff.",
    "evidence": [{"kind": "upload", "name": "visitor-log", "title": "The visitor log"}],
}


class FakeFileStore:
    """Evidence files in memory by their SHA-256; a test can alter or lose one."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, content: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(content).hexdigest()
        self.files[digest] = content
        return digest, len(content)

    def put_stream(self, source: BinaryIO, limit: int = 1024 * 1024) -> tuple[str, int]:
        content = source.read(limit + 1)
        if len(content) > limit:
            raise InvalidInput("file: too large")
        if not content:
            raise InvalidInput("file: empty")
        return self.put(content)

    def read(self, sha256: str) -> bytes:
        return self.files[sha256]

    def check(self, sha256: str) -> str:
        if sha256 not in self.files:
            return "missing"
        return "ok" if hashlib.sha256(self.files[sha256]).hexdigest() == sha256 else "altered"

    def alter(self, sha256: str) -> None:
        self.files[sha256] += b" (edited)"

    def lose(self, sha256: str) -> None:
        del self.files[sha256]

    def delete(self, sha256: str) -> bool:
        """As a purge deletes a file (``PurgeableFileStore``)."""
        return self.files.pop(sha256, None) is not None


@dataclass(frozen=True)
class Replayed:
    """``ReplayResult``: what a replay found."""

    entries: int
    rows: int
    differences: Sequence[object] = ()
    notes: Sequence[str] = ()


@dataclass
class FakeReplay:
    """``ReplayCheck`` answering a set result."""

    result: Replayed = field(default_factory=lambda: Replayed(0, 0))
    calls: int = 0

    def __call__(self) -> Replayed:
        self.calls += 1
        return self.result


@dataclass
class FakeOscal:
    """``OscalBuilder`` that answers what it was given, so a test sees what the service chose."""

    def catalog(
        self,
        catalogue: Catalogue,
        own: Sequence[Control],
        not_applicable: Mapping[str, str],
        at: datetime,
    ) -> OscalDocument:
        return {
            "catalog": catalogue.name,
            "own": [c.id for c in own],
            "not_applicable": dict(not_applicable),
            "at": at,
        }

    def assessment_results(
        self,
        assessment: Assessment,
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
        register: Sequence[Mapping[str, Any]] = (),
    ) -> OscalDocument:
        return {
            "assessment": assessment.id,
            "controls": [c.id for c in controls],
            "facility": facility.id,
            "at": at,
            "register": [r["id"] for r in register],
        }

    def plan_of_action(
        self,
        assessments: Sequence[Assessment],
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
    ) -> OscalDocument:
        return {
            "assessments": [a.id for a in assessments],
            "controls": [c.id for c in controls],
            "facility": facility.id,
            "at": at,
        }


@dataclass
class FakePackBuilder:
    """``PackBuilder`` that keeps what it was given."""

    given: dict[str, Any] = field(default_factory=dict)

    def report(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        facility_name: str,
        catalogue_label: str,
        at: datetime,
    ) -> bytes:
        self.given.update(facility_name=facility_name, catalogue_label=catalogue_label)
        return f"report of {assessment.id}".encode()

    def pack(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        files: Sequence[tuple[AttachedEvidence, bytes]],
        proofs: Mapping[str, EntryProof],
        report: bytes,
        at: datetime,
    ) -> bytes:
        self.given.update(
            readiness=list(readiness), files=list(files), proofs=dict(proofs), report=report
        )
        return f"pack of {assessment.id}".encode()

    def filename(self, assessment: Assessment) -> str:
        return f"evidence-pack-{assessment.id}.zip"


# -- seeding through the use cases ------------------------------------------------------------


def upload(
    factory: FakeUnitOfWorkFactory,
    store: FakeFileStore,
    name: str = "security-scope",
    content: bytes = b"%PDF scope statement",
    caller: Caller | None = None,
    control_ids: Sequence[str] = (),
) -> Evidence:
    """Upload one document as evidence."""
    return assurance.upload(
        factory,
        caller or administrator(),
        store,
        name=name,
        title=f"The {name} document",
        filename=f"{name}.pdf",
        media_type="application/pdf",
        content=io.BytesIO(content),
        control_ids=control_ids,
    )


def record_party(factory: FakeUnitOfWorkFactory) -> None:
    assessment.record_party(factory, administrator(), "TFP-001", "Triage Ltd", ["Other SEC Party"])


def plan(
    factory: FakeUnitOfWorkFactory,
    kind: str = "FUSA",
    controls: Sequence[str] | None = None,
    planned_at: str = "2026-12-10",
) -> Assessment:
    return assessment.plan(
        factory,
        administrator(),
        kind,
        "Assessor & Co",
        "The whole facility",
        planned_at,
        controls,
    )


def approved(
    factory: FakeUnitOfWorkFactory,
    result: str = "approval",
    steps: Sequence[tuple[str, str]] = (),
    controls: Sequence[str] | None = ("G1", "G3.1"),
) -> Assessment:
    """A FUSA planned, its fieldwork recorded and its outcome decided."""
    planned = plan(factory, controls=controls)
    assessment.record_fieldwork(factory, administrator(), planned.id, "2026-12-01", "2026-12-01")
    return assessment.record_outcome(factory, administrator(), planned.id, result, steps)


def raise_finding(
    factory: FakeUnitOfWorkFactory,
    assessment_id: str,
    control_id: str = "G1",
    severity: str = "high",
) -> str:
    found = assessment.raise_finding(
        factory,
        administrator(),
        assessment_id,
        control_id,
        severity,
        "The scope is not written down.",
    )
    return found.id
