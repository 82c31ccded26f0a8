"""What the web says when a threshold stops a work order (issue 18): the refusal names the
limit; the bench page of a device whose order was withdrawn says its tool is suspended and
stops refreshing; the security office's alerts name the tool and the limit, and each tool's
thresholds are shown."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed
from tests.people import enrol
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.services import anomaly, job_steps, operators

DEVICES = [f"BC-33-AC-FF-FE-FA-77-0{i}" for i in range(1, 3)]
TOOL = "BENCH-1"
LIMIT = "tool BENCH-1 may do 1 reset an hour; this would be the 2nd"


def _signed_in(client: TestClient, staffed: Staffed, who: str, bench: str) -> TestClient:
    enrolled = enrol(staffed.app, staffed.admin, who, bench=bench or None)
    signed = client.post(
        "/login",
        data={
            "operator_id": who,
            "password": enrolled.password,
            "second_factor": enrolled.recovery_codes.pop(),
            "bench": bench,
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    # The cookie is Secure; the test client sends it over plain HTTP as a browser on loopback.
    client.cookies.set("triage_session", signed.cookies["triage_session"])
    return client


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def eligible(staffed: Staffed) -> list[str]:
    staffed.manifest("C-9", DEVICES)
    return [staffed.receive(d).id for d in DEVICES]


def test_a_refused_order_and_its_withdrawn_neighbour_as_the_bench_and_office_see_them(
    staffed: Staffed, eligible: list[str]
) -> None:
    app = create_app(staffed.app)
    operators.create_operator(
        staffed.app.uow, staffed.admin, "sam", "Sam", frozenset({Role.SECURITY_MANAGER})
    )
    sam = operators.operator_caller(staffed.app.uow, "sam")
    anomaly.set_threshold(staffed.app.uow, sam, "tool", TOOL, "resets", 1, 60)
    first, second = eligible
    job_steps.authorise_reset(staffed.app.uow, staffed.ben, first, TOOL, staffed.app.signer_key())

    with TestClient(app) as bench_client, TestClient(app) as office_client:
        bench = _signed_in(bench_client, staffed, "ben", "B1")
        page = bench.get(f"/bench/jobs/{second}")
        assert "Next: reset the device" in page.text
        refused = bench.post(
            f"/bench/jobs/{second}/reset",
            data={"tool_id": TOOL, "csrf_token": _csrf(page)},
            follow_redirects=False,
        )
        assert refused.status_code == 409
        assert LIMIT in refused.text

        # The first device's order was withdrawn: the page says so and stops refreshing.
        shown = bench.get(f"/bench/jobs/{first}")
        assert shown.status_code == 200
        assert "Tool BENCH-1 is suspended" in shown.text
        assert "The work order was withdrawn" in shown.text
        assert "resetting the device" not in shown.text
        assert 'http-equiv="refresh"' not in shown.text
        assert 'id="no-tool"' in shown.text  # no active tool to start the reset again with

        office = _signed_in(office_client, staffed, "sam", "")
        tools_page = office.get("/security/tools").text
        alert = re.search(r'<li id="alert-[^"]+">(.*?)</li>', tools_page, re.S)
        assert alert is not None
        assert "Tool BENCH-1</a>" in alert.group(1)
        assert f"work order refused: {LIMIT}" in alert.group(1)
        row = re.search(r'<tr id="tool-BENCH-1">(.*?)</tr>', tools_page, re.S)
        assert row is not None
        assert "resets: 1 an hour <strong>(set for BENCH-1)</strong>" in row.group(1)
        assert "refused commands: 5 an hour" in row.group(1)
