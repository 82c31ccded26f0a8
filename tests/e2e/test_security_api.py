"""The security team's API against a real server: a threshold trips on a refused agent request
signed with the tool's own key (a forgery without the key never counts), the alert is seen and
resolved, the tool is reinstated, and the access review is exported."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Triage, start_server, stop
from triage.domain import agent_request
from triage.entrypoints.agent import load_tool_key
from triage.ledger import note

PROBLEM = "application/problem+json"


@dataclass
class Site:
    client: httpx.Client
    tokens: dict[str, str]
    tool_key: str

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def site(triage: Triage, tmp_path: Path) -> Iterator[Site]:
    triage.run("init")
    admin = triage.first_admin()
    tokens = {"admin": admin}
    for who, role in (("sam", "security_manager"), ("ben", "bench_operator")):
        tokens[who] = triage.staff(admin, who, role, bench="B1")
    key = tmp_path / "tool.key"
    tool_vkey = triage.run("agent", "keygen", "--tool-id", "BENCH-1", "--out", str(key)).stdout
    triage.run(
        "tool", "enrol", "BENCH-1", "--bench", "B1", "--key", tool_vkey.strip(), "--token", admin
    )
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        yield Site(client, tokens, load_tool_key(key))
    finally:
        client.close()
        stop(server)


def test_a_breach_is_alerted_resolved_and_reinstated_by_the_security_manager(
    site: Site, triage: Triage
) -> None:
    limit = {
        "scope": "tool",
        "subject_id": "BENCH-1",
        "metric": "refused_commands",
        "max_count": 0,
        "window_minutes": 60,
    }
    assert site.call(None, "PUT", "/thresholds", json=limit).status_code == 401
    refused = site.call("admin", "PUT", "/thresholds", json=limit)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    bad = site.call("sam", "PUT", "/thresholds", json={**limit, "window_minutes": 0})
    assert bad.status_code == 422 and "window_minutes" in bad.json()["detail"]
    assert site.call("sam", "PUT", "/thresholds", json=limit).json() == limit

    # A forgery without the tool's key is refused and counts for nothing.
    stale = "2020-01-01T00:00:00.000000Z"
    headers = {
        agent_request.HEADER_TOOL: "BENCH-1",
        agent_request.HEADER_TIME: stale,
        agent_request.HEADER_NONCE: "0" * 32,
        agent_request.HEADER_SIGNATURE: "AAAA",
    }
    assert site.client.get("/api/v1/agent/work-orders", headers=headers).status_code == 401
    assert site.call("sam", "GET", "/alerts").json()["total"] == 0

    # A request the tool's key signed, at a time far off the server's clock: the tool (or
    # its key) misbehaving. Refused, recorded, and over the limit.
    message = agent_request.request_message(
        "GET", "/api/v1/agent/work-orders", stale, "0" * 32, b""
    )
    signature = base64.b64encode(note.sign_message(message, site.tool_key)).decode()
    refused = site.client.get(
        "/api/v1/agent/work-orders", headers={**headers, agent_request.HEADER_SIGNATURE: signature}
    )
    assert refused.status_code == 401

    assert site.call("admin", "GET", "/alerts").status_code == 403
    page = site.call("sam", "GET", "/alerts", params={"limit": 1}).json()
    assert page["total"] == 1 and page["limit"] == 1
    [alert] = page["items"]
    assert alert["metric"] == "refused_commands"
    assert alert["subject"] == {"kind": "tool", "id": "BENCH-1"}
    assert site.call("sam", "GET", "/alerts", params={"status": "nonsense"}).status_code == 422

    # The access review shows the tool suspended.
    review = site.call("sam", "GET", "/access-review").json()
    assert review["tools"][0]["status"] == "suspended"

    # Only a security manager reinstates, with a reason.
    assert (
        site.call(
            "admin", "POST", "/tools/BENCH-1/reinstate", json={"reason": "checked and resealed"}
        ).status_code
        == 403
    )
    empty = site.call("sam", "POST", "/tools/BENCH-1/reinstate", json={"reason": " "})
    assert empty.status_code == 422 and "reason" in empty.json()["detail"]
    back = site.call("sam", "POST", "/tools/BENCH-1/reinstate", json={"reason": "forgery traced"})
    assert back.status_code == 200 and back.json()["status"] == "active"
    resolved = site.call(
        "sam",
        "POST",
        f"/alerts/{alert['id']}/resolve",
        json={"resolution": "forgery traced to a test rig"},
    ).json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "sam"
    assert site.call("sam", "GET", "/alerts").json()["total"] == 0

    not_suspended = site.call(
        "sam", "POST", "/operators/ben/reinstate", json={"reason": "just in case"}
    )
    assert not_suspended.status_code == 409 and not_suspended.headers["content-type"] == PROBLEM
    hours = {"start": "07:00", "end": "19:00", "days": ["mon", "tue"]}
    assert site.call("sam", "PUT", "/working-hours", json=hours).json() == {
        "working_hours": {**hours, "zone": "Europe/London"}
    }

    # An administrator suspends and retires tools; the review shows state and reason.
    suspended = site.call(
        "admin", "POST", "/tools/BENCH-1/suspend", json={"reason": "moved to another bench"}
    )
    assert suspended.json()["status"] == "suspended"
    retired = site.call(
        "admin", "POST", "/tools/BENCH-1/retire", json={"reason": "replaced by a new tool"}
    )
    assert retired.json()["status"] == "retired"

    exported = site.call("sam", "GET", "/access-review", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    tool = next(r for r in rows if r["kind"] == "tool")
    assert (tool["id"], tool["status"], tool["reason"]) == (
        "BENCH-1",
        "retired",
        "replaced by a new tool",
    )
    assert {r["id"] for r in rows if r["kind"] == "operator"} == {"admin", "sam", "ben"}
    assert site.tokens["ben"] not in exported.text
    assert site.call("ben", "GET", "/access-review").status_code == 403

    # The CLI sees the same record, and the projections still agree with the ledger.
    env_token = ["--token", site.tokens["sam"]]
    shown = json.loads(triage.run("alerts", "list", "--status", "all", "--json", *env_token).stdout)
    assert shown["total"] == 1 and shown["items"][0]["status"] == "resolved"
    checked = triage.run("ledger", "replay", "--check", "--token", site.tokens["sam"], check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_administrator_changes_the_triage_settings_everyone_reads(site: Site) -> None:
    assert site.call("ben", "GET", "/facility/settings").json() == {
        "max_reset_attempts": 3,
        "work_order_minutes": 15,
    }
    changed = site.call("admin", "PUT", "/facility/settings", json={"max_reset_attempts": 2})
    assert changed.json() == {"max_reset_attempts": 2, "work_order_minutes": 15}
    assert site.call("ben", "GET", "/facility/settings").json()["max_reset_attempts"] == 2
    out_of_range = site.call("admin", "PUT", "/facility/settings", json={"work_order_minutes": 0})
    assert out_of_range.status_code == 422, out_of_range.text
    assert "work_order_minutes: must be between 1 and 240" in out_of_range.json()["detail"]
    refused = site.call("sam", "PUT", "/facility/settings", json={"max_reset_attempts": 9})
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert site.call("ben", "GET", "/facility/settings").json()["max_reset_attempts"] == 2
