"""Issue 21: the facility gathers cosignatures from two real witnesses (`triage witness`, served
over HTTP on loopback ports) on both databases: its checkpoint cosigned by both and published
with them, a receipt that verifies with the policy and nothing kept, a witness down (gathered
from the other, below quorum, one alert), and a history rewritten and re-signed with the
facility's key refused by both witnesses and never published as cosigned."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from tests.integration.conftest import Staffed
from tests.integration.ledger_rows import append_test_entries
from tests.integration.test_rewritten_history import rewrite_entry_50
from tests.people import enrol
from triage import bootstrap
from triage.adapters.tables import ledger_checkpoint, ledger_cosignature
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.entrypoints.cli import app as cli
from triage.entrypoints.scheduler import witness_round
from triage.ledger.checkpoint import Checkpoint, sign_checkpoint
from triage.ledger.errors import VerificationError
from triage.ledger.policy import Policy, check_quorum, parse_policy, verify_checkpoint
from triage.ledger.receipt import verify_receipt
from triage.services import history, ledger, witnessing
from triage.witness.app import create_app as create_witness

DEVICE = "BC-33-AC-FF-FE-FA-55-3D"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str] | None = None) -> str:
    run = CliRunner().invoke(cli, list(args), env=env)
    assert run.exit_code == 0, run.output
    return run.stdout


@dataclass
class Witness:
    """A witness of its own directory and key, following the facility's log, served on a
    loopback port by uvicorn in a thread of this process."""

    name: str
    vkey: str
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def _witness(directory: Path, name: str, app: bootstrap.App) -> Witness:
    vkey = _cli("witness", "keygen", name, "--dir", str(directory)).strip()
    _cli("witness", "log", "add", app.origin, app.verifier_key(), "--dir", str(directory))
    port = _free_port()
    config = uvicorn.Config(
        create_witness(directory), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"witness-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the witness did not start"
        time.sleep(0.02)
    return Witness(name, vkey, f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture
def witnesses(app: bootstrap.App, tmp_path: Path) -> Iterator[tuple[Witness, Witness]]:
    a = _witness(tmp_path / "witness-a", "witness-a.example.org/w", app)
    b = _witness(tmp_path / "witness-b", "witness-b.example.org/w", app)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def _policy_text(a: Witness, b: Witness, b_url: str | None = None) -> str:
    return (
        f"witness A {a.vkey} {a.url}\n"
        f"witness B {b.vkey} {b_url or b.url}\n"
        "group both all A B\n"
        "quorum both\n"
    )


def _set_policy(staffed: Staffed, policy_text: str, alert_after: int = 60) -> Policy:
    app = staffed.app
    found = witnessing.set_policy(
        app.uow, staffed.admin, policy_text, app.verifier_key(), alert_after_minutes=alert_after
    )
    return found.policy


def _size(app: bootstrap.App) -> int:
    return ledger.status(app.uow, ledger.LEDGER_ACTOR).size


def _published(app: bootstrap.App) -> str:
    with app.uow(write=False) as uow:
        found = witnessing.published_checkpoint(uow)
    assert found is not None
    return found


def _gather(app: bootstrap.App) -> dict[str, witnessing.WitnessOutcome]:
    outcomes = witnessing.gather(app.uow, ledger.LEDGER_ACTOR, app.uow.witness_client(), app.origin)
    return {o.witness: o for o in outcomes}


def _quorum_alerts(app: bootstrap.App) -> list[str]:
    with app.uow(write=False) as uow:
        alerts, _ = uow.security.alerts(None, 0, 500)
    return [a.id for a in alerts if a.metric == witnessing.QUORUM_METRIC]


def test_both_witnesses_cosign_and_a_receipt_verifies_with_the_policy_alone(
    staffed: Staffed, witnesses: tuple[Witness, Witness]
) -> None:
    app = staffed.app
    a, b = witnesses
    policy = _set_policy(staffed, _policy_text(a, b))
    staffed.manifest("C-1", [DEVICE])
    staffed.receive(DEVICE)
    stored = ledger.issue_checkpoint(app.uow, ledger.LEDGER_ACTOR, app.origin, app.signer_key())

    outcomes = witness_round(app)  # the server's periodic round

    assert [(o.witness, o.outcome) for o in outcomes] == [("A", "cosigned"), ("B", "cosigned")]
    published = _published(app)
    witnessed = verify_checkpoint(published, policy, app.origin)
    assert (witnessed.checkpoint.size, witnessed.witnesses) == (stored.size, ("A", "B"))
    with app.database.engine.connect() as conn:
        rows = conn.execute(
            select(func.count())
            .select_from(ledger_cosignature)
            .where(ledger_cosignature.c.size == stored.size)
        ).scalar_one()
    assert rows == 2

    # A receipt proven against it verifies with the policy and no checkpoint kept by the
    # reader (no verifier key given either: the policy's log line is the facility's).
    receipt = history.device_receipt(app.uow, staffed.auditor, DEVICE, app.origin, app.signer_key())
    verified = verify_receipt(receipt, [], policy=parse_policy(policy.text))
    assert verified.witnesses == ("A", "B")
    assert verified.checkpoint.size == stored.size
    assert {e.subject.id for _, e in verified.entries} == {DEVICE}

    # The next checkpoint is cosigned from the size each witness holds (a consistency proof).
    append_test_entries(app, 40)
    grown = ledger.issue_checkpoint(app.uow, ledger.LEDGER_ACTOR, app.origin, app.signer_key())
    assert {o.outcome for o in _gather(app).values()} == {"cosigned"}
    assert verify_checkpoint(_published(app), policy).checkpoint.size == grown.size
    shown = witnessing.status(app.uow, staffed.auditor)
    assert shown.quorum_met and all(w.cosigned_latest for w in shown.witnesses)


def test_a_witness_that_is_down_leaves_the_checkpoint_below_quorum_with_one_alert(
    staffed: Staffed, witnesses: tuple[Witness, Witness]
) -> None:
    app = staffed.app
    a, b = witnesses
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    policy = _set_policy(staffed, _policy_text(a, b, b_url=closed), alert_after=60)
    stored = ledger.issue_checkpoint(app.uow, ledger.LEDGER_ACTOR, app.origin, app.signer_key())

    outcomes = _gather(app)

    assert outcomes["A"].outcome == witnessing.COSIGNED
    assert outcomes["B"].outcome == witnessing.UNREACHABLE
    assert closed in outcomes["B"].detail
    witnessed = check_quorum(_published(app), policy)
    assert (witnessed.witnesses, witnessed.quorum_met) == (("A",), False)

    now = datetime.now(UTC)
    assert witnessing.sweep_quorum(app.uow, now + timedelta(minutes=30)) is None
    alert = witnessing.sweep_quorum(app.uow, now + timedelta(minutes=61))
    assert alert is not None
    assert witnessing.sweep_quorum(app.uow, now + timedelta(minutes=62)) is None
    assert _quorum_alerts(app) == [alert]
    with app.uow(write=False) as uow:
        found = uow.security.alert(alert)
    assert found is not None and found.subject_kind == "ledger"
    detail = json.dumps(found.to_json())
    assert f"size {stored.size}" in detail and "B: unreachable" in detail


def _store_forged_checkpoint(app: bootstrap.App) -> int:
    """As an intruder holding the database and the facility's key: entry 50 rewritten (tiles
    and head rebuilt to match), more entries appended, and a checkpoint of that history signed
    with the facility's key stored directly in ``ledger_checkpoint``."""
    with app.database.engine.begin() as conn:
        if app.database.dialect == "sqlite":
            conn.execute(text("PRAGMA foreign_keys = OFF"))
        rewrite_entry_50(conn)
    append_test_entries(app, 10)
    with app.uow(write=False) as uow:
        head = uow.ledger.log.head()
    forged = sign_checkpoint(Checkpoint(app.origin, head.size, head.root), app.signer_key())
    with app.database.engine.begin() as conn:
        conn.execute(
            insert(ledger_checkpoint).values(
                log_id=app.facility.id, size=head.size, note=forged, issued_at=datetime.now(UTC)
            )
        )
    return head.size


