"""Waiting reads through the API, on SQLite and PostgreSQL: a job, a job's security log and a
tool's work orders carry an ETag, answer 304 to a matching If-None-Match, and with ``Prefer:
wait`` are held until the answer changes (a step made meanwhile, woken by the commit; or made
by another process, seen at the recheck), then 200; or answered 304 (404 for a log not yet
recorded) when the wait ends. Who may read is checked once, before any wait: errors are
answered at once."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed
from tests.people import enrol
from triage import bootstrap
from triage.adapters.devices import scenarios
from triage.adapters.devices.simulated import SimulatedFleet
from triage.domain import agent_request
from triage.domain.caller import Caller
from triage.domain.roles import Permission, Role
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.work_order import WorkOrder
from triage.entrypoints.api import waiting
from triage.entrypoints.asgi import create_app
from triage.ledger import note
from triage.ledger.entry import Ref, format_time
from triage.services import intake, job_steps, security_log
from triage.services.common import make_entry

D1, D2 = "BC-33-AC-FF-FE-FA-77-01", "BC-33-AC-FF-FE-FA-77-02"
WORK_ORDERS = "/api/v1/agent/work-orders"
# Long enough that a request answered before it ends was answered because something changed.
LONG = "wait=10"


@dataclass
class Api:
    staffed: Staffed
    client: TestClient
    ben: dict[str, str]

    @property
    def app(self) -> bootstrap.App:
        return self.staffed.app

    def job(self, job_id: str, **headers: str) -> httpx.Response:
        return self.get(f"/api/v1/jobs/{job_id}", {**self.ben, **headers})

    def log(self, job_id: str, **headers: str) -> httpx.Response:
        return self.get(f"/api/v1/jobs/{job_id}/security-log", {**self.ben, **headers})

    def orders(self, **headers: str) -> httpx.Response:
        return self.get(WORK_ORDERS, {**self.tool_headers(), **headers})

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        answer: httpx.Response = self.client.get(path, headers=headers)
        return answer

    def tool_headers(
        self, path: str = WORK_ORDERS, key: str | None = None, sent: datetime | None = None
    ) -> dict[str, str]:
        """A GET of ``path`` signed by the bench's tool, as the agent signs it."""
        at = format_time(sent or datetime.now(UTC))
        nonce = secrets.token_hex(16)
        message = agent_request.request_message("GET", path, at, nonce, b"")
        signature = note.sign_message(message, key or self.staffed.tool_key)
        return {
            agent_request.HEADER_TOOL: "BENCH-1",
            agent_request.HEADER_TIME: at,
            agent_request.HEADER_NONCE: nonce,
            agent_request.HEADER_SIGNATURE: base64.b64encode(signature).decode(),
        }


@pytest.fixture
def api(staffed: Staffed, monkeypatch: pytest.MonkeyPatch) -> Api:
    # Nothing is read again on a timer unless a test asks: an answer that comes before the
    # wait ends came because the commit woke the request.
    monkeypatch.setattr(waiting, "RECHECK_SECONDS", 60.0)
    staffed.manifest("C-W", [D1, D2])
    ben = {"Authorization": f"Bearer {enrol(staffed.app, staffed.admin, 'ben', bench='B1').token}"}
    return Api(staffed, TestClient(create_app(staffed.app)), ben)


def _scanned(staffed: Staffed, device_id: str) -> str:
    scanned = intake.scan_device(staffed.app.uow, staffed.ben, device_id)
    assert scanned.job is not None, scanned.message
    return scanned.job.id


def _eligible(staffed: Staffed, device_id: str) -> str:
    job = staffed.receive(device_id)
    assert job.state.value == "eligible"
    return job.id


def once_waiting(app: bootstrap.App, step: Callable[[], Any]) -> threading.Thread:
    """A thread that does ``step`` once a request is held waiting (another client's step)."""

    def run() -> None:
        while app.changes.waiting == 0:
            threading.Event().wait(0.01)
        step()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _authorise(staffed: Staffed, job_id: str, app: bootstrap.App | None = None) -> str:
    on = app or staffed.app
    return job_steps.authorise_reset(on.uow, staffed.ben, job_id, "BENCH-1", on.signer_key())


def test_every_answer_has_an_etag_and_a_matching_if_none_match_is_answered_304(
    api: Api,
) -> None:
    job_id = _scanned(api.staffed, D1)
    first = api.job(job_id)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"')

    same = api.job(job_id, **{"If-None-Match": tag})
    other = api.job(job_id, **{"If-None-Match": '"something-else"'})

    assert (same.status_code, same.headers["ETag"], same.content) == (304, tag, b"")
    assert "Preference-Applied" not in same.headers
    assert other.status_code == 200 and other.json() == first.json()
    assert api.orders().headers["ETag"]


