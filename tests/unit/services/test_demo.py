"""The demo facility: demo staff, their seals, commissioning mode, their own tokens, and the
demo bench (its tool and the consignment of demo devices)."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import people_seed
from tests.unit.services.callers import auditor
from triage.domain.tool import tool_key_name
from triage.errors import PermissionDenied
from triage.ledger import note
from triage.services import assessment, demo, intake, seals
from triage.services.operators import operator_caller


class ToolKey:
    """The bench's key maker: counts how often the demo asked for a tool key."""

    def __init__(self) -> None:
        self.made = 0
        self.verifier = note.generate_key(tool_key_name(demo.DEMO_TOOL))[1]

    def __call__(self) -> str:
        self.made += 1
        return self.verifier


def _set_up(factory: FakeUnitOfWorkFactory, key: ToolKey | None = None) -> demo.Demo:
    return demo.set_up_demo(factory, people_seed.BOX, 30, "127.0.0.1", tool_key=key or ToolKey())


def test_the_demo_enrols_its_staff_who_sign_in_for_their_own_tokens(
    factory: FakeUnitOfWorkFactory,
) -> None:
    made = _set_up(factory)

    staff = {operator_id for operator_id, _, _ in demo.DEMO_STAFF}
    assert set(made.tokens) == staff and set(made.logins) == staff
    assert made.seals == demo.DEMO_SEALS
    assert factory.entry_types().count("operator.created") == len(staff)
    assert assessment.status(factory, auditor()).may_triage
    bench = operator_caller(factory, "demo-bench")
    held, _ = seals.list_seals(factory, bench, holder="demo-bench")
    assert len(held) == 20


def test_no_demo_staff_beside_real_people(factory: FakeUnitOfWorkFactory) -> None:
    people_seed.add_operator(factory, "alice")
    before = factory.entry_types()

    key = ToolKey()

    with pytest.raises(PermissionDenied, match="real operators \\(alice\\)"):
        _set_up(factory, key)
    assert factory.entry_types() == before
    assert key.made == 0  # no tool key made for a facility that gets no demo bench


def test_the_demo_bench_has_its_tool_and_a_consignment_without_the_unexpected_device(
    factory: FakeUnitOfWorkFactory,
) -> None:
    key = ToolKey()
    made = _set_up(factory, key)

    with factory(write=False) as uow:
        tool = uow.tools.get(demo.DEMO_TOOL)
        consignment = uow.consignments.get(made.consignment_id)
        missing = uow.consignments.missing_devices(made.consignment_id)
        dcc_user = uow.duis_requests.dcc_user(demo.DEMO_ASSET_OWNER)
    # The demo owner's DUIS requests can be produced: its DCC User is on record.
    assert dcc_user is not None and dcc_user.originator == demo.DEMO_DCC_USER
    assert tool is not None and tool.bench == demo.DEMO_BENCH
    assert tool.verifier_key == key.verifier
    assert consignment is not None and consignment.reference == demo.DEMO_CONSIGNMENT
    listed = [d.device_id for d in demo.DEMO_DEVICES if d.on_manifest]
    unexpected = [d.device_id for d in demo.DEMO_DEVICES if not d.on_manifest]
    assert sorted(missing) == sorted(listed) and len(unexpected) == 1
    assert {d.scenario for d in made.devices} >= {
        "clean",
        "failing-battery",
        "supplier-job",
        "strong-magnet",
        "breached-cpa-boundary",
    }
    # Scanning the unexpected device raises an exception; a listed one opens a job.
    bench = operator_caller(factory, "demo-bench")
    stray = intake.scan_device(factory, bench, unexpected[0])
    assert stray.job is None and stray.exception_id is not None
    assert intake.scan_device(factory, bench, listed[0]).job is not None

    # make run again: the same consignment, no second tool key, nothing imported twice.
    entries = len(factory.entry_types())
    again = _set_up(factory, key)
    assert again.consignment_id == made.consignment_id and key.made == 1
    assert factory.entry_types()[entries:].count("consignment.created") == 0
    assert factory.entry_types().count("tool.enrolled") == 1
