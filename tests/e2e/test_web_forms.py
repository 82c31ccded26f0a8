"""Forms that fit bench work (issue 18, item 3): a refused form comes back on its own page with
the error beside the field and what was typed kept, never on a separate error page; every act
says what it did, once; and the message a page shows comes only from this site's own redirect.
(The browser walks the same through the bench in test_web.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Triage
from tests.e2e.test_web_access import Site, _token, signed_in_site
from triage.domain.roles import Role


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server, and a browser signed in for each role, for every test here: each test
    leaves the facility as another would find it (a threshold set, a message shown once)."""
    with signed_in_site(Triage(tmp_path_factory.mktemp("forms") / "var")) as running:
        yield running


PEOPLE = "/security/people"


def _field(html: str, field_id: str) -> str:
    """The input element with this id, as the page has it."""
    found = re.search(rf'<input id="{field_id}"[^>]*>', html)
    assert found, f"no input #{field_id} on the page"
    return found.group(0)


def _thresholds(security: httpx.Client) -> str:
    return security.get(PEOPLE).text.split("<h2>Thresholds</h2>", 1)[1].split("</table>", 1)[0]


def test_a_refused_form_comes_back_on_its_page_with_what_was_typed(site: Site) -> None:
    security = site.sessions[Role.SECURITY_MANAGER]
    before = _thresholds(security)
    typed = {
        "metric": "resets",
        "scope": "tool",
        "subject_id": "BENCH-7",
        "max_count": "lots",
        "window_minutes": "45",
        "csrf_token": _token(security, PEOPLE),
    }
    refused = security.post("/security/thresholds", data=typed)
    assert refused.status_code == 422
    page = refused.text
    # The page the form lives on, not an error page with only a "Home" button.
    assert "<h2>Thresholds</h2>" in page and "Change a threshold" in page
    assert 'id="max_count-error"' in page and "max_count: a whole number of acts" in page
    assert 'aria-invalid="true"' in _field(page, "max_count")
    assert 'value="lots"' in _field(page, "max_count")
    assert 'value="BENCH-7"' in _field(page, "subject_id")
    assert 'value="45"' in _field(page, "window_minutes")
    assert '<option value="tool" selected>' in page
    # Only the field at fault is marked.
    assert "aria-invalid" not in _field(page, "window_minutes")
    # Nothing was recorded.
    assert _thresholds(security) == before


def test_an_act_says_what_it_did_once(site: Site) -> None:
    security = site.sessions[Role.SECURITY_MANAGER]
    form = {
        "metric": "resets",
        "scope": "facility",
        "subject_id": "",
        "max_count": "7",
        "window_minutes": "30",
        "csrf_token": _token(security, PEOPLE),
    }
    done = security.post("/security/thresholds", data=form)
    assert done.status_code == 303 and done.headers["location"] == PEOPLE
    message = "Threshold set: at most 7 resets in 30 minutes."
    # The browser carries the message to the next page (Secure cookies go over loopback here).
    security.cookies.set("triage_done", done.cookies["triage_done"])
    shown = security.get(PEOPLE)
    assert f'<p class="done-message" role="status">{message}</p>' in shown.text
    # ... and is told to forget it: shown once.
    assert 'triage_done=""' in shown.headers.get("set-cookie", "")
    security.cookies.delete("triage_done")
    assert message not in security.get(PEOPLE).text


def test_a_message_not_signed_for_this_session_is_never_shown(site: Site) -> None:
    security = site.sessions[Role.SECURITY_MANAGER]
    auditor = site.sessions[Role.AUDITOR]
    form = {
        "metric": "resets",
        "scope": "facility",
        "subject_id": "",
        "max_count": "9",
        "window_minutes": "30",
        "csrf_token": _token(security, PEOPLE),
    }
    sealed = security.post("/security/thresholds", data=form).cookies["triage_done"]
    # Someone else's message (signed for the security manager's session) shows nothing to the
    # auditor, nor does one written by hand.
    auditor.cookies.set("triage_done", sealed)
    assert "Threshold set" not in auditor.get("/").text
    text = "VGhlIGZhY2lsaXR5IGlzIGNsb3NlZA"  # "The facility is closed", unsigned
    auditor.cookies.set("triage_done", f"{text}.{'0' * 64}")
    assert "The facility is closed" not in auditor.get("/").text
    auditor.cookies.delete("triage_done")


def test_a_refused_sign_in_keeps_who_and_where_but_never_the_secrets(site: Site) -> None:
    typed = {
        "operator_id": "web-bench-operator",
        "password": "not the password at all",
        "second_factor": "123456",
        "bench": "B4",
    }
    refused = site.anonymous.post("/login", data=typed)
    assert refused.status_code == 401
    page = refused.text
    assert 'value="web-bench-operator"' in _field(page, "operator_id")
    assert 'value="B4"' in _field(page, "bench")
    # The password field is the one to type into next; no secret comes back.
    assert "autofocus" in _field(page, "password")
    assert "not the password at all" not in page and "123456" not in page
