"""Communications hubs back to the DCC on SQLite and PostgreSQL (issue 20 item 4): a CHF's fault
and no-fault returns recorded with their reasons and the DCC's reference, each with its DUIS
8.14.3 / 8.14.4 request validated against the real schema in the same transaction; a meter
refused; the hub policy on the reset path; the dispatch to the DCC; and a replay that agrees."""

from __future__ import annotations

import pytest

from tests.duis_responses import DUIS_XSD
from tests.integration.conftest import CLEAN, Staffed
from triage.adapters.replay import replay_check
from triage.domain.dispatch import DispatchState, SealChecks
from triage.domain.lifecycle import JobState
from triage.duis import schema as duis_schema
from triage.errors import Conflict, InvalidInput
from triage.services import dispatches, duis_requests, hub_returns

SCHEMA = DUIS_XSD
H1, H2, M1 = "BC-33-AC-FF-FE-FA-57-01", "BC-33-AC-FF-FE-FA-57-02", "BC-33-AC-FF-FE-FA-57-03"
BREACHED = {**CLEAN, "cpa_boundary_intact": False}
CHECKS = SealChecks(True, True, True, True)


@pytest.fixture(scope="module")
def schema() -> duis_schema.DuisSchema:
    if not SCHEMA.exists():
        pytest.skip("the DUIS 5.4 schema (from the DCC) is not on this machine")
    return duis_schema.load(SCHEMA)


def _replays_clean(staffed: Staffed) -> None:
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.differences == []


def test_hubs_go_back_to_the_dcc_with_their_requests_and_leave_in_a_dcc_dispatch(
    staffed: Staffed, schema: duis_schema.DuisSchema
) -> None:
    app = staffed.app
    staffed.manifest("C-1", [H1, H2], device_type="CHF")
    staffed.manifest("C-2", [M1])
    duis_requests.set_dcc_user(app.uow, staffed.admin, "MAP-1", "90-B3-D5-1F-30-01-00-00")
    faulty = staffed.receive(H1, BREACHED)
    spare = staffed.receive(H2)
    staffed.receive(M1, BREACHED)

    fault = hub_returns.return_hub(
        app.uow,
        staffed.sup,
        schema,
        H1,
        "fault",
        "Fault identified prior to installation",
        "DCC-RMA-0001",
        fault_reason="Damaged case",
        connection_method="Cradle",
        other_device_id=M1,
        user_ref_id="TF-0001",
        additional_information="case cracked at the hot-shoe",
    )
    no_fault = hub_returns.return_hub(
        app.uow,
        staffed.sup,
        schema,
        H2,
        "no_fault",
        "No Fault Return (SM WAN variant replacement requested by DCC)",
        "DCC-RMA-0002",
        incident_reference="INC-42",
    )

    assert staffed.job(faulty.id).state is JobState.RETURNED_TO_DCC
    assert staffed.job(spare.id).state is JobState.RETURNED_TO_DCC
    shown = {r.device_id: r for r in hub_returns.returns(app.uow, staffed.auditor)}
    assert shown[H1] == fault and shown[H2] == no_fault
    assert fault.details.fault_reason is not None
    assert fault.details.fault_reason.value == "Damaged case"
    assert (fault.details.dcc_reference, fault.details.other_device_id) == ("DCC-RMA-0001", M1)
    assert (no_fault.details.incident_reference, no_fault.details.dcc_reference) == (
        "INC-42",
        "DCC-RMA-0002",
    )
    written = {e.data["request_id"]: e.data for e in staffed.entries("duis.request_written")}
    assert written[fault.request_id]["service_reference"] == "8.14.3"
    assert written[no_fault.request_id]["service_reference"] == "8.14.4"
    assert (
        "<sr:CHFFaultReason>Damaged case</sr:CHFFaultReason>" in (written[fault.request_id]["xml"])
    )
    for data in written.values():
        schema.validate(data["xml"].encode())  # what was written validates

    with pytest.raises(Conflict, match="ESME, not a communications hub"):
        hub_returns.return_hub(
            app.uow, staffed.sup, schema, M1, "no_fault", "No Fault Return (general)", "R-3"
        )

    opened = dispatches.create(app.uow, staffed.stores, "MAP-1", "dcc", "DCC-RMA-0001")
    with pytest.raises(Conflict, match="returned under DCC return 'DCC-RMA-0002'"):
        dispatches.pack(app.uow, staffed.stores, opened.id, H2, "", CHECKS)
    packed = dispatches.pack(app.uow, staffed.stores, opened.id, H1, "", CHECKS)
    closed = dispatches.close(app.uow, staffed.stores, opened.id, app.issuer(), app.documents)

    assert packed.device_ids() == [H1]
    assert closed.state is DispatchState.CLOSED
    note = dispatches.dispatch(app.uow, staffed.stores, opened.id)
    assert (note.destination.value, note.reference) == ("dcc", "DCC-RMA-0001")
    _replays_clean(staffed)


def test_a_return_that_does_not_validate_records_nothing(
    staffed: Staffed, schema: duis_schema.DuisSchema
) -> None:
    app = staffed.app
    staffed.manifest("C-1", [H1], device_type="CHF")
    duis_requests.set_dcc_user(app.uow, staffed.admin, "MAP-1", "90-B3-D5-1F-30-01-00-00")
    job = staffed.receive(H1)
    before = staffed.ledger_size()
    with pytest.raises(InvalidInput) as refused:
        hub_returns.return_hub(
            app.uow, staffed.sup, schema, H1, "no_fault", "Lost or Stolen Hub", "R" * 101
        )
    assert refused.value.field == "dcc_reference"
    assert staffed.ledger_size() == before
    assert staffed.job(job.id).state is JobState.ELIGIBLE


def test_the_hub_policy_keeps_a_hub_off_the_reset_path_until_it_allows_it(
    staffed: Staffed,
) -> None:
    app = staffed.app
    staffed.manifest("C-1", [H1], device_type="CHF")
    job = staffed.receive(H1)
    with pytest.raises(Conflict, match="belongs to the DCC and goes back to it"):
        staffed.reset(job.id)
    assert staffed.entries("reset.authorised") == []

    hub_returns.set_policy(app.uow, staffed.admin, True)

    assert hub_returns.policy(app.uow, staffed.sup).allow_reset
    assert staffed.reset(job.id).state is JobState.VERIFIED
    hub_returns.set_policy(app.uow, staffed.admin, False)
    assert hub_returns.policy(app.uow, staffed.auditor).set_by == "admin"
    _replays_clean(staffed)