def test_a_rewritten_history_re_signed_with_the_key_is_refused_by_both_witnesses(
    staffed: Staffed, witnesses: tuple[Witness, Witness]
) -> None:
    app = staffed.app
    a, b = witnesses
    policy = _set_policy(staffed, _policy_text(a, b), alert_after=5)
    append_test_entries(app, 120 - _size(app))
    honest = ledger.issue_checkpoint(app.uow, ledger.LEDGER_ACTOR, app.origin, app.signer_key())
    assert {o.outcome for o in _gather(app).values()} == {"cosigned"}

    forged_size = _store_forged_checkpoint(app)

    outcomes = _gather(app)
    assert {o.outcome for o in outcomes.values()} == {witnessing.INCONSISTENT}
    assert all("422" in o.detail for o in outcomes.values())
    with app.uow(write=False) as uow:
        latest = uow.ledger.log.latest_checkpoint()
        assert latest is not None and latest.size == forged_size > honest.size
        assert uow.cosignatures.for_size(forged_size) == []
    # Never published with a cosignature; the honest one still carries both.
    assert _published(app) == latest.note
    with pytest.raises(VerificationError, match="not cosigned by a quorum"):
        verify_checkpoint(_published(app), policy)
    assert _gather(app)["A"].outcome == witnessing.INCONSISTENT  # not asked again
    alert = witnessing.sweep_quorum(app.uow, datetime.now(UTC) + timedelta(minutes=6))
    assert alert is not None and _quorum_alerts(app) == [alert]