def test_a_waiting_read_of_an_unchanged_job_is_answered_304_when_the_wait_ends(
    api: Api,
) -> None:
    job_id = _scanned(api.staffed, D1)
    tag = api.job(job_id).headers["ETag"]

    held = api.job(job_id, **{"If-None-Match": tag, "Prefer": "wait=0.3"})

    assert held.status_code == 304
    assert held.headers["ETag"] == tag
    assert held.headers["Preference-Applied"] == "wait=0.3"


def test_a_step_during_the_wait_answers_200_with_the_new_state(api: Api) -> None:
    job_id = _eligible(api.staffed, D1)
    before = api.job(job_id)
    step = once_waiting(api.app, lambda: _authorise(api.staffed, job_id))

    held = api.job(job_id, **{"If-None-Match": before.headers["ETag"], "Prefer": LONG})
    step.join()

    assert held.status_code == 200
    assert held.json()["state"] == "reset_authorised"
    assert held.headers["ETag"] != before.headers["ETag"]
    assert held.headers["Preference-Applied"] == LONG
    assert api.app.changes.waiting == 0


def test_a_step_recorded_by_another_process_is_seen_at_the_recheck(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waiting, "RECHECK_SECONDS", 0.1)
    client = TestClient(create_app(api.app))
    job_id = _eligible(api.staffed, D1)
    tag = api.job(job_id).headers["ETag"]
    # Another process on the same database: its commits wake nobody in this one.
    other = bootstrap.bootstrap(api.app.settings)
    try:
        step = once_waiting(api.app, lambda: _authorise(api.staffed, job_id, other))
        held = client.get(
            f"/api/v1/jobs/{job_id}", headers={**api.ben, "If-None-Match": tag, "Prefer": LONG}
        )
        step.join()
    finally:
        other.close()

    assert held.status_code == 200
    assert held.json()["state"] == "reset_authorised"


