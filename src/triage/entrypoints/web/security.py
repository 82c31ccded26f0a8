"""The security manager's pages: people (roles, second factor, tokens, suspensions), the
access review, thresholds and alerts. (Tools and their reinstatement are in ``pages``.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.domain.thresholds import Metric
from triage.errors import InvalidInput
from triage.services import access_review, anomaly, auth, reinstatement, tokens
from triage.services.views import people as people_views

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/security/people")
    @page(Permission.ALERT_READ)
    def people_page(visit: Visit, form: dict[str, str]) -> Response:
        shown = people_views.people_review(uow, visit.caller)
        return site.render(
            "security_people.html",
            visit,
            review=access_review.to_dict(shown.review),
            locks=shown.locks,
            limits=shown.thresholds.to_json(),
            metrics=[m.value for m in Metric],
        )

    @router.post("/security/tokens/{token_id}/revoke")
    @page(Permission.ACCOUNT_UNLOCK)
    def revoke_token(visit: Visit, form: dict[str, str], token_id: str) -> Response:
        tokens.revoke_token(uow, visit.caller, token_id, form.get("reason", ""))
        return site.redirect("/security/people")

    @router.post("/security/locks/{subject_kind}/{subject_id}/unlock")
    @page(Permission.ACCOUNT_UNLOCK)
    def unlock(visit: Visit, form: dict[str, str], subject_kind: str, subject_id: str) -> Response:
        auth.unlock(uow, visit.caller, subject_kind, subject_id, form.get("reason", ""))
        return site.redirect("/security/people")

    @router.post("/security/alerts/{alert_id}/resolve")
    @page(Permission.ALERT_READ)
    def resolve(visit: Visit, form: dict[str, str], alert_id: str) -> Response:
        anomaly.resolve_alert(uow, visit.caller, alert_id, form.get("resolution", ""))
        return site.redirect("/security/tools")

    @router.post("/security/thresholds")
    @page(Permission.THRESHOLD_MANAGE)
    def threshold(visit: Visit, form: dict[str, str]) -> Response:
        try:
            max_count = int(form.get("max_count", ""))
            window = int(form.get("window_minutes", ""))
        except ValueError:
            raise InvalidInput("max_count, window_minutes: whole numbers") from None
        anomaly.set_threshold(
            uow,
            visit.caller,
            form.get("scope", "facility"),
            form.get("subject_id") or None,
            form.get("metric", ""),
            max_count,
            window,
        )
        return site.redirect("/security/people")

    @router.post("/security/operators/{operator_id}/reinstate")
    @page(Permission.SUSPENSION_REINSTATE)
    def reinstate(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        reinstatement.reinstate_operator(uow, visit.caller, operator_id, form.get("reason", ""))
        return site.redirect("/security/people")
