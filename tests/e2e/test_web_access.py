"""Every web page, for every role: shown to those whose role allows it, refused (403) to the
others, and sending everyone without a session to sign in; a form without the session's CSRF
token changes nothing. (The browser tests in test_web.py walk the pages themselves.)"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import httpx
import pytest

from tests.e2e.conftest import TEMPLATES, Triage, start_server, stop
from tests.e2e.test_web import authenticator
from tests.people import PASSWORD
from triage.domain.roles import MATRIX, Permission, Role

# Every page, and the permission it needs (None: any signed-in person).
PAGES = {
    "/": None,
    "/bench": Permission.DEVICE_SCAN,
    "/supervisor": Permission.DECISION_OVERRIDE,
    "/stores": Permission.SEAL_STOCK,
    "/stores/stocktake": Permission.SEAL_STOCK,
    "/security/tools": Permission.ALERT_READ,
    "/security/people": Permission.ALERT_READ,
    "/admin": Permission.FACILITY_MANAGE,
    "/auditor": Permission.ASSURANCE_READ,
    "/auditor/assessments": Permission.ASSURANCE_READ,
    "/auditor/device": Permission.HISTORY_READ,
    # Every role: the facility's people see every owner's, an owner's person its own.
    "/consignments": None,
    "/exceptions": Permission.TRIAGE_READ,
    "/asset-owners": None,
}


class Site(NamedTuple):
    anonymous: httpx.Client
    sessions: dict[Role, httpx.Client]  # a signed-in browser for each role
    admin_token: str


@pytest.fixture
def site(triage: Triage) -> Iterator[Site]:
    with signed_in_site(triage) as running:
        yield running


def _who(role: Role) -> str:
    return "root" if role is Role.ADMINISTRATOR else f"web-{role.value.replace('_', '-')}"


def _person_of_each_role(triage: Triage) -> str:
    """A new facility with a person of each role enrolled (the asset owner's of MAP-1): the
    administrator's token."""
    triage.run("init")
    admin = triage.first_admin(_who(Role.ADMINISTRATOR), "Root")
    triage.register_owner(admin)
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            owner = "MAP-1" if role is Role.ASSET_OWNER else None
            triage.staff(admin, _who(role), role.value, asset_owner=owner)
    return admin


@contextmanager
def signed_in_site(triage: Triage) -> Iterator[Site]:
    """A facility's server, and a browser signed in for each role."""
    admin = TEMPLATES.copied(triage, "a-person-of-each-role", _person_of_each_role)
    server, client = start_server(triage, "--checkpoint-interval", "0", "--evidence-interval", "0")
    sessions = {}
    try:
        for role in Role:
            who = _who(role)
            totp = authenticator(triage, who)
            browser = httpx.Client(base_url=client.base_url, timeout=30)
            signed = browser.post(
                "/login",
                data={
                    "operator_id": who,
                    "password": PASSWORD,
                    "second_factor": totp.at(time.time() + 30),
                    "bench": "",
                },
            )
            assert signed.status_code == 303, signed.text
            # The cookie is Secure; the test client sends it over loopback as a browser does.
            browser.cookies.set("triage_session", signed.cookies["triage_session"])
            sessions[role] = browser
        yield Site(client, sessions, admin)
    finally:
        for browser in sessions.values():
            browser.close()
        client.close()
        stop(server)


def test_every_page_is_shown_or_refused_by_role(
    site: Site,
) -> None:
    anonymous, sessions = site.anonymous, site.sessions
    for path, needed in PAGES.items():
        away = anonymous.get(path)
        assert away.status_code == 303 and away.headers["location"].startswith("/login"), path
        for role, browser in sessions.items():
            response = browser.get(path)
            allowed = needed is None or needed in MATRIX[role]
            expected = 200 if allowed else 403
            assert response.status_code == expected, (path, role, response.status_code)
            if not allowed:
                assert "This page is for:" in response.text, (path, role)
            assert "default-src 'self'" in response.headers["content-security-policy"]
            # The title is plain text (a bad edit once put a whole form in one).
            title = response.text.split("<title>", 1)[1].split("</title>", 1)[0]
            assert "<" not in title and ">" not in title, (path, title)


def test_a_form_without_the_csrf_token_changes_nothing(
    site: Site,
) -> None:
    sessions = site.sessions
    browser = sessions[Role.SECURITY_MANAGER]
    forged = browser.post("/security/tools/NONE/reinstate", data={"reason": "a forged request"})
    assert forged.status_code == 403 and "Form expired" in forged.text
    page = browser.get("/security/tools")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    real = browser.post(
        "/security/tools/NONE/reinstate", data={"reason": "no such tool here", "csrf_token": token}
    )
    assert real.status_code == 404  # past the CSRF check, the service answers


def _token(browser: httpx.Client, path: str) -> str:
    page = browser.get(path)
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_roles_and_thresholds_are_changed_through_their_pages(
    site: Site,
) -> None:
    sessions = site.sessions
    admin = sessions[Role.ADMINISTRATOR]
    person = "/people/web-auditor"
    changed = admin.post(
        f"{person}/roles",
        data={"role_auditor": "1", "role_stores": "1", "csrf_token": _token(admin, person)},
    )
    assert changed.status_code == 303
    assert 'id="person-roles">auditor, stores<' in admin.get(person).text
    # Roles are chosen, never typed: none chosen is refused beside the choices.
    refused = admin.post(f"{person}/roles", data={"csrf_token": _token(admin, person)})
    assert refused.status_code == 422 and 'id="change-roles-error"' in refused.text

    security = sessions[Role.SECURITY_MANAGER]
    set_ = security.post(
        "/security/thresholds",
        data={
            "metric": "resets",
            "scope": "facility",
            "max_count": "250",
            "window_minutes": "60",
            "csrf_token": _token(security, "/security/people"),
        },
    )
    assert set_.status_code == 303
    assert ">250<" in security.get("/security/people").text
    # The bench operator may not set thresholds, even with a valid form of their own.
    bench = sessions[Role.BENCH_OPERATOR]
    denied = bench.post(
        "/security/thresholds",
        data={"metric": "resets", "max_count": "1", "window_minutes": "1", "csrf_token": "x"},
    )
    assert denied.status_code == 403


def test_an_administrator_puts_a_new_tamper_policy_in_force(
    site: Site,
) -> None:
    from importlib import resources

    sessions = site.sessions
    admin = sessions[Role.ADMINISTRATOR]
    packaged = (
        resources.files("triage.domain").joinpath("policies", "tamper-default.yaml").read_text()
    )
    # A version the packaged policy never had (the packaged one moves on with the product).
    newer = re.sub(r'(?m)^version: "[^"]*"$', 'version: "99"', packaged)
    assert newer != packaged
    sent = admin.post(
        "/admin/policy",
        data={"csrf_token": _token(admin, "/admin")},
        files={"policy": ("tamper.yaml", newer.encode(), "application/yaml")},
    )
    assert sent.status_code == 303, sent.text
    assert "tamper-default version 99" in admin.get("/admin").text
    broken = admin.post(
        "/admin/policy",
        data={"csrf_token": _token(admin, "/admin")},
        files={"policy": ("tamper.yaml", b"id: [unclosed", "application/yaml")},
    )
    assert broken.status_code == 422 and "policy:" in broken.text
    assert "tamper-default version 99" in admin.get("/admin").text  # nothing changed
    # Not for the security manager.
    security = sessions[Role.SECURITY_MANAGER]
    refused = security.post(
        "/admin/policy", data={"csrf_token": "x"}, files={"policy": ("p.yaml", b"x", "text/yaml")}
    )
    assert refused.status_code == 403


def test_a_security_manager_revokes_a_token_and_unlocks_an_address_on_the_people_page(
    triage: Triage, site: Site
) -> None:
    anonymous, sessions = site.anonymous, site.sessions
    security = sessions[Role.SECURITY_MANAGER]
    own = triage.people["web-auditor"].token  # the auditor mints another token of theirs
    issued = json.loads(triage.run("operator", "token", "--token", own, "--json").stdout)
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert anonymous.get("/api/v1/access-review", headers=bearer).status_code == 200
    page = security.get("/security/people").text
    assert f'id="token-{issued["token_id"]}"' in page

    # A reason is asked for, and recorded; a short one is refused and revokes nothing.
    form = {"csrf_token": _token(security, "/security/people")}
    path = f"/security/tokens/{issued['token_id']}/revoke"
    short = security.post(path, data={**form, "reason": "lost"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    assert anonymous.get("/api/v1/access-review", headers=bearer).status_code == 200
    revoked = security.post(path, data={**form, "reason": "tablet left on the train"})
    assert revoked.status_code == 303
    refused = anonymous.get("/api/v1/access-review", headers=bearer)
    assert refused.status_code == 401 and "revoked" in refused.text
    assert f'id="token-{issued["token_id"]}"' not in security.get("/security/people").text

    # Twenty failed sign-ins from one address lock it, for everyone signing in from there.
    for attempt in range(20):
        anonymous.post(
            "/login",
            data={"operator_id": f"nobody-{attempt}", "password": "x", "second_factor": "1"},
        )
    locked = anonymous.post(
        "/login", data={"operator_id": "web-auditor", "password": PASSWORD, "second_factor": "1"}
    )
    assert locked.status_code == 403 and "are locked after repeated failures" in locked.text
    assert 'id="lock-source-127.0.0.1"' in security.get("/security/people").text
    unlocked = security.post(
        "/security/locks/source/127.0.0.1/unlock",
        data={"csrf_token": _token(security, "/security/people"), "reason": "our own test run"},
    )
    assert unlocked.status_code == 303
    page = security.get("/security/people").text
    assert 'id="lock-source-127.0.0.1"' not in page and "Nobody and no address" in page
    # Both acts went through the services into the ledger: the tables still replay from it.
    triage.run("ledger", "replay", "--check", "--token", site.admin_token)
    # The bench operator sees neither form, and posting one is refused.
    bench = sessions[Role.BENCH_OPERATOR]
    assert bench.post(path, data={"csrf_token": "x", "reason": "x" * 12}).status_code == 403


def test_benches_are_assigned_through_the_administrators_page(site: Site) -> None:
    admin = site.sessions[Role.ADMINISTRATOR]
    form = {"benches": "B2 B1", "reason": "covers bench B2 on Fridays"}
    person = "/people/web-bench-operator"
    path = f"{person}/benches"
    assigned = admin.post(path, data={**form, "csrf_token": _token(admin, person)})
    assert assigned.status_code == 303
    page = admin.get(person).text
    assert page.split('id="person-benches">', 1)[1].startswith("B1, B2<")
    unexplained = {**form, "reason": " ", "csrf_token": _token(admin, person)}
    refused = admin.post(path, data=unexplained)
    assert refused.status_code == 422 and "reason" in refused.text
