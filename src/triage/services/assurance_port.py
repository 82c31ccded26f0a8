"""What the assurance use cases need from storage (``uow.assurance``) and from the evidence
file store."""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO, Protocol

from triage.domain.assurance_records import (
    AdoptedCatalogue,
    BenchResets,
    DayOutcomes,
    DecisionCount,
    Evidence,
    JobCount,
    PolicyInForce,
)
from triage.domain.catalogue import Control


class AssuranceRepository(Protocol):
    """Reads of the catalogue in force, the provider's controls, applicability and evidence."""

    def adopted_catalogue(self) -> AdoptedCatalogue | None:
        """The catalogue adopted last (with its YAML text), if any."""
        ...

    def provider_controls(self) -> list[Control]:
        """The provider's own controls, by id."""
        ...

    def not_applicable(self) -> dict[str, str]:
        """Control id -> reason, for the controls marked not applicable."""
        ...

    def evidence(self, evidence_id: str) -> Evidence | None: ...

    def evidence_list(
        self, name: str | None, offset: int, limit: int
    ) -> tuple[list[Evidence], int]: ...

    def latest_evidence(self) -> list[Evidence]:
        """The latest evidence of each kind and name."""
        ...

    def policy_in_force(self) -> PolicyInForce | None:
        """The active tamper policy's id, version, hash and when it was activated."""
        ...

    def decision_counts(self) -> list[DecisionCount]:
        """Decisions by outcome, by policy or override, and policy hash."""
        ...

    def outcomes_per_day(self, since: datetime) -> list[DayOutcomes]:
        """Decisions per day and outcome since ``since``."""
        ...

    def resets_per_bench(self, since: datetime) -> list[BenchResets]:
        """Verified resets per bench since ``since``."""
        ...

    def job_counts(self) -> list[JobCount]:
        """Triage jobs by state and outcome."""
        ...


class FileStore(Protocol):
    """Evidence files by their SHA-256 (``adapters.evidence_store.EvidenceStore``)."""

    def put(self, content: bytes) -> tuple[str, int]: ...

    def put_stream(self, source: BinaryIO, limit: int = ...) -> tuple[str, int]: ...

    def read(self, sha256: str) -> bytes: ...

    def check(self, sha256: str) -> str: ...
