"""Communications hubs back to the DCC (issue 20 item 4): a hub's fault and no-fault returns with
their DUIS reasons and the DCC's reference, the refusals (a meter, no open job, bad fields), the
hub policy that keeps a hub off a meter's reset path, and the dispatch to the DCC."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gbcs_logs import clean_log
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, workflow_seed
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.dispatch import Destination, SealChecks
from triage.domain.hub_return import FaultReason, ReturnKind
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied
from triage.ledger.entry import Entry
from triage.services import (
    dispatches,
    duis_requests,
    hub_returns,
    intake,
    job_steps,
    security_log,
)

SUP = callers.supervisor()
ADMIN = callers.administrator()
OWNER = "North Energy"
NO_FAULT = "No Fault Return (general)"
FAULT = "Fault identified post installation"
DCC_USER = "90-B3-D5-1F-30-01-00-00"


class Schema:
    """A DUIS schema that accepts everything (the request area's tests validate for real)."""

    def __init__(self) -> None:
        self.validated: list[bytes] = []

    def validate(self, xml: bytes) -> None:
        self.validated.append(xml)


@pytest.fixture
def bench(factory: FakeUnitOfWorkFactory) -> workflow_seed.Bench:
    return workflow_seed.at_the_bench(factory)


def hub(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    n: int,
    kind: str = "GPF",
    evidence: dict[str, Any] = workflow_seed.INTACT,
) -> str:
    """Test device ``n``, a ``kind`` (a hub by default), received and inspected; its job."""
    device = workflow_seed.device_id(n)
    workflow_seed.register_owners(factory, OWNER)
    row = ManifestRow(2, workflow_seed.device_fields(n, device_type=kind))
    report = intake.import_manifest(factory, workflow_seed.STORES, f"CN-{n}", OWNER, [row])
    assert report.consignment_id is not None
    job = intake.scan_device(factory, SUP, device).job
    assert job is not None
    store = workflow_seed.evidence_store(factory)
    security_log.upload(factory, SUP, store, job.id, clean_log(device, kind), "SR-6.13-1")
    job_steps.inspect(factory, bench.operator, job.id, evidence)
    return job.id


def no_fault(factory: FakeUnitOfWorkFactory, n: int, **changes: Any) -> Any:
    given: dict[str, Any] = {
        "kind": "no_fault",
        "return_type": NO_FAULT,
        "dcc_reference": "DCC-RET-0042",
        "incident_reference": "INC-7",
    }
    given.update(changes)
    device = given.pop("device", workflow_seed.device_id(n))
    return hub_returns.return_hub(factory, SUP, Schema(), device, **given)


def entries(factory: FakeUnitOfWorkFactory, entry_type: str) -> list[Entry]:
    return [e for e in factory.entries() if e.type == entry_type]


# -- returns -----------------------------------------------------------------------------------


def test_a_hub_goes_back_to_the_dcc_with_its_no_fault_return_and_the_dcc_reference(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = hub(factory, bench, 1)

    found = no_fault(factory, 1, user_ref_id="MY-REF-1", additional_information="spare hub")

    assert (found.job_id, found.details.kind) == (job_id, ReturnKind.NO_FAULT)
    assert found.details.return_type.value == NO_FAULT
    assert found.details.dcc_reference == "DCC-RET-0042"
    assert (found.details.user_ref_id, found.details.incident_reference) == ("MY-REF-1", "INC-7")
    assert found.returned_by == SUP.id and found.asset_owner == OWNER
    with factory(write=False) as uow:
        job = uow.jobs.get(job_id)
    assert job is not None and job.state is JobState.RETURNED_TO_DCC and job.closed_at
    (entry,) = entries(factory, "device.returned_to_dcc")
    assert entry.data["reference"] == "DCC-RET-0042"
    assert entry.data["return_type"] == NO_FAULT and entry.data["device_type"] == 3
    assert hub_returns.returns(factory, SUP) == [found]


def test_a_fault_return_records_its_reason_connection_and_the_other_device(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 2, evidence=workflow_seed.BREACHED)  # quarantined: set aside
    meter = workflow_seed.device_id(90).lower().replace("-", "")

    found = hub_returns.return_hub(
        factory,
        SUP,
        Schema(),
        workflow_seed.device_id(2),
        "fault",
        FAULT,
        "DCC-RET-0043",
        fault_reason="illegal interference or missing seals",  # any case: the schema's value
        connection_method="hot-shoe",
        other_device_id=meter,
    )

    d = found.details
    assert d.fault_reason is FaultReason.INTERFERENCE_OR_MISSING_SEALS
    assert d.fault_reason.value == "Illegal interference or missing seals"
    assert d.connection_method is not None and d.connection_method.value == "Hot-shoe"
    assert d.other_device_id == workflow_seed.device_id(90)
    assert d.kind.service_reference == "8.14.3"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"return_type": "No Fault Return (whatever)"}, "return_type"),
        ({"return_type": FAULT}, "return_type"),  # a fault type on a no-fault return
        ({"dcc_reference": " "}, "dcc_reference"),
        ({"dcc_reference": "X" * 101}, "dcc_reference"),
        ({"user_ref_id": "U" * 26}, "user_ref_id"),
        ({"incident_reference": "I" * 16}, "incident_reference"),
        ({"additional_information": "A" * 201}, "additional_information"),
        ({"additional_information": "two\nlines"}, "additional_information"),
        ({"fault_reason": "Damaged case"}, "fault_reason"),  # no reason on a no-fault return
        ({"kind": "broken"}, "kind"),
    ],
)
def test_a_return_with_a_bad_field_is_refused_naming_it_and_nothing_is_recorded(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    changes: dict[str, Any],
    field: str,
) -> None:
    hub(factory, bench, 3)
    with pytest.raises(InvalidInput) as refused:
        no_fault(factory, 3, **changes)
    assert refused.value.field == field
    assert entries(factory, "device.returned_to_dcc") == []


