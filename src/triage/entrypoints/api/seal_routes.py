"""REST endpoints of seal management: batches, issue and return, void, lost and broken,
stocktakes, reconciliation, discrepancies, reports and labels.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_seal_router``.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.domain.seals import DEFAULT_UNUSED_DAYS, MAX_LIST
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset, Timestamp
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import operator_dependency, requires
from triage.entrypoints.downloads import pdf as _pdf
from triage.entrypoints.schemas.common import Page
from triage.entrypoints.schemas.seals import (
    DiscrepancyOut,
    FittedReportOut,
    ReconciliationOut,
    SealBatchDetailOut,
    SealBatchOut,
    SealDetailOut,
    SealEventOut,
    SealOut,
    SealsOut,
    StocktakeOut,
    StocktakeRecordedOut,
    StoredReconciliationOut,
    UnusedReportOut,
)
from triage.services import documents, seals

Serial = Annotated[str, Field(max_length=64)]


class SerialsIn(BaseModel):
    """Seals named by a range (first and last, counting in their final digits) or a list."""

    first: Serial | None = Field(default=None, description="First serial of a range.")
    last: Serial | None = Field(default=None, description="Last serial of a range.")
    serials: list[Serial] | None = Field(
        default=None, max_length=MAX_LIST, description="Serials one by one, instead of a range."
    )


class BatchIn(SerialsIn):
    supplier: str = Field(max_length=120)
    delivery_reference: str = Field(max_length=64, description="The supplier's delivery note.")
    seal_class: str = Field(
        max_length=8, description="ISO 17712 class I, S or H; or 'other' with a description."
    )
    class_description: str | None = Field(
        default=None, max_length=80, description="The class the supplier states, for 'other'."
    )
    store: str = Field(max_length=32, description="Store location receiving the batch.")


class IssueIn(SerialsIn):
    operator_id: str = Field(max_length=64, description="Who receives the seals.")


class ReturnIn(SerialsIn):
    store: str | None = Field(
        default=None, max_length=32, description="Store taking them back (default: issued from)."
    )


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000)


class DetailIn(BaseModel):
    detail: str = Field(max_length=2000, description="Where and how the seal was found broken.")


class StocktakeIn(BaseModel):
    store: str = Field(max_length=32)
    serials: list[Serial] = Field(
        max_length=seals.MAX_STOCKTAKE, description="Every seal scanned in the store."
    )


class ReconcileIn(BaseModel):
    scope: Literal["facility", "operator", "store", "batch"] = "facility"
    scope_id: str | None = Field(default=None, max_length=64)


class ResolutionIn(BaseModel):
    resolution: str = Field(max_length=2000)


PDF: dict[str, Any] = {
    "response_class": Response,
    "responses": {200: {"content": {"application/pdf": {}}}},
}


def build_seal_router(application: App) -> APIRouter:
    """The seal routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["seals"], route_class=ThreadedRoute)
    read = requires(application, Permission.SEAL_READ)
    stock = requires(application, Permission.SEAL_STOCK)

    # -- batches ----------------------------------------------------------------------------
    @router.post("/seals/batches", status_code=201, **stock)
    def receive_batch(body: BatchIn, caller: Operator) -> SealBatchOut:
        """Receive a supplier's batch into a store (stores). Serials already known are
        refused, and nothing is received."""
        batch = seals.receive_batch(
            uow,
            caller,
            supplier=body.supplier,
            delivery_reference=body.delivery_reference,
            iso_class=body.seal_class,
            class_description=body.class_description,
            store=body.store,
            first=body.first,
            last=body.last,
            serials=body.serials,
        )
        return SealBatchOut.model_validate(batch)

    @router.get("/seals/batches", **read)
    def list_batches(caller: Operator, offset: Offset = 0, limit: Limit = 50) -> Page[SealBatchOut]:
        """Seal batches, oldest first."""
        items, total = seals.batches(uow, caller, offset, limit)
        return Page(
            items=[SealBatchOut.model_validate(b) for b in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get("/seals/batches/{batch_id}", **read)
    def get_batch(batch_id: str, caller: Operator) -> SealBatchDetailOut:
        """A batch and where its seals are now."""
        batch, figures = seals.batch_detail(uow, caller, batch_id)
        return SealBatchDetailOut(**dict(SealBatchOut.model_validate(batch)), figures=figures)

    @router.get("/seals/batches/{batch_id}/labels", **PDF, **read)
    def batch_labels(batch_id: str, caller: Operator) -> Response:
        """Labels for the bags of a batch's seals (PDF, one 100x50 mm label per seal)."""
        return _pdf(
            documents.seal_labels(
                uow, caller, application.documents, application.facility.name, batch_id=batch_id
            )
        )

    # A serial or range that names no seal is 404.
    @router.get(
        "/seals/labels",
        response_class=Response,
        responses={**PDF["responses"], **problems.responses(404)},
        **read,
    )
    def seal_labels(
        caller: Operator,
        first: Annotated[str | None, Query(max_length=64)] = None,
        last: Annotated[str | None, Query(max_length=64)] = None,
        serial: Annotated[list[str] | None, Query(max_length=1000)] = None,
    ) -> Response:
        """Labels for some seals: a range (first, last) or serials one by one."""
        return _pdf(
            documents.seal_labels(
                uow,
                caller,
                application.documents,
                application.facility.name,
                first=first,
                last=last,
                serials=serial,
            )
        )

    # -- issue and return -------------------------------------------------------------------
    @router.post("/seals/issue", **stock)
    def issue(body: IssueIn, caller: Operator) -> SealsOut:
        """Issue seals from stock to a named operator who fits seals (stores)."""
        issued = seals.issue(
            uow, caller, body.operator_id, first=body.first, last=body.last, serials=body.serials
        )
        return SealsOut(items=[SealOut.of(s) for s in issued], total=len(issued))

    @router.post("/seals/return", **stock)
    def return_seals(body: ReturnIn, caller: Operator) -> SealsOut:
        """Take issued, unused seals back into stock (stores)."""
        returned = seals.return_to_stock(
            uow, caller, store=body.store, first=body.first, last=body.last, serials=body.serials
        )
        return SealsOut(items=[SealOut.of(s) for s in returned], total=len(returned))

    # -- reports, discrepancies, stocktakes, reconciliation ---------------------------------
    @router.get("/seals/reports/fitted", **read)
    def fitted_report(
        caller: Operator, since: Timestamp | None = None, until: Timestamp | None = None
    ) -> FittedReportOut:
        """Seals fitted per day (UTC) and per operator; default the last 30 days."""
        return FittedReportOut.model_validate(seals.fitted_report(uow, caller, since, until))

    @router.get("/seals/reports/unused", **read)
    def unused_report(
        caller: Operator, days: Annotated[int, Query(ge=0, le=3650)] = DEFAULT_UNUSED_DAYS
    ) -> UnusedReportOut:
        """Seals issued more than ``days`` days ago and still neither fitted nor returned."""
        return UnusedReportOut.model_validate(seals.unused_report(uow, caller, days))

    @router.get("/seals/discrepancies", **read)
    def list_discrepancies(
        caller: Operator,
        status: Literal["open", "resolved", "all"] = "open",
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[DiscrepancyOut]:
        """Seal discrepancies (lost, missing or unexpected at a stocktake, broken)."""
        items, total = seals.discrepancies(
            uow, caller, None if status == "all" else status, offset, limit
        )
        return Page(
            items=[DiscrepancyOut.model_validate(d) for d in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.post(
        "/seals/discrepancies/{discrepancy_id}/resolve",
        **requires(application, Permission.SEAL_DISCREPANCY_RESOLVE),
    )
    def resolve_discrepancy(
        discrepancy_id: str, body: ResolutionIn, caller: Operator
    ) -> DiscrepancyOut:
        """Close a discrepancy with what was found or done (a security manager who neither
        raised it nor is named in it)."""
        found = seals.resolve_discrepancy(uow, caller, discrepancy_id, body.resolution)
        return DiscrepancyOut.model_validate(found)

    @router.post("/seals/stocktakes", status_code=201, **stock)
    def stocktake(body: StocktakeIn, caller: Operator) -> StocktakeRecordedOut:
        """Record a stocktake: every seal scanned in a store, against the register."""
        found = seals.stocktake(uow, caller, body.store, body.serials)
        return StocktakeRecordedOut.model_validate(found)

    @router.get("/seals/stocktakes", **read)
    def list_stocktakes(
        caller: Operator, offset: Offset = 0, limit: Limit = 50
    ) -> Page[StocktakeOut]:
        """Stocktakes, oldest first."""
        items, total = seals.stocktakes(uow, caller, offset, limit)
        return Page(
            items=[StocktakeOut.model_validate(s) for s in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get("/seals/reconciliation", responses=problems.responses(404), **read)
    def reconciliation(
        caller: Operator,
        scope: Literal["facility", "operator", "store", "batch"] = "facility",
        scope_id: Annotated[str | None, Query(max_length=64)] = None,
    ) -> ReconciliationOut:
        """Reconcile now, without storing: the figures, the sums and the open discrepancies."""
        return ReconciliationOut.of(seals.reconciliation(uow, caller, scope, scope_id))

    @router.post(
        "/seals/reconciliations",
        status_code=201,
        **requires(application, Permission.SEAL_RECONCILE),
    )
    def record_reconciliation(body: ReconcileIn, caller: Operator) -> StoredReconciliationOut:
        """Reconcile now and keep the result in the ledger as assurance evidence."""
        stored = seals.record_reconciliation(uow, caller, body.scope, body.scope_id)
        return StoredReconciliationOut.model_validate(stored)

    @router.get("/seals/reconciliations", **read)
    def list_reconciliations(
        caller: Operator, offset: Offset = 0, limit: Limit = 50
    ) -> Page[StoredReconciliationOut]:
        """Stored reconciliations, oldest first."""
        items, total = seals.reconciliations(uow, caller, offset, limit)
        return Page(
            items=[StoredReconciliationOut.model_validate(r) for r in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get("/seals/reconciliations/{reconciliation_id}", **read)
    def get_reconciliation(reconciliation_id: str, caller: Operator) -> StoredReconciliationOut:
        """One stored reconciliation."""
        found = seals.stored_reconciliation(uow, caller, reconciliation_id)
        return StoredReconciliationOut.model_validate(found)

    # -- seals ------------------------------------------------------------------------------
    @router.get("/seals", **read)
    def list_seals(
        caller: Operator,
        status: Literal["in_stock", "issued", "fitted", "broken", "void", "lost"] | None = None,
        store: Annotated[str | None, Query(max_length=32)] = None,
        holder: Annotated[str | None, Query(max_length=64)] = None,
        batch_id: Annotated[str | None, Query(max_length=36)] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[SealOut]:
        """Seals in serial order, filtered by status, store, holder or batch."""
        items, total = seals.list_seals(
            uow,
            caller,
            status=status,
            store=store,
            holder=holder,
            batch_id=batch_id,
            offset=offset,
            limit=limit,
        )
        return Page(items=[SealOut.of(s) for s in items], total=total, offset=offset, limit=limit)

    @router.get("/seals/{serial}", **read)
    def get_seal(serial: str, caller: Operator) -> SealDetailOut:
        """One seal, its batch and every step it has taken."""
        detail = seals.seal_detail(uow, caller, serial)
        return SealDetailOut(
            **dict(SealOut.of(detail.seal)),
            batch=SealBatchOut.model_validate(detail.batch),
            events=[SealEventOut.model_validate(e) for e in detail.events],
        )

    @router.post("/seals/{serial}/void", **requires(application, Permission.SEAL_REPORT))
    def void(serial: str, body: ReasonIn, caller: Operator) -> SealOut:
        """A damaged seal taken out of use (stores; or the operator holding it)."""
        return SealOut.of(seals.void(uow, caller, serial, body.reason))

    @router.post("/seals/{serial}/lost", **requires(application, Permission.SEAL_REPORT))
    def lost(serial: str, body: ReasonIn, caller: Operator) -> SealOut:
        """A seal nobody can find: an incident (stores; or the operator holding it)."""
        return SealOut.of(seals.lose(uow, caller, serial, body.reason))

    @router.post("/seals/{serial}/broken", **requires(application, Permission.SEAL_REPORT))
    def broken(serial: str, body: DetailIn, caller: Operator) -> SealOut:
        """A fitted seal found broken, recorded against its device; before dispatch the device
        goes back for another reset and a new seal."""
        return SealOut.of(seals.report_broken(uow, caller, serial, body.detail))

    # -- the device bag's label -------------------------------------------------------------
    @router.get(
        "/jobs/{job_id}/label",
        tags=["jobs"],
        **PDF,
        **requires(application, Permission.TRIAGE_READ),
    )
    def job_label(job_id: str, caller: Operator) -> Response:
        """The label for a device's bag: Device ID and seal serial as QR codes, and the job."""
        return _pdf(
            documents.device_label(
                uow, caller, job_id, application.documents, application.facility.name
            )
        )

    return router
