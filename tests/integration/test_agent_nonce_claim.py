"""A tool's signed request claims its nonce in the very transaction that acts on it, on SQLite
and PostgreSQL: one durable write where there were two, and still at most once. The claim comes
first, so a replay changes nothing; and it is kept when the request is refused, so a refused
request cannot be replayed later either."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from tests.integration.conftest import Staffed, tool_headers
from triage.adapters.devices import scenarios
from triage.adapters.devices.simulated import SimulatedFleet
from triage.domain.agent_request import HEADER_NONCE
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.work_order import WorkOrder
from triage.entrypoints.asgi import create_app
from triage.services import intake, security_log
from triage.services.ports import UnitOfWork

D1, D2 = "BC-33-AC-FF-FE-FA-58-01", "BC-33-AC-FF-FE-FA-58-02"
PATH = "/api/v1/agent/security-logs"


@pytest.fixture
def client(staffed: Staffed) -> Iterator[TestClient]:
    staffed.manifest("C-1", [D1, D2])
    SimulatedFleet.create(staffed.fleet_path, [scenarios.clean(D1), scenarios.clean(D2)])
    with TestClient(create_app(staffed.app)) as client:
        yield client


def _reading(staffed: Staffed, device_id: str) -> bytes:
    """The body of the tool's signed reading of ``device_id``'s log under a read order."""
    app = staffed.app
    scanned = intake.scan_device(app.uow, staffed.ben, device_id)
    assert scanned.job is not None, scanned.message
    signed = security_log.request_read(
        app.uow, staffed.ben, scanned.job.id, "BENCH-1", app.signer_key()
    )
    order = WorkOrder.open(signed, app.verifier_key())
    raw = staffed.connector.attach(order.device_id).read_security_log()
    reading = SecurityLogReading(
        order.id, order.nonce, "BENCH-1", order.device_id, datetime.now(UTC), raw
    )
    return json.dumps({"reading": reading.sign(staffed.tool_key)}).encode()


class _Commits:
    """Counts the transactions committed on the application's database."""

    def __init__(self, staffed: Staffed) -> None:
        self.count = 0
        self._engine = staffed.app.database.engine
        event.listen(self._engine, "commit", self._committed)

    def _committed(self, _conn: object) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self._engine, "commit", self._committed)


def _nonces(staffed: Staffed) -> set[str]:
    with staffed.app.database.read() as conn:
        return {row[0] for row in conn.execute(text("SELECT nonce FROM agent_nonce"))}


def _recorded(staffed: Staffed) -> list[str]:
    return [e.subject.id for e in staffed.entries("device.security_log_recorded")]


def test_an_accepted_request_is_one_write_transaction_with_its_nonce(
    staffed: Staffed, client: TestClient
) -> None:
    body = _reading(staffed, D1)
    headers = tool_headers(staffed, PATH, body)
    commits = _Commits(staffed)
    try:
        answer = client.post(PATH, content=body, headers=headers)
    finally:
        commits.close()
    assert answer.status_code == 200, answer.text
    # The nonce and the reading in one durable commit (two before: the nonce had its own).
    assert commits.count == 1
    assert headers[HEADER_NONCE] in _nonces(staffed)
    assert _recorded(staffed) == [D1]


def test_a_replay_is_refused_and_changes_nothing(staffed: Staffed, client: TestClient) -> None:
    body = _reading(staffed, D1)
    headers = tool_headers(staffed, PATH, body)
    assert client.post(PATH, content=body, headers=headers).status_code == 200
    size = staffed.ledger_size()
    again = client.post(PATH, content=body, headers=headers)
    assert again.status_code == 401
    assert "replay" in again.json()["detail"]
    assert _recorded(staffed) == [D1]
    # Only the refusal is added: it counts against the tool (auth.refused).
    assert staffed.ledger_size() == size + 1
    assert "replay" in staffed.entries("auth.refused")[-1].data["reason"]


def test_a_refused_request_keeps_its_nonce_used(staffed: Staffed, client: TestClient) -> None:
    # A signed request the step refuses (the reading does not parse): nothing is recorded of
    # the step, but its nonce is used, in the transaction that refused it.
    body = json.dumps({"reading": "not a signed reading"}).encode()
    headers = tool_headers(staffed, PATH, body)
    refused = client.post(PATH, content=body, headers=headers)
    assert refused.status_code in (400, 422), refused.text
    assert headers[HEADER_NONCE] in _nonces(staffed)
    # The same request again is a replay, not a second try.
    again = client.post(PATH, content=body, headers=headers)
    assert again.status_code == 401
    assert "replay" in again.json()["detail"]


def test_a_used_nonce_stops_a_good_request_before_it_acts(
    staffed: Staffed, client: TestClient
) -> None:
    refused = json.dumps({"reading": "not a signed reading"}).encode()
    used = tool_headers(staffed, PATH, refused)
    assert client.post(PATH, content=refused, headers=used).status_code in (400, 422)
    # A reading that would be recorded, signed with the nonce just used: the claim comes
    # first in the transaction, so the step never runs.
    good = _reading(staffed, D2)
    headers = tool_headers(staffed, PATH, good, nonce=used[HEADER_NONCE])
    answer = client.post(PATH, content=good, headers=headers)
    assert answer.status_code == 401
    assert "replay" in answer.json()["detail"]
    assert _recorded(staffed) == []
    # With a nonce of its own it is recorded.
    fresh = client.post(PATH, content=good, headers=tool_headers(staffed, PATH, good))
    assert fresh.status_code == 200, fresh.text
    assert _recorded(staffed) == [D2]


def test_the_first_write_step_runs_once_and_is_kept_alone(staffed: Staffed) -> None:
    ran: list[int] = []

    def step(uow: UnitOfWork) -> None:
        ran.append(1)
        assert uow.tools.use_agent_nonce("BENCH-1", "a" * 32)

    factory = staffed.app.uow.first_write(step)
    with factory(write=False):
        pass
    assert ran == []  # a read does not take it
    size = staffed.ledger_size()
    with pytest.raises(RuntimeError), factory(write=True) as uow:
        # The step has run by now; what follows is rolled back.
        uow.tools.use_agent_nonce("BENCH-1", "b" * 32)
        raise RuntimeError("the step after the claim fails")
    assert ran == [1]
    assert {"a" * 32, "b" * 32} & _nonces(staffed) == {"a" * 32}
    assert staffed.ledger_size() == size
    with factory(write=True) as uow:  # the step is not run again
        uow.commit()
    assert ran == [1]

    def failing(uow: UnitOfWork) -> None:
        uow.tools.use_agent_nonce("BENCH-1", "c" * 32)
        raise RuntimeError("the step itself fails")

    with (
        pytest.raises(RuntimeError, match="itself"),
        staffed.app.uow.first_write(failing)(write=True),
    ):
        pass
    assert "c" * 32 not in _nonces(staffed)
