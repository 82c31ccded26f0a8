"""What the assurance exports and checks need from outside the services: the replay check and
the builders of the OSCAL documents and the evidence pack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from triage.domain.assurance_records import Assessment, AttachedEvidence
from triage.domain.catalogue import Catalogue, Control, ControlReadiness
from triage.domain.facility import Facility
from triage.services.ledger import InclusionProof

# An OSCAL JSON document (catalog, assessment-results, plan-of-action-and-milestones): its shape
# is OSCAL's, checked with compliance-trestle's models by the adapter's tests, not by a type here.
OscalDocument = dict[str, Any]


class ReplayResult(Protocol):
    """What a replay of the ledger into fresh tables found (``adapters.replay.ReplayReport``)."""

    @property
    def entries(self) -> int: ...

    @property
    def rows(self) -> int: ...

    @property
    def differences(self) -> Sequence[object]: ...

    @property
    def notes(self) -> Sequence[str]:
        """What is said but is no failure (credentials set before digests were recorded)."""
        ...


class ReplayCheck(Protocol):
    """Replays the whole ledger into fresh tables and compares them with the live ones."""

    def __call__(self) -> ReplayResult: ...


@dataclass(frozen=True)
class EntryProof:
    """An evidence entry's inclusion proof against a signed checkpoint, with the entry's bytes:
    checkable with nothing but the verifier key."""

    proof: InclusionProof
    entry: bytes
    checkpoint: str


class OscalBuilder(Protocol):
    """OSCAL JSON documents (``adapters.oscal``); each is a JSON object as OSCAL defines it."""

    def catalog(
        self,
        catalogue: Catalogue,
        own: Sequence[Control],
        not_applicable: Mapping[str, str],
        at: datetime,
    ) -> OscalDocument: ...

    def assessment_results(
        self, assessment: Assessment, controls: Sequence[Control], facility: Facility, at: datetime
    ) -> OscalDocument: ...

    def plan_of_action(
        self,
        assessments: Sequence[Assessment],
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
    ) -> OscalDocument: ...


class PackBuilder(Protocol):
    """An assessment's report (PDF) and evidence pack (zip) (``adapters.evidence_pack``)."""

    def report(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        facility_name: str,
        catalogue_label: str,
        at: datetime,
    ) -> bytes: ...

    def pack(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        files: Sequence[tuple[AttachedEvidence, bytes]],
        proofs: Mapping[str, EntryProof],
        report: bytes,
        at: datetime,
    ) -> bytes: ...

    def filename(self, assessment: Assessment) -> str:
        """The pack's file name (the report's is the same ending .pdf)."""
        ...
