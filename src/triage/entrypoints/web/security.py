"""The security manager's pages: people (roles, second factor, tokens, suspensions), the
access review, thresholds and alerts. (Tools and their reinstatement are in ``pages``.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.domain.thresholds import Metric
from triage.entrypoints.web.form_values import whole
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
            metric_options=[(m.value, m.value.replace("_", " ")) for m in Metric],
        )

    @router.post("/security/tokens/{token_id}/revoke")
    @page(Permission.ACCOUNT_UNLOCK, back=people_page)
    def revoke_token(visit: Visit, form: dict[str, str], token_id: str) -> Response:
        tokens.revoke_token(uow, visit.caller, token_id, form.get("reason", ""))
        return site.redirect("/security/people", done=f"Token {token_id} revoked.")

    @router.post("/security/locks/{subject_kind}/{subject_id}/unlock")
    @page(Permission.ACCOUNT_UNLOCK, back=people_page)
    def unlock(visit: Visit, form: dict[str, str], subject_kind: str, subject_id: str) -> Response:
        auth.unlock(uow, visit.caller, subject_kind, subject_id, form.get("reason", ""))
        return site.redirect("/security/people", done=f"{subject_id} unlocked.")

    @router.post("/security/alerts/{alert_id}/resolve")
    @page(Permission.ALERT_READ, back=site.pages["security_tools"])
    def resolve(visit: Visit, form: dict[str, str], alert_id: str) -> Response:
        anomaly.resolve_alert(uow, visit.caller, alert_id, form.get("resolution", ""))
        return site.redirect("/security/tools", done="Alert resolved.")

    @router.post("/security/thresholds")
    @page(Permission.THRESHOLD_MANAGE, back=people_page)
    def threshold(visit: Visit, form: dict[str, str]) -> Response:
        max_count = whole(form, "max_count", "a whole number of acts")
        window = whole(form, "window_minutes", "a whole number of minutes")
        anomaly.set_threshold(
            uow,
            visit.caller,
            form.get("scope", "facility"),
            form.get("subject_id") or None,
            form.get("metric", ""),
            max_count,
            window,
        )
        metric = form.get("metric", "").replace("_", " ")
        done = f"Threshold set: at most {max_count} {metric} in {window} minutes."
        return site.redirect("/security/people", done=done)

    @router.post("/security/operators/{operator_id}/reinstate")
    @page(Permission.SUSPENSION_REINSTATE, back=people_page)
    def reinstate(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        reinstatement.reinstate_operator(uow, visit.caller, operator_id, form.get("reason", ""))
        return site.redirect("/security/people", done=f"{operator_id} reinstated.")
