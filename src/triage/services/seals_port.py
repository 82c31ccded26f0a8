"""What the seal use cases need from storage (``uow.seals``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from triage.domain.seal_register import (
    FittedCount,
    SealBatch,
    SealEvent,
    Stocktake,
    StoredReconciliation,
)
from triage.domain.seals import Discrepancy, Scope, Seal, SealStatus


class SealRepository(Protocol):
    """Reads of the seal register: batches, seals, their steps, discrepancies and counts."""

    def batch(self, batch_id: str) -> SealBatch | None: ...

    def batches(self, offset: int, limit: int) -> tuple[list[SealBatch], int]: ...

    def clashes(self, serials: Sequence[str], span: tuple[str, str] | None) -> dict[str, str]:
        """Those of ``serials`` already in the register, with their batch ids."""
        ...

    def seal(self, serial: str) -> Seal | None: ...

    def seals_by_serial(self, serials: Sequence[str]) -> dict[str, Seal]: ...

    def seals(
        self,
        status: SealStatus | None,
        store: str | None,
        holder: str | None,
        batch_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Seal], int]: ...

    def in_stock(self, store: str) -> list[str]:
        """Serials the register has in stock at ``store``."""
        ...

    def events(self, serial: str) -> list[SealEvent]:
        """Every step of one seal, oldest first."""
        ...

    def figures(self, scope: Scope) -> dict[str, int]:
        """The reconciliation figures of ``scope`` (see ``triage.domain.seals.tally``)."""
        ...

    def discrepancy(self, discrepancy_id: str) -> Discrepancy | None: ...

    def discrepancies(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[Discrepancy], int]: ...

    def stocktake(self, stocktake_id: str) -> Stocktake | None: ...

    def stocktakes(self, offset: int, limit: int) -> tuple[list[Stocktake], int]: ...

    def reconciliation(self, reconciliation_id: str) -> StoredReconciliation | None: ...

    def reconciliations(
        self, offset: int, limit: int
    ) -> tuple[list[StoredReconciliation], int]: ...

    def fitted_per_day(self, since: datetime, until: datetime) -> list[FittedCount]:
        """Seals fitted per day (UTC) and operator in ``[since, until)``."""
        ...

    def issued_before(self, before: datetime) -> list[Seal]:
        """Seals still issued (not fitted, returned, void or lost) since before ``before``."""
        ...