def test_the_command_line_and_the_api_set_show_and_gather(
    staffed: Staffed, witnesses: tuple[Witness, Witness], tmp_path: Path
) -> None:
    app = staffed.app
    a, b = witnesses
    admin = enrol(app, staffed.admin, "adele", [Role.ADMINISTRATOR]).token
    verity = enrol(app, staffed.admin, "verity", [Role.AUDITOR])
    auditor = verity.token
    env = {
        "TRIAGE_DATA_DIR": str(app.settings.data_dir),
        "TRIAGE_DATABASE_URL": app.settings.database_url,
    }
    policy_file = tmp_path / "witnesses.policy"
    policy_file.write_text(f"witness A {a.vkey} {a.url}\nquorum A\n")
    set_out = json.loads(
        _cli(
            "ledger", "witnesses", "set", str(policy_file), "--alert-after", "15", "--json",
            env={**env, "TRIAGE_TOKEN": admin},
        )
    )  # fmt: skip
    assert set_out["alert_after_minutes"] == 15
    # The verifier's policy: the facility's log line first, then the typed lines.
    verifier_policy = _cli("ledger", "witnesses", "policy", env={**env, "TRIAGE_TOKEN": auditor})
    assert verifier_policy == f"log {app.verifier_key()}\n{policy_file.read_text()}"

    checkpoint = json.loads(
        _cli("ledger", "checkpoint", "--json", env={**env, "TRIAGE_TOKEN": admin})
    )
    assert [w["outcome"] for w in checkpoint["witnesses"]] == ["cosigned"]
    assert verify_checkpoint(checkpoint["checkpoint"], parse_policy(verifier_policy)).witnesses

    shown = json.loads(
        _cli("ledger", "witnesses", "show", "--json", env={**env, "TRIAGE_TOKEN": auditor})
    )
    assert shown["quorum_met"] is True
    assert shown["witnesses"][0]["last_cosigned_size"] == checkpoint["size"]

    with TestClient(create_app(app)) as client:
        as_admin = {"Authorization": f"Bearer {admin}"}
        as_auditor = {"Authorization": f"Bearer {auditor}"}
        both = {"policy": _policy_text(a, b), "alert_after_minutes": 30}
        bad = client.put("/api/v1/ledger/witness-policy", headers=as_admin, json={"policy": "x"})
        assert bad.status_code == 422 and "line 1" in bad.text, bad.text
        put = client.put("/api/v1/ledger/witness-policy", headers=as_admin, json=both)
        assert put.status_code == 200, put.text
        got = client.get("/api/v1/ledger/witness-policy", headers=as_auditor).json()
        assert got["policy"] == f"log {app.verifier_key()}\n{_policy_text(a, b)}"
        assert got["alert_after_minutes"] == 30
        before = client.get("/api/v1/ledger/witnesses", headers=as_auditor).json()
        assert before["quorum_met"] is False  # B has not cosigned yet
        gathered = client.post("/api/v1/ledger/witnesses/gather", headers=as_admin)
        assert gathered.status_code == 200, gathered.text
        assert [o["outcome"] for o in gathered.json()["outcomes"]] == [
            "already cosigned",
            "cosigned",
        ]
        assert gathered.json()["quorum_met"] is True

        # The auditor's page shows the witnesses, their last outcomes and the quorum.
        signed = client.post(
            "/login",
            data={
                "operator_id": "verity",
                "password": verity.password,
                "second_factor": verity.recovery_codes.pop(),
                "bench": "",
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        client.cookies.set("triage_session", signed.cookies["triage_session"])
        page = client.get("/auditor")
    assert page.status_code == 200, page.text
    section = page.text[page.text.index('id="witnesses"') :].split("</section>")[0]
    assert "Quorum met" in section
    assert "cosigned by A, B: met" in section
    assert section.count("<tr><td>") == 2 and a.url in section and b.url in section
    assert "cosigned (" in section  # each witness's last outcome