def test_a_fault_return_needs_its_reason_connection_and_other_device(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 4)
    base = {"kind": "fault", "return_type": FAULT, "dcc_reference": "R-1"}
    with pytest.raises(InvalidInput) as no_reason:
        no_fault(factory, 4, **base, connection_method="Cradle", other_device_id="")
    assert no_reason.value.field == "fault_reason"
    with pytest.raises(InvalidInput) as no_other:
        no_fault(factory, 4, **base, fault_reason="LED Fault", connection_method="Cradle")
    assert no_other.value.field == "other_device_id"
    with pytest.raises(InvalidInput, match="not the hub itself"):
        no_fault(
            factory,
            4,
            **base,
            fault_reason="LED Fault",
            connection_method="Cradle",
            other_device_id=workflow_seed.device_id(4),
        )


def test_a_meter_cannot_take_the_route_back_to_the_dcc(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 5, kind="ESME", evidence=workflow_seed.BREACHED)
    with pytest.raises(Conflict, match="ESME, not a communications hub"):
        no_fault(factory, 5)
    assert entries(factory, "device.returned_to_dcc") == []


def test_a_hub_with_no_open_job_or_not_decided_yet_is_refused(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 6)
    no_fault(factory, 6)
    with pytest.raises(Conflict, match="no open triage job"):
        no_fault(factory, 6)  # its job ended with the first return
    workflow_seed.register_owners(factory, OWNER)
    row = ManifestRow(2, workflow_seed.device_fields(7, device_type="CHF"))
    intake.import_manifest(factory, workflow_seed.STORES, "CN-7", OWNER, [row])
    intake.scan_device(factory, SUP, workflow_seed.device_id(7))
    with pytest.raises(IllegalTransition, match="cannot return to dcc a device that is received"):
        no_fault(factory, 7)


def test_only_a_supervisor_returns_a_hub(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 8)
    with pytest.raises(PermissionDenied):
        hub_returns.return_hub(
            factory,
            bench.operator,
            Schema(),
            workflow_seed.device_id(8),
            "no_fault",
            NO_FAULT,
            "R-8",
        )


