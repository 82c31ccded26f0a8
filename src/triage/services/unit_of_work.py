"""What a use case needs from storage, as protocols; ``triage.adapters`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from triage.domain.facility import Facility
from triage.ledger.audit import StorageOpener
from triage.ledger.entry import Entry
from triage.ledger.log import Log, LogStorage


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


class FacilityRepository(Protocol):
    """Facilities known to this database."""

    def add(self, facility: Facility) -> None: ...

    def get(self, facility_id: str) -> Facility | None: ...

    def list(self) -> list[Facility]: ...


class UnitOfWork(Protocol):
    """One transaction: everything in it commits with its ledger entries, or nothing does."""

    @property
    def facility_id(self) -> str: ...

    @property
    def ledger(self) -> LedgerRecorder: ...

    @property
    def facilities(self) -> FacilityRepository: ...

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

    def log_opener(self) -> StorageOpener:
        """Lets worker processes read the facility's log (for parallel verification)."""
        ...
