"""What a use case needs from storage, as protocols; ``triage.adapters`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from triage.domain.consignment import Consignment
from triage.domain.device import Device
from triage.domain.facility import Facility
from triage.domain.intake_exception import IntakeException
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.people import Operator
from triage.domain.token import StoredToken
from triage.domain.tool import Tool
from triage.domain.work_order_record import ResetResult, StoredWorkOrder
from triage.ledger.audit import StorageOpener
from triage.ledger.entry import Entry
from triage.ledger.log import Log, LogStorage
from triage.ledger.tiles import TileCache
from triage.services.assessment_port import AssessmentRepository
from triage.services.assurance_port import AssuranceRepository
from triage.services.credentials_port import CredentialRepository, PasswordHasher, TotpCodes
from triage.services.packaged_port import PackagedData
from triage.services.seals_port import SealRepository
from triage.services.security_port import SecurityRepository


class LedgerRecorder(Protocol):
    """The facility's log within the unit of work."""

    @property
    def log(self) -> Log: ...

    @property
    def storage(self) -> LogStorage: ...

    def create(self) -> None:
        """Create the facility's empty log."""
        ...

    def record(self, entries: Sequence[Entry]) -> int:
        """Append entries; returns the index of the first."""
        ...

    def indexes_for(self, subject_kind: str, subject_id: str) -> list[int]:
        """Indexes of every entry about one subject, oldest first."""
        ...

    def latest_about(
        self, subject_kind: str, subject_id: str, limit: int, before: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        """The latest ``limit`` entries about one subject (below ``before``, if given), newest
        first, as (index, stored bytes), None for an entry the log does not hold."""
        ...


class FacilityRepository(Protocol):
    """Facilities known to this database."""

    def add(self, facility: Facility) -> None: ...

    def get(self, facility_id: str) -> Facility | None: ...

    def list(self) -> list[Facility]: ...


class TriageRepository(Protocol):
    """The triage workflow's current-state tables (projections of the ledger), and what is
    kept beside them: token secrets' hashes, used agent nonces."""

    def settings(self) -> tuple[int, int]: ...
    def operator(self, operator_id: str) -> Operator | None: ...
    def operators(self) -> list[Operator]: ...
    def operator_benches(self, operator_id: str) -> frozenset[str]:
        """The benches assigned to the operator (none: they work at no bench)."""
        ...

    def bench_assignments(self) -> dict[str, list[str]]:
        """Every operator's assigned benches, sorted, by operator id (only those with any)."""
        ...

    def add_token(self, token: StoredToken, secret: str) -> None: ...

    def token_by_secret(self, secret: str) -> StoredToken | None: ...

    def token(self, token_id: str) -> StoredToken | None: ...

    def tokens(self, operator_id: str | None = None) -> list[StoredToken]: ...

    def revoke_token(self, token_id: str, at: datetime) -> None: ...
    def tool(self, tool_id: str) -> Tool | None: ...
    def use_agent_nonce(self, tool_id: str, nonce: str) -> bool: ...
    def active_policy_source(self) -> str | None: ...
    def consignment(self, consignment_id: str) -> Consignment | None: ...
    def consignment_by_reference(self, asset_owner: str, reference: str) -> Consignment | None: ...
    def consignments(self, offset: int, limit: int) -> tuple[list[Consignment], int]: ...
    def expected_in_open_consignment(self, device_id: str) -> tuple[str, Device, bool] | None: ...
    def expected_devices(self, device_ids: Sequence[str]) -> dict[str, str]: ...
    def missing_devices(self, consignment_id: str) -> list[str]: ...
    def device(self, device_id: str) -> Device | None: ...
    def job(self, job_id: str) -> TriageJob | None: ...
    def open_job_for_device(self, device_id: str) -> TriageJob | None: ...
    def open_jobs_for_devices(self, device_ids: Sequence[str]) -> dict[str, str]: ...
    def jobs_for_device(self, device_id: str) -> list[TriageJob]: ...
    def jobs(
        self, state: JobState | None, offset: int, limit: int
    ) -> tuple[list[TriageJob], int]: ...
    def decision_count(self, job_id: str) -> int: ...
    def work_order(self, work_order_id: str) -> StoredWorkOrder | None: ...
    def issued_work_orders(self, tool_id: str, now: datetime) -> list[StoredWorkOrder]: ...
    def live_work_order(self, job_id: str, now: datetime) -> StoredWorkOrder | None: ...
    def expired_work_orders(self, before: datetime, limit: int) -> list[StoredWorkOrder]: ...
    def reset_results(self, job_id: str) -> list[ResetResult]: ...
    def exceptions(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[IntakeException], int]: ...
    def exception(self, exception_id: str) -> IntakeException | None: ...


class UnitOfWork(Protocol):
    """One transaction: everything in it commits with its ledger entries, or nothing does."""

    @property
    def facility_id(self) -> str: ...

    @property
    def ledger(self) -> LedgerRecorder: ...

    @property
    def facilities(self) -> FacilityRepository: ...

    @property
    def triage(self) -> TriageRepository: ...

    @property
    def credentials(self) -> CredentialRepository: ...

    @property
    def security(self) -> SecurityRepository: ...

    @property
    def seals(self) -> SealRepository: ...

    @property
    def assurance(self) -> AssuranceRepository: ...

    @property
    def assessments(self) -> AssessmentRepository: ...

    @property
    def packaged(self) -> PackagedData:
        """The data files that ship with the system (the factory's)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make the changes durable; without it, leaving the block rolls them back."""
        ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work: ``write=True`` for one that may change state."""

    def __call__(self, *, write: bool) -> UnitOfWork: ...

    @property
    def passwords(self) -> PasswordHasher:
        """Hashes and checks passwords."""
        ...

    @property
    def totp(self) -> TotpCodes:
        """Computes authenticators' codes."""
        ...

    @property
    def packaged(self) -> PackagedData:
        """The data files that ship with the system."""
        ...

    def tile_cache(self) -> TileCache:
        """What this process remembers of the log's tiles (never changes once seen)."""
        ...

    def log_opener(self) -> StorageOpener:
        """Lets worker processes read the facility's log (for parallel verification)."""
        ...

    def checkpoint_keeper(self) -> CheckpointKeeper | None:
        """Where the latest signed checkpoint is kept outside the database (None: nowhere)."""
        ...


class CheckpointKeeper(Protocol):
    """The facility's latest signed checkpoint and the leaf hashes it covers, kept outside the
    database (``triage.adapters.checkpoint_file``)."""

    @property
    def path(self) -> Path: ...

    def tracked(self) -> bool:
        """True when this installation keeps one (a missing file is then a failure)."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Serialise the processes that issue checkpoints."""
        ...

    def read(self) -> str | None:
        """The kept signed note, if any."""
        ...

    def read_hashes(self, count: int) -> bytes: ...

    def hashes_count(self) -> int: ...

    def keep(self, signed_note: str, size: int, first: int, hashes: Sequence[bytes]) -> bool:
        """Keep a checkpoint the database just stored, with leaf hashes from ``first``."""
        ...
