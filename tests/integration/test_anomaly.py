"""Anomaly thresholds: each one trips, suspends and alerts; only a security manager reinstates."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import CLEAN, Staffed
from tests.people import enrol
from triage.adapters.devices.simulated import SimulatedFleet
from triage.adapters.replay import replay_check
from triage.domain.agent_request import request_message
from triage.domain.caller import Caller
from triage.domain.device import Device
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.domain.thresholds import DAYS
from triage.domain.tool import ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import Entry, format_time
from triage.services import (
    agent_auth,
    anomaly,
    intake,
    job_steps,
    operators,
    reinstatement,
    tokens,
    tools,
)
from triage.services.common import device_ref, make_entry

DEVICES = [f"BC-33-AC-FF-FE-FA-66-0{i}" for i in range(1, 6)]
TOOL = "BENCH-1"


@pytest.fixture
def sam(staffed: Staffed) -> Caller:
    """A security manager."""
    operators.create_operator(
        staffed.app.uow,
        Caller.system("test"),
        "sam",
        "Sam Security",
        frozenset({Role.SECURITY_MANAGER}),
    )
    return operators.operator_caller(staffed.app.uow, "sam")


def _entries(staffed: Staffed, kind: str, subject_id: str) -> list[Entry]:
    with staffed.app.uow(write=False) as uow:
        log = uow.ledger.log
        return [Entry.from_bytes(log.entry(i)) for i in uow.ledger.indexes_for(kind, subject_id)]


def _types(staffed: Staffed, kind: str, subject_id: str) -> list[str]:
    return [e.type for e in _entries(staffed, kind, subject_id)]


def _tool_status(staffed: Staffed) -> ToolStatus:
    with staffed.app.uow(write=False) as uow:
        found = uow.tools.get(TOOL)
    assert found is not None
    return found.status


def _operator_suspended(staffed: Staffed, operator_id: str) -> bool:
    with staffed.app.uow(write=False) as uow:
        found = uow.operators.get(operator_id)
    assert found is not None
    return found.suspended


def _eligible_jobs(staffed: Staffed, count: int) -> list[str]:
    staffed.manifest("C-1", DEVICES[:count])
    return [staffed.receive(d).id for d in DEVICES[:count]]


def _issue(staffed: Staffed, job_id: str, caller: Caller | None = None) -> str:
    return job_steps.authorise_reset(
        staffed.app.uow, caller or staffed.ben, job_id, TOOL, staffed.app.signer_key()
    )


def _open_alerts(staffed: Staffed, sam: Caller) -> list[dict[str, object]]:
    found, total = anomaly.alerts(staffed.app.uow, sam, "open")
    assert total == len(found)
    return [a.to_json() for a in found]


def _assert_replay_agrees(staffed: Staffed) -> None:
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []


def _device_entries(staffed: Staffed, device: str, entry_type: str) -> list[Entry]:
    return [e for e in _entries(staffed, "device", device) if e.type == entry_type]


def test_a_work_order_beyond_the_tools_reset_limit_is_refused_and_suspends_the_tool(
    staffed: Staffed, sam: Caller
) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "tool", TOOL, "resets", 2, 60)
    jobs = _eligible_jobs(staffed, 4)
    _issue(staffed, jobs[0])
    _issue(staffed, jobs[1])
    assert _tool_status(staffed) is ToolStatus.ACTIVE
    assert _open_alerts(staffed, sam) == []

    # The third within the hour would be one more than allowed: refused, naming the limit.
    limit = "tool BENCH-1 may do 2 resets an hour; this would be the 3rd"
    with pytest.raises(anomaly.ThresholdReached, match=limit):
        _issue(staffed, jobs[2])

    # No order exists for it; the refusal is on the device's record.
    assert staffed.job(jobs[2]).state is JobState.ELIGIBLE
    assert _device_entries(staffed, DEVICES[2], "reset.authorised") == []
    [refused] = _device_entries(staffed, DEVICES[2], "work_order.refused")
    assert refused.actor.id == "ben" and limit in refused.data["reason"]
    # Trying is an anomaly: the tool is suspended and one alert names it and the limit.
    assert _tool_status(staffed) is ToolStatus.SUSPENDED
    [alert] = _open_alerts(staffed, sam)
    assert alert["metric"] == "resets"
    assert alert["subject"] == {"kind": "tool", "id": TOOL}
    assert alert["detail"] == {
        "count": 3,
        "max_count": 2,
        "window_minutes": 60,
        "action": "suspended",
        "detail": f"work order refused: {limit}",
    }
    story = _entries(staffed, "tool", TOOL)
    assert [e.type for e in story][-2:] == ["alert.raised", "tool.suspended"]
    assert story[-1].actor.id == "anomaly" and story[-1].actor.kind == "system"
    assert str(alert["id"]) in story[-1].data["reason"]
    # The operator stays within their own (default) limit.
    assert not _operator_suspended(staffed, "ben")

    # A suspended tool is given no work and its agent is not heard.
    with pytest.raises(Conflict, match="suspended"):
        _issue(staffed, jobs[3])
    with pytest.raises(PermissionDenied):
        job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool)
    with pytest.raises(Unauthenticated, match="suspended"):
        agent_auth.authenticate_tool(
            staffed.app.uow, TOOL, "GET", "/api/v1/agent/work-orders", "", "0" * 32, "", b""
        )
    # More refusals of a suspended tool do not suspend it again or raise another alert.
    assert _types(staffed, "tool", TOOL).count("tool.suspended") == 1
    assert len(_open_alerts(staffed, sam)) == 1
    _assert_replay_agrees(staffed)


def test_orders_outstanding_when_their_tool_is_suspended_are_withdrawn_for_good(
    staffed: Staffed, sam: Caller
) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "tool", TOOL, "resets", 2, 60)
    jobs = _eligible_jobs(staffed, 3)
    first = _issue(staffed, jobs[0])
    _issue(staffed, jobs[1])
    with pytest.raises(anomaly.ThresholdReached):
        _issue(staffed, jobs[2])

    # Each outstanding order is withdrawn on the record, and gives back its attempt.
    for job_id, device in zip(jobs[:2], DEVICES, strict=False):
        [withdrawn] = _device_entries(staffed, device, "work_order.withdrawn")
        assert withdrawn.actor.id == "anomaly"
        assert withdrawn.data["tool_id"] == TOOL and withdrawn.data["job_id"] == job_id
        assert withdrawn.data["reason"].startswith("tool BENCH-1 was suspended: anomaly:")
        job = staffed.job(job_id)
        assert (job.state, job.reset_attempts) == (JobState.RESET_AUTHORISED, 0)

    # Once reinstated, the tool is given none of them, and a result for one is refused.
    reinstatement.reinstate_tool(staffed.app.uow, sam, TOOL, "a batch of 40 was agreed")
    assert job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool) == []
    with pytest.raises(InvalidInput, match="is withdrawn"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, staffed.carry_out(first))
    assert staffed.job(jobs[0]).state is JobState.RESET_AUTHORISED
    # The bench gives the device a new order (its first attempt), which is carried out.
    assert staffed.reset(jobs[1]).state is JobState.VERIFIED
    assert staffed.job(jobs[1]).reset_attempts == 1
    _assert_replay_agrees(staffed)


def test_a_tool_suspended_by_hand_or_retired_has_its_orders_withdrawn(
    staffed: Staffed, sam: Caller
) -> None:
    jobs = _eligible_jobs(staffed, 1)
    _issue(staffed, jobs[0])

    tools.suspend_tool(staffed.app.uow, staffed.admin, TOOL, "its case was found opened")

    [withdrawn] = _device_entries(staffed, DEVICES[0], "work_order.withdrawn")
    assert withdrawn.actor.id == "admin"
    assert withdrawn.data["reason"] == "tool BENCH-1 was suspended: its case was found opened"
    assert _types(staffed, "tool", TOOL)[-1] == "tool.suspended"
    reinstatement.reinstate_tool(staffed.app.uow, sam, TOOL, "the case was resealed")
    assert job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool) == []

    # A new order, then the tool retired: withdrawn as well.
    _issue(staffed, jobs[0])
    tools.retire_tool(staffed.app.uow, staffed.admin, TOOL, "replaced by a new tool")
    reasons = [
        w.data["reason"] for w in _device_entries(staffed, DEVICES[0], "work_order.withdrawn")
    ]
    assert reasons[-1] == "tool BENCH-1 was retired: replaced by a new tool"
    with staffed.app.uow(write=False) as uow:
        assert uow.work_orders.outstanding(tool_id=TOOL) == []
    _assert_replay_agrees(staffed)


def test_resets_per_operator_suspend_the_operator_until_a_security_manager_reinstates(
    staffed: Staffed, sam: Caller
) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "operator", "ben", "resets", 1, 60)
    issued = enrol(staffed.app, staffed.admin, "ben", bench="B1")
    jobs = _eligible_jobs(staffed, 3)
    _issue(staffed, jobs[0])
    limit = "operator ben may do 1 reset an hour; this would be the 2nd"
    with pytest.raises(anomaly.ThresholdReached, match=limit):
        _issue(staffed, jobs[1])

    assert _operator_suspended(staffed, "ben")
    assert _tool_status(staffed) is ToolStatus.ACTIVE
    [alert] = _open_alerts(staffed, sam)
    assert alert["subject"] == {"kind": "operator", "id": "ben"}
    assert _types(staffed, "operator", "ben")[-2:] == ["alert.raised", "operator.suspended"]
    # The order ben gave before is withdrawn: the tool is not given it.
    [withdrawn] = _device_entries(staffed, DEVICES[0], "work_order.withdrawn")
    assert withdrawn.data["reason"].startswith("operator ben was suspended: anomaly:")
    assert job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool) == []
    with pytest.raises(Unauthenticated, match="suspended"):
        tokens.authenticate_token(staffed.app.uow, issued.token)

    # Only a security manager reinstates, and only with a reason.
    with pytest.raises(PermissionDenied, match=r"suspension\.reinstate"):
        reinstatement.reinstate_operator(
            staffed.app.uow, staffed.admin, "ben", "looked into it fully"
        )
    with pytest.raises(InvalidInput, match="reason"):
        reinstatement.reinstate_operator(staffed.app.uow, sam, "ben", "  ")
    assert _operator_suspended(staffed, "ben")
    reinstatement.reinstate_operator(
        staffed.app.uow, sam, "ben", "batch of 40 meters, agreed with sup"
    )
    assert not _operator_suspended(staffed, "ben")
    reinstated = _entries(staffed, "operator", "ben")[-1]
    assert reinstated.type == "operator.reinstated"
    assert reinstated.actor.id == "sam"
    assert reinstated.data["reason"] == "batch of 40 meters, agreed with sup"
    assert tokens.authenticate_token(staffed.app.uow, issued.token).id == "ben"
    with pytest.raises(Conflict, match="not suspended"):
        reinstatement.reinstate_operator(staffed.app.uow, sam, "ben", "once more for good measure")

    # Work before the reinstatement is not held against the operator again...
    _issue(staffed, jobs[1])
    assert not _operator_suspended(staffed, "ben")
    # ...but a new attempt beyond the limit suspends again.
    with pytest.raises(anomaly.ThresholdReached, match=limit):
        _issue(staffed, jobs[2])
    assert _operator_suspended(staffed, "ben")
    assert _types(staffed, "operator", "ben").count("operator.suspended") == 2

    resolved = anomaly.resolve_alert(staffed.app.uow, sam, str(alert["id"]), "agreed batch work")
    assert resolved.status == "resolved" and resolved.resolved_by == "sam"
    with pytest.raises(Conflict):
        anomaly.resolve_alert(staffed.app.uow, sam, str(alert["id"]), "agreed batch work")
    assert len(_open_alerts(staffed, sam)) == 1
    _assert_replay_agrees(staffed)


def test_refused_commands_trip_and_suspend_the_tool_once(staffed: Staffed, sam: Caller) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "tool", TOOL, "refused_commands", 2, 30)
    job_steps.record_refusal(staffed.app.uow, staffed.tool, "no-such-order", "wrong device")
    # A request that does not verify is anyone's: it does not count against the tool.
    with pytest.raises(Unauthenticated, match="nonce"):
        agent_auth.authenticate_tool(
            staffed.app.uow, TOOL, "POST", "/api/v1/agent/results", "", "bad", "", b""
        )
    # One its key signed, replayed, does.
    signed = _signed_request(staffed)
    agent_auth.authenticate_tool(staffed.app.uow, TOOL, "POST", *signed)
    with pytest.raises(Unauthenticated, match="replay"):
        agent_auth.authenticate_tool(staffed.app.uow, TOOL, "POST", *signed)
    assert _tool_status(staffed) is ToolStatus.ACTIVE

    with pytest.raises(InvalidInput):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, "not a signed result")

    assert _tool_status(staffed) is ToolStatus.SUSPENDED
    [alert] = _open_alerts(staffed, sam)
    assert alert["metric"] == "refused_commands"
    assert alert["detail"]["count"] == 3  # type: ignore[index]
    # Its agent's next requests are refused, it is not suspended twice, and the refusals of a
    # suspended tool are recorded once a minute (the first of them here), not per request.
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="suspended"):
            agent_auth.authenticate_tool(
                staffed.app.uow, TOOL, "POST", "/api/v1/agent/results", "", "0" * 32, "", b""
            )
    types = _types(staffed, "tool", TOOL)
    assert types.count("tool.suspended") == 1
    assert types.count("alert.raised") == 1
    assert types.count("auth.refused") == 2
    _assert_replay_agrees(staffed)


def _signed_request(staffed: Staffed) -> tuple[str, str, str, str, bytes]:
    target, body = "/api/v1/agent/results", b"{}"
    sent, nonce = format_time(datetime.now(UTC)), secrets.token_hex(16)
    signature = note.sign_message(
        request_message("POST", target, sent, nonce, body), staffed.tool_key
    )
    return target, sent, nonce, base64.b64encode(signature).decode(), body


def test_failed_verifications_trip_and_suspend_the_tool(staffed: Staffed, sam: Caller) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "facility", None, "failed_verifications", 1, 60)
    [job_id] = _eligible_jobs(staffed, 1)
    SimulatedFleet(staffed.fleet_path).set_failure(DEVICES[0], half_fail_times=2)
    assert staffed.reset(job_id).state is JobState.VERIFICATION_FAILED
    assert _tool_status(staffed) is ToolStatus.ACTIVE

    assert staffed.reset(job_id).state is JobState.VERIFICATION_FAILED

    assert _tool_status(staffed) is ToolStatus.SUSPENDED
    # The facility value applies to operators too: the one who ordered the resets.
    assert _operator_suspended(staffed, "ben")
    alerts = _open_alerts(staffed, sam)
    assert {(a["metric"], a["subject"]["id"]) for a in alerts} == {  # type: ignore[index]
        ("failed_verifications", TOOL),
        ("failed_verifications", "ben"),
    }
    _assert_replay_agrees(staffed)


def _out_of_hours(staffed: Staffed, sam: Caller) -> None:
    today = datetime.now(UTC).weekday()
    # Neither today nor tomorrow is a working day, so this holds even across midnight.
    days = [d for i, d in enumerate(DAYS) if i not in (today, (today + 1) % 7)]
    anomaly.set_working_hours(staffed.app.uow, sam, "00:00", "23:59", days)


def test_a_work_order_out_of_hours_is_refused_and_suspends_tool_and_operator(
    staffed: Staffed, sam: Caller
) -> None:
    job_id, later_job = _eligible_jobs(staffed, 2)
    _out_of_hours(staffed, sam)

    with pytest.raises(anomaly.ThresholdReached) as refused:
        _issue(staffed, job_id)

    assert str(refused.value).startswith(
        "tool BENCH-1 may be given no work order outside working hours; operator ben may be "
        "given no work order outside working hours. No work order was issued"
    )
    assert _device_entries(staffed, DEVICES[0], "reset.authorised") == []
    assert _device_entries(staffed, DEVICES[0], "anomaly.observed") == []
    assert len(_device_entries(staffed, DEVICES[0], "work_order.refused")) == 1
    assert _tool_status(staffed) is ToolStatus.SUSPENDED
    assert _operator_suspended(staffed, "ben")
    assert {a["metric"] for a in _open_alerts(staffed, sam)} == {"out_of_hours"}
    assert len(_open_alerts(staffed, sam)) == 2

    # Within working hours nothing is observed.
    anomaly.set_working_hours(staffed.app.uow, sam, None, None, None)
    reinstatement.reinstate_tool(staffed.app.uow, sam, TOOL, "night shift was authorised")
    reinstatement.reinstate_operator(staffed.app.uow, sam, "ben", "night shift was authorised")
    assert staffed.reset(later_job).state is JobState.VERIFIED
    assert staffed.reset(job_id).state is JobState.VERIFIED
    assert _tool_status(staffed) is ToolStatus.ACTIVE
    _assert_replay_agrees(staffed)


def test_an_order_allowed_out_of_hours_is_withdrawn_when_its_tool_is_suspended(
    staffed: Staffed, sam: Caller
) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "facility", None, "out_of_hours", 1, 60)
    night_job, second = _eligible_jobs(staffed, 2)
    _out_of_hours(staffed, sam)
    _issue(staffed, night_job)  # the one allowed: counted, and carried out unless withdrawn
    [observed] = _device_entries(staffed, DEVICES[0], "anomaly.observed")
    assert observed.data["metric"] == "out_of_hours"
    assert _tool_status(staffed) is ToolStatus.ACTIVE

    with pytest.raises(anomaly.ThresholdReached, match="this would be the 2nd"):
        _issue(staffed, second)

    [withdrawn] = _device_entries(staffed, DEVICES[0], "work_order.withdrawn")
    assert withdrawn.data["job_id"] == night_job
    reinstatement.reinstate_tool(staffed.app.uow, sam, TOOL, "night shift was authorised")
    reinstatement.reinstate_operator(staffed.app.uow, sam, "ben", "night shift was authorised")
    assert job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool) == []
    _assert_replay_agrees(staffed)


def test_a_limit_lowered_below_what_a_tool_did_holds_once_its_next_order_is_counted(
    staffed: Staffed, sam: Caller
) -> None:
    """The check after a work order's entry counts every metric of a reset, not only those the
    order itself counts in: a tool already beyond a limit lowered since is suspended then."""
    anomaly.set_threshold(staffed.app.uow, sam, "facility", None, "out_of_hours", 1, 60)
    night_job, day_job = _eligible_jobs(staffed, 2)
    _out_of_hours(staffed, sam)
    _issue(staffed, night_job)  # the one allowed
    anomaly.set_working_hours(staffed.app.uow, sam, None, None, None)
    anomaly.set_threshold(staffed.app.uow, sam, "tool", TOOL, "out_of_hours", 0, 60)

    _issue(staffed, day_job)  # in working hours: nothing refuses it, then its check trips

    [issued] = _device_entries(staffed, DEVICES[1], "reset.authorised")
    assert issued.data["tool_id"] == TOOL
    assert _tool_status(staffed) is ToolStatus.SUSPENDED
    assert not _operator_suspended(staffed, "ben")  # one out-of-hours order, as allowed
    [alert] = _open_alerts(staffed, sam)
    assert alert["metric"] == "out_of_hours"
    assert alert["subject"] == {"kind": "tool", "id": TOOL}
    assert alert["detail"] == {
        "count": 1,
        "max_count": 0,
        "window_minutes": 60,
        "action": "suspended",
    }
    # Both orders were still outstanding: the suspended tool carries out neither.
    assert {
        e.data["job_id"]
        for d in DEVICES[:2]
        for e in _device_entries(staffed, d, "work_order.withdrawn")
    } == {night_job, day_job}
    _assert_replay_agrees(staffed)


def test_a_reset_of_a_device_no_consignment_expected_suspends(
    staffed: Staffed, sam: Caller
) -> None:
    device, errors = Device.read(
        {
            "device_id": DEVICES[4],
            "device_type": "ESME",
            "manufacturer": "Acme",
            "model": "M1",
            "firmware_version": "1.0",
            "inventory_status": "Decommissioned",
            "asset_owner": "MAP-1",
        }
    )
    assert device is not None, errors
    job_id = str(uuid.uuid4())
    # A job opened without a consignment: what a rogue path into the register would leave.
    with staffed.app.uow(write=True) as uow:
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    Caller.system("test"),
                    "device.received",
                    device_ref(DEVICES[4]),
                    {
                        "job_id": job_id,
                        "consignment_id": None,
                        "device": intake.device_json(device),
                        "state": "received",
                    },
                )
            ]
        )
        uow.commit()
    staffed.record_log(job_id)
    job_steps.inspect(staffed.app.uow, staffed.ben, job_id, CLEAN)
    # A device from a consignment is fine.
    [expected_job] = _eligible_jobs(staffed, 1)
    _issue(staffed, expected_job)
    assert _tool_status(staffed) is ToolStatus.ACTIVE

    with pytest.raises(
        anomaly.ThresholdReached,
        match="tool BENCH-1 may not reset a device that no open consignment expected",
    ):
        _issue(staffed, job_id)

    assert _device_entries(staffed, DEVICES[4], "reset.authorised") == []
    assert len(_device_entries(staffed, DEVICES[4], "work_order.refused")) == 1
    assert _tool_status(staffed) is ToolStatus.SUSPENDED
    assert _operator_suspended(staffed, "ben")
    assert {a["metric"] for a in _open_alerts(staffed, sam)} == {"unexpected_consignment"}
    _assert_replay_agrees(staffed)


def test_only_a_security_manager_reinstates_a_tool_and_with_a_reason(
    staffed: Staffed, sam: Caller
) -> None:
    tools.suspend_tool(staffed.app.uow, staffed.admin, TOOL, "lost its key card")
    with pytest.raises(PermissionDenied):
        reinstatement.reinstate_tool(staffed.app.uow, staffed.admin, TOOL, "found the key card")
    with pytest.raises(InvalidInput):
        reinstatement.reinstate_tool(staffed.app.uow, sam, TOOL, " ")
    reinstatement.reinstate_tool(staffed.app.uow, sam, TOOL, "found the key card")
    last = _entries(staffed, "tool", TOOL)[-1]
    assert (last.type, last.actor.id, last.data["reason"]) == (
        "tool.reinstated",
        "sam",
        "found the key card",
    )


def test_thresholds_are_validated_and_managed_by_the_security_manager(
    staffed: Staffed, sam: Caller
) -> None:
    uow = staffed.app.uow
    with pytest.raises(PermissionDenied):
        anomaly.set_threshold(uow, staffed.admin, "facility", None, "resets", 10, 60)
    with pytest.raises(InvalidInput, match="metric: 'logins' is not one of"):
        anomaly.set_threshold(uow, sam, "facility", None, "logins", 10, 60)
    with pytest.raises(InvalidInput, match="window_minutes"):
        anomaly.set_threshold(uow, sam, "facility", None, "resets", 10, 0)
    with pytest.raises(InvalidInput, match="max_count"):
        anomaly.set_threshold(uow, sam, "tool", TOOL, "resets", -1, 60)
    with pytest.raises(InvalidInput, match="subject_id"):
        anomaly.set_threshold(uow, sam, "operator", "", "resets", 1, 60)
    with pytest.raises(InvalidInput, match="start"):
        anomaly.set_working_hours(uow, sam, "25:00", "18:00", ["mon"])
    with pytest.raises(InvalidInput, match="days"):
        anomaly.set_working_hours(uow, sam, "08:00", "18:00", ["someday"])

    anomaly.set_threshold(uow, sam, "facility", None, "resets", 30, 60)
    anomaly.set_threshold(uow, sam, "tool", TOOL, "resets", 10, 15)
    anomaly.set_threshold(uow, sam, "tool", TOOL, "resets", 12, 15)  # replaces, not adds
    view = anomaly.thresholds(uow, staffed.auditor).to_json()
    resets = {f["applies_to"]: f for f in view["facility"] if f["metric"] == "resets"}
    assert resets["tool"]["max_count"] == 30 and resets["tool"]["source"] == "facility"
    refused = [f for f in view["facility"] if f["metric"] == "refused_commands"]
    assert all(f["source"] == "default" and f["max_count"] == 5 for f in refused)
    assert view["overrides"] == [
        {
            "scope": "tool",
            "subject_id": TOOL,
            "metric": "resets",
            "max_count": 12,
            "window_minutes": 15,
        }
    ]
    with pytest.raises(PermissionDenied):
        anomaly.alerts(uow, staffed.admin, "open")
    _assert_replay_agrees(staffed)


def test_a_suspended_operator_cannot_be_given_a_token_or_act(staffed: Staffed, sam: Caller) -> None:
    anomaly.set_threshold(staffed.app.uow, sam, "operator", "ben", "resets", 0, 60)
    ben = enrol(staffed.app, staffed.admin, "ben", bench="B1")
    signed_in = tokens.authenticate_token(staffed.app.uow, ben.token)
    [job_id] = _eligible_jobs(staffed, 1)
    with pytest.raises(anomaly.ThresholdReached, match="operator ben may do no resets"):
        _issue(staffed, job_id)
    assert _operator_suspended(staffed, "ben")
    # Not even from a credential that was good a moment ago.
    with pytest.raises(NotFound, match="no active operator"):
        tokens.issue_token(staffed.app.uow, signed_in, "ben")
    with pytest.raises(Unauthenticated, match="suspended"):
        tokens.authenticate_token(staffed.app.uow, ben.token)
    with pytest.raises(PermissionDenied):
        operators.operator_caller(staffed.app.uow, "ben")
    assert _tool_status(staffed) is ToolStatus.ACTIVE