def test_a_chf_return_produces_its_8_14_request_in_the_same_transaction(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = hub(factory, bench, 9, kind="CHF")
    with pytest.raises(Conflict, match="no DCC User recorded"):
        no_fault(factory, 9)
    assert entries(factory, "device.returned_to_dcc") == []
    duis_requests.set_dcc_user(factory, ADMIN, OWNER, DCC_USER)
    schema = Schema()

    found = hub_returns.return_hub(
        factory, SUP, schema, workflow_seed.device_id(9), "no_fault", NO_FAULT, "R-9"
    )

    (written,) = entries(factory, "duis.request_written")
    (returned,) = entries(factory, "device.returned_to_dcc")
    assert written.data["service_reference"] == "8.14.4"
    assert (written.data["job_id"], written.data["purpose"]) == (job_id, "hub_return")
    assert found.request_id == written.data["request_id"] == returned.data["request_id"]
    assert b"CHFNoFaultReturn" in schema.validated[-1]
    assert NO_FAULT.encode() in schema.validated[-1]


def test_a_gpf_return_produces_no_request_its_chf_is_named_in_the_request(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 13)
    assert no_fault(factory, 13).request_id is None
    assert entries(factory, "duis.request_written") == []


# -- the hub policy ----------------------------------------------------------------------------


def test_a_hub_is_never_reset_unless_the_policy_says_so(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = hub(factory, bench, 10)
    assert hub_returns.policy(factory, SUP).allow_reset is False
    with pytest.raises(Conflict, match="belongs to the DCC and goes back to it"):
        workflow_seed.authorise(factory, bench, job_id)
    assert entries(factory, "reset.authorised") == []

    changed = hub_returns.set_policy(factory, ADMIN, True)

    assert (changed.allow_reset, changed.set_by) == (True, ADMIN.id)
    (entry,) = entries(factory, "hub.policy_set")
    assert entry.data == {"allow_reset": True}
    order = workflow_seed.authorise(factory, bench, job_id)
    assert order.device_id == workflow_seed.device_id(10)


def test_a_meter_is_reset_whatever_the_hub_policy(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = hub(factory, bench, 11, kind="ESME")
    assert workflow_seed.authorise(factory, bench, job_id).device_id == workflow_seed.device_id(11)


def test_only_an_administrator_sets_the_hub_policy_and_only_to_a_change(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied):
        hub_returns.set_policy(factory, SUP, True)
    with pytest.raises(InvalidInput, match="nothing to change"):
        hub_returns.set_policy(factory, ADMIN, False)
    assert entries(factory, "hub.policy_set") == []


# -- the dispatch to the DCC -------------------------------------------------------------------


def test_the_hub_leaves_in_a_dispatch_to_the_dcc_under_its_return_reference(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 12)
    no_fault(factory, 12, dcc_reference="DCC-RET-12")
    stores = callers.stores()
    checks = SealChecks(True, True, True, True)
    with pytest.raises(InvalidInput, match="DCC return reference"):
        dispatches.create(factory, stores, OWNER, "dcc")
    other = dispatches.create(factory, stores, OWNER, "dcc", "DCC-RET-99")
    with pytest.raises(Conflict, match="returned under DCC return 'DCC-RET-12'"):
        dispatches.pack(factory, stores, other.id, workflow_seed.device_id(12), "", checks)
    to_manufacturer = dispatches.create(factory, stores, OWNER, "manufacturer", "DCC-RET-12")
    with pytest.raises(Conflict, match="carries devices returned to manufacturer"):
        dispatches.pack(
            factory, stores, to_manufacturer.id, workflow_seed.device_id(12), "", checks
        )

    opened = dispatches.create(factory, stores, OWNER, "dcc", "DCC-RET-12")
    packed = dispatches.pack(factory, stores, opened.id, workflow_seed.device_id(12), "", checks)

    assert opened.destination is Destination.DCC and opened.reference == "DCC-RET-12"
    assert packed.device_ids() == [workflow_seed.device_id(12)]


def test_the_hubs_page_shows_the_returns_and_the_policy_and_an_owner_sees_only_its_own(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    hub(factory, bench, 14)
    returned = no_fault(factory, 14)
    hub_returns.set_policy(factory, ADMIN, True)

    shown = hub_returns.overview(factory, SUP)

    assert shown.returns == [returned] and shown.policy.allow_reset
    assert hub_returns.returns(factory, SUP, workflow_seed.device_id(14)) == [returned]
    own = Caller.operator("o.person", frozenset({Role.ASSET_OWNER}), asset_owner=OWNER)
    other = Caller.operator("p.person", frozenset({Role.ASSET_OWNER}), asset_owner="South Gas")
    assert hub_returns.overview(factory, own).returns == [returned]
    assert hub_returns.overview(factory, other).returns == []