def test_a_step_recorded_by_another_process_wakes_the_wait_while_the_server_watches(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No recheck within the wait (the fixture's 60 s): only the server's watcher of what
    # other processes record (a second worker, the CLI) wakes the request before it ends.
    job_id = _eligible(api.staffed, D1)
    hub = api.app.changes
    announced: list[set[tuple[str, str]]] = []
    publish = hub.publish

    def noting(keys: Iterable[tuple[str, str]]) -> None:
        announced.append(set(keys))
        publish(keys)

    monkeypatch.setattr(hub, "publish", noting)
    other = bootstrap.bootstrap(api.app.settings)
    try:
        with TestClient(create_app(api.app)) as client:
            tag = client.get(f"/api/v1/jobs/{job_id}", headers=api.ben).headers["ETag"]
            step = once_waiting(api.app, lambda: _authorise(api.staffed, job_id, other))
            held = client.get(
                f"/api/v1/jobs/{job_id}",
                headers={**api.ben, "If-None-Match": tag, "Prefer": LONG},
            )
            step.join()
    finally:
        other.close()

    assert held.status_code == 200
    assert held.json()["state"] == "reset_authorised"
    assert held.headers["Preference-Applied"] == LONG
    # Announced in this process, though committed by the other one.
    assert any(("job", job_id) in keys for keys in announced)


def test_errors_are_answered_at_once_even_to_a_request_that_asks_to_wait(api: Api) -> None:
    staffed = api.staffed
    job_id = _scanned(staffed, D1)
    limited = enrol(
        staffed.app,
        staffed.admin,
        "lee",
        [Role.AUDITOR],
        scopes=frozenset({Permission.LEDGER_READ}),
    ).token
    wait = {"Prefer": "wait=25", "If-None-Match": '"x"'}
    client = api.client

    nobody = client.get(f"/api/v1/jobs/{job_id}", headers=wait)
    unknown = api.job("no-such-job", **wait)
    refused = client.get(
        f"/api/v1/jobs/{job_id}/security-log",
        headers={**wait, "Authorization": f"Bearer {limited}"},
    )
    other_key, _ = note.generate_key("BENCH-1")
    forged = client.get(WORK_ORDERS, headers={**api.tool_headers(key=other_key), **wait})
    stale = api.tool_headers(sent=datetime.now(UTC) - timedelta(hours=1))
    late = client.get(WORK_ORDERS, headers={**stale, **wait})

    answers = [nobody, unknown, refused, forged, late]
    assert [a.status_code for a in answers] == [401, 404, 403, 401, 401]
    assert all("Preference-Applied" not in a.headers for a in answers)
    assert api.app.changes.waiting == 0


@pytest.mark.parametrize(
    "prefer", ["wait=soon", "wait=-1", "wait=", "wait=nan", "handling=lenient"]
)
def test_a_wait_preference_that_cannot_be_read_is_ignored(api: Api, prefer: str) -> None:
    job_id = _scanned(api.staffed, D1)
    tag = api.job(job_id).headers["ETag"]

    answer = api.job(job_id, **{"If-None-Match": tag, "Prefer": prefer})

    assert answer.status_code == 304
    assert "Preference-Applied" not in answer.headers


def test_a_wait_among_other_preferences_is_honoured(api: Api) -> None:
    job_id = _scanned(api.staffed, D1)
    tag = api.job(job_id).headers["ETag"]

    answer = api.job(job_id, **{"If-None-Match": tag, "Prefer": 'respond-async, wait="0.2"'})

    assert (answer.status_code, answer.headers["Preference-Applied"]) == (304, "wait=0.2")


def test_a_caller_over_the_waiters_cap_gets_a_plain_answer(api: Api) -> None:
    job_id = _scanned(api.staffed, D1)
    tag = api.job(job_id).headers["ETag"]
    api.app.changes.max_per_caller = 0

    answer = api.job(job_id, **{"If-None-Match": tag, "Prefer": LONG})

    assert answer.status_code == 304
    assert "Preference-Applied" not in answer.headers


def _reading(staffed: Staffed, signed_order: str) -> str:
    order = WorkOrder.open(signed_order, staffed.app.verifier_key())
    raw = staffed.connector.attach(order.device_id).read_security_log()
    return SecurityLogReading(
        order.id, order.nonce, "BENCH-1", order.device_id, datetime.now(UTC), raw
    ).sign(staffed.tool_key)


def test_a_waiting_read_of_a_security_log_is_held_until_the_tool_has_read_it(api: Api) -> None:
    staffed = api.staffed
    SimulatedFleet.create(staffed.fleet_path, [scenarios.clean(D1)])
    job_id = _scanned(staffed, D1)
    signed = security_log.request_read(
        staffed.app.uow, staffed.ben, job_id, "BENCH-1", staffed.app.signer_key()
    )
    not_yet = api.log(job_id, Prefer="wait=0.3")
    assert (not_yet.status_code, not_yet.headers["Preference-Applied"]) == (404, "wait=0.3")
    assert not_yet.json()["detail"] == f"no security log was recorded for job {job_id} yet"
    assert api.log(job_id).status_code == 404

    def record() -> None:
        store = staffed.app.evidence_store()
        security_log.record_reading(staffed.app.uow, staffed.tool, store, _reading(staffed, signed))

    step = once_waiting(api.app, record)
    held = api.log(job_id, Prefer=LONG)
    step.join()

    assert held.status_code == 200
    assert held.json()["source"] == "tool"
    assert held.headers["Preference-Applied"] == LONG
    again = api.log(job_id, **{"If-None-Match": held.headers["ETag"], "Prefer": "wait=0.2"})
    assert again.status_code == 304


def test_the_tools_signed_waiting_read_is_answered_when_an_order_is_issued(api: Api) -> None:
    staffed = api.staffed
    job_id = _eligible(staffed, D1)
    idle = api.orders()
    assert idle.json() == {"items": []}
    step = once_waiting(api.app, lambda: _authorise(staffed, job_id))

    held = api.orders(**{"If-None-Match": idle.headers["ETag"], "Prefer": LONG})
    step.join()

    assert held.status_code == 200
    assert held.headers["Preference-Applied"] == LONG
    [signed] = held.json()["items"]
    assert WorkOrder.open(signed, staffed.app.verifier_key()).job_id == job_id
    unchanged = api.orders(**{"If-None-Match": held.headers["ETag"], "Prefer": "wait=0.2"})
    assert unchanged.status_code == 304


def test_a_commit_wakes_who_waits_on_what_its_entries_name_and_a_rollback_wakes_nobody(
    app: bootstrap.App,
) -> None:
    system = Caller.system("test")

    def record(commit: bool) -> None:
        with app.uow(write=True) as uow:
            data = {"job_id": "J-1", "tool_id": "T-1"}
            uow.ledger.record([make_entry(uow, system, "test.noted", Ref("device", "D-1"), data)])
            if commit:
                uow.commit()

    async def woken_by(commit: bool) -> list[bool]:
        keys = [("job", "J-1"), ("tool", "T-1"), ("device", "D-1"), ("job", "J-2")]
        with contextlib.ExitStack() as stack:
            waiters = [stack.enter_context(app.changes.wait_on([key], "test")) for key in keys]
            await asyncio.to_thread(record, commit)
            return [await w.woken(0.2) for w in waiters if w is not None]

    assert asyncio.run(woken_by(commit=True)) == [True, True, True, False]
    assert asyncio.run(woken_by(commit=False)) == [False, False, False, False]
