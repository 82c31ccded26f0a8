"""REST endpoints: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.retention import PurgeCandidate
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.downloads import attachment, pdf
from triage.entrypoints.schemas.common import SIGNED_DOCUMENT
from triage.entrypoints.schemas.retention import (
    DueFileOut,
    HoldIn,
    HoldOut,
    PurgedOut,
    PurgePlanOut,
    PurgeRunOut,
    ReleaseIn,
    RuleIn,
    RuleOut,
)
from triage.services import outcome_reports, retention

OwnerQuery = Annotated[str | None, Query(max_length=100)]


def _due(found: PurgeCandidate) -> DueFileOut:
    return DueFileOut(
        sha256=found.sha256,
        kind=found.file.kind,
        name=found.file.name,
        size=found.file.size,
        rule_days=found.rule.days,
        expired_at=found.expired_at,
    )


def build_retention_router(application: App) -> APIRouter:
    """The retention and outcome report routes of one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", route_class=ThreadedRoute)
    read = requires(application, Permission.TRIAGE_READ)
    manage = requires(application, Permission.RETENTION_MANAGE)

    # -- consignment outcome reports ----------------------------------------------------------
    @router.get(
        "/consignments/{consignment_id}/outcome",
        tags=["intake"],
        response_class=Response,
        responses={
            200: SIGNED_DOCUMENT,
            **problems.responses(404),
        },
        **access("service"),
    )
    def outcome(consignment_id: str, caller: Operator, asset_owner: OwnerQuery = None) -> Response:
        """The consignment's outcome report, signed with the facility's key (a
        "consignment-outcome" signed document; check it with `triage verify FILE --key VKEY`).
        An asset owner's person reads only its own consignments' reports."""
        report = outcome_reports.outcome_report(
            uow, caller, consignment_id, application.issuer(), asset_owner
        )
        return Response(report.signed.to_json(), media_type="application/json")

    @router.get(
        "/consignments/{consignment_id}/outcome.csv",
        tags=["intake"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}, **problems.responses(404)},
        **access("service"),
    )
    def outcome_csv(
        consignment_id: str, caller: Operator, asset_owner: OwnerQuery = None
    ) -> Response:
        """The outcome report as CSV, one row a device (cells a spreadsheet would run as a
        formula are kept as text)."""
        text, filename = outcome_reports.outcome_csv(
            uow, caller, consignment_id, application.issuer(), asset_owner
        )
        return attachment(text, "text/csv; charset=utf-8", filename)

    @router.get(
        "/consignments/{consignment_id}/outcome.pdf",
        tags=["intake"],
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}, **problems.responses(404)},
        **access("service"),
    )
    def outcome_pdf(
        consignment_id: str, caller: Operator, asset_owner: OwnerQuery = None
    ) -> Response:
        """The outcome report as a PDF, with a QR code of the signed report's digest."""
        return pdf(
            outcome_reports.outcome_pdf(
                uow,
                caller,
                consignment_id,
                application.issuer(),
                application.documents,
                asset_owner,
            )
        )

    # -- rules ----------------------------------------------------------------------------------
    @router.get("/retention/rules", tags=["retention"], **read)
    def rules(caller: Operator) -> list[RuleOut]:
        """How long each kind of evidence file is kept (set, or the product's default)."""
        return [RuleOut.of(r) for r in retention.rules(uow, caller)]

    @router.put("/retention/rules/{kind}", tags=["retention"], **manage)
    def set_rule(kind: str, body: RuleIn, caller: Operator) -> RuleOut:
        """Keep files of ``kind`` for ``days`` days (recorded as retention.rule_set)."""
        return RuleOut.of(retention.set_rule(uow, caller, kind, body.days))

    # -- legal holds ----------------------------------------------------------------------------
    @router.get("/retention/holds", tags=["retention"], **read)
    def holds(caller: Operator, include_released: bool = False) -> list[HoldOut]:
        """Legal holds in force (or every one, with include_released), oldest first."""
        found = retention.holds(uow, caller, include_released)
        return [HoldOut.model_validate(h) for h in found]

    @router.post(
        "/retention/holds",
        tags=["retention"],
        status_code=201,
        responses=problems.responses(404, 409),
        **manage,
    )
    def place_hold(body: HoldIn, caller: Operator) -> HoldOut:
        """Hold a device's, a consignment's or one file's evidence: never purged while held."""
        found = retention.place_hold(uow, caller, body.scope, body.target, body.reason)
        return HoldOut.model_validate(found)

    @router.post(
        "/retention/holds/{hold_id}/release",
        tags=["retention"],
        responses=problems.responses(404, 409),
        **manage,
    )
    def release_hold(hold_id: str, body: ReleaseIn, caller: Operator) -> HoldOut:
        """Release a legal hold, with the reason."""
        return HoldOut.model_validate(retention.release_hold(uow, caller, hold_id, body.reason))

    # -- purges ---------------------------------------------------------------------------------
    @router.get("/retention/purge", tags=["retention"], **read)
    def purge_plan(caller: Operator) -> PurgePlanOut:
        """What the next purge would delete; nothing is recorded or deleted."""
        plan = retention.purge_plan(uow, caller, application.evidence_store())
        return PurgePlanOut(
            due=[_due(c) for c in plan.due],
            unfinished=[PurgedOut.model_validate(p) for p in plan.unfinished],
        )

    @router.post("/retention/purge", tags=["retention"], **manage)
    def purge(caller: Operator, dry_run: bool = False) -> PurgeRunOut:
        """Purge the evidence files past their retention and not held: each purge is recorded
        (evidence.purged, the digest stays in the ledger), then the file is deleted."""
        run = retention.purge(uow, caller, application.evidence_store(), dry_run)
        return PurgeRunOut(
            dry_run=run.dry_run, purged=[_due(c) for c in run.purged], deleted=run.deleted
        )

    @router.get("/retention/purges", tags=["retention"], **read)
    def purges(caller: Operator) -> list[PurgedOut]:
        """The files purged, newest first (the latest 200)."""
        return [PurgedOut.model_validate(p) for p in retention.purge_history(uow, caller)]

    return router
