"""Tokens, benches and separation of duties, on both databases; and an attacker who has the
database file but not the facility key."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from tests.integration.conftest import CLEAN, Staffed, move_clock
from tests.people import enrol
from triage.adapters.devices.simulated import SimulatedFleet
from triage.adapters.tables import work_order
from triage.domain.roles import MATRIX, Permission, Role
from triage.domain.work_order import FACTORY_RESET, WorkOrder, WorkOrderRefused
from triage.errors import Conflict, InvalidInput, PermissionDenied, Unauthenticated
from triage.ledger import note
from triage.services import (
    bench_assignment,
    intake,
    job_steps,
    operators,
    reinstatement,
    tokens,
    tools,
)

DEVICE = "BC-33-AC-FF-FE-FA-55-3D"


def test_a_token_works_within_its_scopes_and_until_it_expires_or_is_revoked(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow = staffed.app.uow
    sup = enrol(
        staffed.app, staffed.admin, "sup", scopes=frozenset({Permission.TRIAGE_READ}), days=1
    )
    caller = tokens.authenticate_token(uow, sup.token)
    assert caller.id == "sup" and caller.can(Permission.TRIAGE_READ)
    with pytest.raises(PermissionDenied, match=r"not scoped for device.scan"):
        intake.scan_device(uow, caller, DEVICE)
    # A scoped token cannot mint a wider one.
    with pytest.raises(PermissionDenied, match="wider scopes"):
        tokens.issue_token(uow, caller, "sup", "wider", scopes=frozenset(MATRIX[Role.SUPERVISOR]))
    # Nor may a token go beyond the operator's roles, or the facility's longest.
    ben = tokens.authenticate_token(uow, enrol(staffed.app, staffed.admin, "ben").token)
    with pytest.raises(InvalidInput, match=r"do not allow operator.manage"):
        tokens.issue_token(uow, ben, "ben", scopes=frozenset({Permission.OPERATOR_MANAGE}))
    with pytest.raises(InvalidInput, match=r"1 to 30 days \(the facility's maximum\), not 31"):
        tokens.issue_token(uow, ben, "ben", days=31, max_days=30)

    move_clock(monkeypatch, staffed.app, datetime.now(UTC) + timedelta(days=1, seconds=1))
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.authenticate_token(uow, sup.token)

    monkeypatch.undo()
    other = tokens.issue_token(uow, ben, "ben", "tablet")
    # Another bench operator may not revoke it; its owner may.
    with pytest.raises(PermissionDenied):
        tokens.revoke_token(uow, staffed.sup, other.token_id, "not theirs to revoke")
    tokens.revoke_token(uow, staffed.ben, other.token_id, "tablet lost")
    with pytest.raises(Unauthenticated, match="revoked"):
        tokens.authenticate_token(uow, other.secret)
    issued = staffed.entries("operator.token_issued")
    revoked = staffed.entries("operator.token_revoked")
    assert [e.data["token_id"] for e in revoked] == [other.token_id]
    assert revoked[0].data["reason"] == "tablet lost"
    # The ledger never holds a token's secret.
    for entry in issued + revoked:
        text = entry.to_bytes().decode()
        assert sup.token not in text and other.secret not in text
        assert other.secret.split("_", 2)[2] not in text  # the random part (may itself hold "_")


def test_an_auditor_can_get_a_read_only_token(staffed: Staffed) -> None:
    uow = staffed.app.uow
    from triage.domain.token import parse_scopes

    audrey = enrol(staffed.app, staffed.admin, "audrey", scopes=parse_scopes(["read-only"]))
    caller = tokens.authenticate_token(uow, audrey.token)
    assert caller.can(Permission.LEDGER_READ) and caller.can(Permission.ACCESS_REVIEW)
    assert not any(caller.can(p) for p in Permission if p.value.endswith(".manage"))


def test_work_orders_only_for_an_operator_signed_in_at_the_tools_bench(staffed: Staffed) -> None:
    staffed.manifest("C-1", [DEVICE])
    job = staffed.receive(DEVICE)
    uow, key = staffed.app.uow, staffed.app.signer_key()
    nowhere = dataclasses.replace(staffed.ben, bench=None)
    with pytest.raises(PermissionDenied, match="signed in at no bench"):
        job_steps.authorise_reset(uow, nowhere, job.id, "BENCH-1", key)
    elsewhere = dataclasses.replace(staffed.ben, bench="B7")
    with pytest.raises(PermissionDenied, match="operator ben is not assigned to bench B7"):
        job_steps.authorise_reset(uow, elsewhere, job.id, "BENCH-1", key)
    # At a bench of theirs, but not the tool's.
    bench_assignment.assign_benches(uow, staffed.admin, "ben", ["B1", "B7"], "second bench")
    with pytest.raises(PermissionDenied, match=r"at bench B7.*its bench, B1"):
        job_steps.authorise_reset(uow, elsewhere, job.id, "BENCH-1", key)
    refused = staffed.entries("auth.refused")
    assert [(e.actor.id, e.subject.id) for e in refused] == [("ben", "ben")] * 3
    assert "its bench, B1" in refused[-1].data["reason"]
    # A token issued for bench B1 carries the bench.
    tablet = enrol(staffed.app, staffed.admin, "ben", bench="B1", label="bench tablet")
    at_bench = tokens.authenticate_token(uow, tablet.token)
    signed = job_steps.authorise_reset(uow, at_bench, job.id, "BENCH-1", key)
    assert WorkOrder.open(signed, staffed.app.verifier_key()).operator_id == "ben"


def test_a_suspended_or_retired_tool_gets_no_work_and_its_requests_are_refused(
    staffed: Staffed,
) -> None:
    staffed.manifest("C-1", [DEVICE])
    job = staffed.receive(DEVICE)
    uow, key = staffed.app.uow, staffed.app.signer_key()
    with pytest.raises(InvalidInput, match="reason"):
        tools.suspend_tool(uow, staffed.admin, "BENCH-1", " ")
    tools.suspend_tool(uow, staffed.admin, "BENCH-1", "seal on the casing broken")
    with pytest.raises(Conflict, match="suspended"):
        job_steps.authorise_reset(uow, staffed.ben, job.id, "BENCH-1", key)
    with pytest.raises(PermissionDenied, match="not an active enrolled tool"):
        job_steps.work_orders_for_tool(uow, staffed.tool)
    # Only a security manager reinstates; an administrator may not.
    with pytest.raises(PermissionDenied, match=r"suspension.reinstate"):
        reinstatement.reinstate_tool(uow, staffed.admin, "BENCH-1", "checked and resealed")
    operators.create_operator(uow, staffed.admin, "sam", "Sam", frozenset({Role.SECURITY_MANAGER}))
    sam = operators.operator_caller(uow, "sam")
    reinstatement.reinstate_tool(uow, sam, "BENCH-1", "casing replaced, seal refitted")
    assert job_steps.work_orders_for_tool(uow, staffed.tool) == []
    tools.retire_tool(uow, staffed.admin, "BENCH-1", "end of life")
    with pytest.raises(Conflict, match="retired"):
        reinstatement.reinstate_tool(uow, sam, "BENCH-1", "retired by mistake")
    kinds = [e.type for e in staffed.entries("tool.suspended")]
    kinds += [e.type for e in staffed.entries("tool.reinstated")]
    kinds += [e.type for e in staffed.entries("tool.retired")]
    assert kinds == ["tool.suspended", "tool.reinstated", "tool.retired"]


def test_separation_of_duties(staffed: Staffed) -> None:
    uow = staffed.app.uow
    # The matrix: a security manager runs no triage; an auditor changes nothing; nobody has a
    # permission that edits or deletes ledger entries.
    triage_work = {
        Permission.DEVICE_SCAN,
        Permission.DEVICE_INSPECT,
        Permission.RESET_REQUEST,
        Permission.DEVICE_SEAL,
        Permission.DEVICE_RELEASE,
        Permission.DECISION_OVERRIDE,
    }
    assert not MATRIX[Role.SECURITY_MANAGER] & triage_work
    assert not MATRIX[Role.ADMINISTRATOR] & triage_work
    assert all(".manage" not in p.value for p in MATRIX[Role.AUDITOR])
    assert not [
        p
        for p in Permission
        if p.value.startswith("ledger.") and p.value not in ("ledger.read", "ledger.checkpoint")
    ]
    operators.create_operator(uow, staffed.admin, "sam", "Sam", frozenset({Role.SECURITY_MANAGER}))
    sam = dataclasses.replace(operators.operator_caller(uow, "sam"), bench="B1")
    with pytest.raises(PermissionDenied, match=r"may not device.scan"):
        intake.scan_device(uow, sam, DEVICE)

    # The inspector cannot approve an override of their own decision, even as a supervisor.
    staffed.manifest("C-1", [DEVICE])
    scanned = intake.scan_device(uow, staffed.sup, DEVICE)
    assert scanned.job is not None
    staffed.record_log(scanned.job.id)
    decision = job_steps.inspect(
        uow, staffed.sup, scanned.job.id, {**CLEAN, "outer_covers_opened": ["terminal"]}
    )
    assert decision.outcome.value == "supervisor_review"
    with pytest.raises(PermissionDenied, match="separation of duties"):
        job_steps.override(uow, staffed.sup, scanned.job.id, "eligible", "paperwork seen, J-1")

    # An administrator cannot give themself more roles.
    with pytest.raises(PermissionDenied, match="own roles"):
        operators.change_roles(uow, staffed.admin, "admin", frozenset(Role))
    operators.change_roles(uow, staffed.admin, "ben", frozenset({Role.STORES}))
    changed = staffed.entries("operator.roles_changed")
    assert changed[-1].data == {"roles": ["stores"], "previous": ["bench_operator"]}


def test_the_database_file_without_the_facility_key_cannot_make_a_work_order(
    staffed: Staffed,
) -> None:
    """An attacker who can write the database (but has not the facility's private key) plants a
    work order for the tool; the bench refuses it, whatever its fields say."""
    staffed.manifest("C-1", [DEVICE])
    job = staffed.receive(DEVICE)
    # A key with the facility's own name, made by the attacker.
    name = note.parse_verifier_key(staffed.app.verifier_key()).name
    forged_key, _ = note.generate_key(name)
    now = datetime.now(UTC)
    order = WorkOrder(
        id=str(uuid.uuid4()),
        facility=staffed.app.facility.id,
        tool_id="BENCH-1",
        device_id=DEVICE,
        job_id=job.id,
        operator_id="ben",
        action=FACTORY_RESET,
        profile="esme-default@1",
        nonce=uuid.uuid4().hex,
        issued_at=now,
        expires_at=now + timedelta(minutes=10),
    )
    forged = order.sign(forged_key)
    with staffed.app.database.engine.begin() as conn:
        conn.execute(
            insert(work_order).values(
                id=order.id,
                job_id=job.id,
                tool_id="BENCH-1",
                device_id=DEVICE,
                operator_id="ben",
                nonce=order.nonce,
                profile=order.profile,
                signed=forged,
                status="issued",
                issued_at=now,
                expires_at=order.expires_at,
            )
        )
    offered = job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool)
    assert forged in offered  # the server hands out what the database holds...
    with pytest.raises(WorkOrderRefused, match="not signed by the facility"):
        WorkOrder.open(forged, staffed.app.verifier_key())  # ...the agent checks it first
    device = staffed.connector.attach(DEVICE)
    before = json.dumps(SimulatedFleet(staffed.fleet_path).snapshot(), sort_keys=True)
    with pytest.raises(WorkOrderRefused, match="not signed by the facility"):
        device.factory_reset(forged)
    assert json.dumps(SimulatedFleet(staffed.fleet_path).snapshot(), sort_keys=True) == before
    # Re-signing a genuine order's edited text does not help either.
    genuine = job_steps.authorise_reset(
        staffed.app.uow, staffed.ben, job.id, "BENCH-1", staffed.app.signer_key()
    )
    edited = genuine.replace(DEVICE, "00-00-00-00-00-00-00-01")
    with pytest.raises(WorkOrderRefused):
        device.factory_reset(edited)
