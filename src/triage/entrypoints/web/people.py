"""The administrator's people pages: who works here, adding a person with their roles and
benches, their activation code (shown once), changing roles and benches, locking and unlocking
an account, and API tokens (listed and revoked; issued only to oneself).

(The security manager's access review is ``/security/people``, in ``security``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.credentials import ACTIVATION_LIFETIME
from triage.domain.people import parse_roles
from triage.domain.roles import Permission, Role
from triage.entrypoints.web.form_values import listed, optional_whole
from triage.services import auth, bench_assignment, operators, staffing, tokens
from triage.services.views import people as people_views

if TYPE_CHECKING:
    from collections.abc import Mapping

    from triage.entrypoints.web.pages import Site, Visit

# The roles offered as choices: (the form field's name, the role, how the page names it).
ROLE_CHOICES = tuple((f"role_{r.value}", r, r.value.replace("_", " ")) for r in Role)
ACTIVATION_HOURS = int(ACTIVATION_LIFETIME.total_seconds() // 3600)


def _roles(form: Mapping[str, str]) -> frozenset[Role]:
    """The roles ticked on a form (none ticked: none)."""
    return parse_roles([role.value for name, role, _ in ROLE_CHOICES if form.get(name)])


def _names(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(r.value.replace("_", " ") for r in roles))


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    def activation_shown(visit: Visit, operator_id: str, code: str, added: str = "") -> Response:
        """An activation code, shown this once, and what its holder does with it."""
        return site.render(
            "shown_once.html",
            visit,
            title=f"Activation code for {operator_id}",
            said=f"{added}Hand this code to {operator_id} in person. It is shown this once "
            f"and works for {ACTIVATION_HOURS} hours.",
            secret=code,
            steps=[
                f"triage auth activate {operator_id} --code CODE --password-stdin "
                "(sets their password; shows the second factor's secret to enrol)",
                f"triage auth confirm {operator_id} --code CODE --totp NNNNNN "
                "(confirms the authenticator; shows their recovery codes once)",
                "then they sign in here with their password and authenticator code",
            ],
            back=f"/people/{operator_id}",
        )

    @router.get("/people")
    @page(Permission.OPERATOR_MANAGE)
    def people_list(visit: Visit, form: dict[str, str]) -> Response:
        shown = people_views.roster(uow, visit.caller)
        return site.render(
            "people.html",
            visit,
            operators=shown.operators,
            benches=shown.benches,
            locked=shown.locked,
            role_choices=ROLE_CHOICES,
            asset_owners=[(o, o) for o in shown.asset_owners],
        )

    @router.post("/people")
    @page(Permission.OPERATOR_MANAGE, back=people_list)
    def add(visit: Visit, form: dict[str, str]) -> Response:
        operator_id = form.get("operator_id", "").strip()
        added = staffing.add_operator(
            uow,
            visit.caller,
            operator_id,
            form.get("name", ""),
            _roles(form),
            bool(form.get("activation")),
            listed(form, "benches"),
            form.get("asset_owner", "").strip() or None,
        )
        new = added.operator
        said = f"Added {new.id} ({new.name}) as {_names(new.roles)}"
        if added.activation_code is None:
            return site.redirect(f"/people/{added.operator.id}", done=said)
        return activation_shown(visit, added.operator.id, added.activation_code, f"{said}. ")

    @router.get("/people/{operator_id}")
    @page(Permission.OPERATOR_MANAGE)
    def person(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        shown = people_views.person(uow, visit.caller, operator_id)
        return site.render(
            "person.html",
            visit,
            person=shown.operator,
            benches=shown.benches,
            lock=shown.lock,
            tokens=shown.tokens,
            now=shown.at,
            role_choices=ROLE_CHOICES,
            token_days=application.settings.token_max_days,
        )

    @router.post("/people/{operator_id}/roles")
    @page(Permission.OPERATOR_MANAGE, back=person)
    def roles(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        changed = operators.change_roles(uow, visit.caller, operator_id, _roles(form))
        return site.redirect(
            f"/people/{operator_id}", done=f"{operator_id} now has: {_names(changed.roles)}"
        )

    @router.post("/people/{operator_id}/benches")
    @page(Permission.OPERATOR_MANAGE, back=person)
    def benches(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        done = bench_assignment.assign_benches(
            uow, visit.caller, operator_id, listed(form, "benches"), form.get("reason", "")
        )
        at = ", ".join(done.benches) or "no bench"
        return site.redirect(f"/people/{operator_id}", done=f"{operator_id} works at: {at}")

    @router.post("/people/{operator_id}/activation")
    @page(Permission.OPERATOR_MANAGE, back=person)
    def activation(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        code = auth.issue_activation(uow, visit.caller, operator_id)
        return activation_shown(visit, operator_id, code)

    @router.post("/people/{operator_id}/lock")
    @page(Permission.OPERATOR_MANAGE, back=person)
    def lock(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        auth.lock_operator(uow, visit.caller, operator_id, form.get("reason", ""))
        return site.redirect(
            f"/people/{operator_id}",
            done=f"{operator_id} is locked: their sessions and tokens no longer work",
        )

    @router.post("/people/{operator_id}/unlock")
    @page(Permission.ACCOUNT_UNLOCK, back=person)
    def unlock(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        auth.unlock(uow, visit.caller, "operator", operator_id, form.get("reason", ""))
        return site.redirect(f"/people/{operator_id}", done=f"{operator_id} is unlocked")

    @router.post("/people/{operator_id}/tokens")
    @page(Permission.OPERATOR_MANAGE, back=person)
    def issue_token(visit: Visit, form: dict[str, str], operator_id: str) -> Response:
        issued = tokens.issue_token(
            uow,
            visit.caller,
            operator_id,
            form.get("label", ""),
            days=optional_whole(form, "days", "a whole number of days, or empty for the longest"),
            bench=form.get("bench", "").strip() or None,
            max_days=application.settings.token_max_days,
        )
        return site.render(
            "shown_once.html",
            visit,
            title=f"API token {issued.token_id}",
            said="Your new API token. It is shown this once: only its hash is kept.",
            secret=issued.secret,
            steps=["send it as 'Authorization: Bearer TOKEN', or give it to the CLI's --token"],
            back=f"/people/{operator_id}",
        )

    @router.post("/people/{operator_id}/tokens/{token_id}/revoke")
    @page(Permission.OPERATOR_MANAGE, back=person)
    def revoke(visit: Visit, form: dict[str, str], operator_id: str, token_id: str) -> Response:
        tokens.revoke_token(uow, visit.caller, token_id, form.get("reason", ""))
        return site.redirect(f"/people/{operator_id}", done=f"Token {token_id} is revoked")
