"""People of an asset owner and what they read: one owner's devices, jobs, documents and
consignments, filtered in the service layer (another owner's is NotFound, as if it did not
exist); and consignments belong to one registered, active asset owner."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed
from tests.unit.services.ledger_seed import VERIFIER
from tests.unit.services.test_documents import ISSUER, FakeRenderer
from tests.unit.services.workflow_seed import (
    STORES,
    SUPERVISOR,
    device_fields,
    device_id,
    import_consignment,
    manifest,
    may_triage,
    register_owners,
)
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.roles import Permission, Role
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.ledger.receipt import verify_receipt
from triage.services import (
    asset_owners,
    disposals,
    documents,
    history,
    intake,
    ledger,
    operators,
    tokens,
)
from triage.services.views import consignments, device_detail, device_list, jobs, owner_home

ADMIN = callers.administrator()
NORTH, SOUTH = "North Energy", "South Gas"


def owner_person(owner_id: str) -> Caller:
    return Caller.operator("o.person", frozenset({Role.ASSET_OWNER}), asset_owner=owner_id)


# -- people of an asset owner -------------------------------------------------------------------


def test_a_person_of_an_asset_owner_is_recorded_acting_for_it(
    factory: FakeUnitOfWorkFactory,
) -> None:
    register_owners(factory, SOUTH)
    made = operators.create_operator(
        factory, ADMIN, "s.reader", "S Reader", frozenset({Role.ASSET_OWNER}), asset_owner=SOUTH
    )
    assert made.asset_owner == SOUTH
    created = factory.entries()[-1]
    assert (created.type, created.data["asset_owner"]) == ("operator.created", SOUTH)
    with factory(write=False) as uow:
        stored = uow.operators.get("s.reader")
    assert stored is not None and stored.asset_owner == SOUTH
    assert operators.operator_caller(factory, "s.reader").asset_owner == SOUTH
    # The facility's own people name no owner in their entry.
    operators.create_operator(factory, ADMIN, "sup.one", "Sup", frozenset({Role.SUPERVISOR}))
    assert "asset_owner" not in factory.entries()[-1].data


@pytest.mark.parametrize(
    ("roles", "owner", "field"),
    [
        ({Role.ASSET_OWNER}, None, "asset_owner"),  # acts for nobody
        ({Role.ASSET_OWNER, Role.AUDITOR}, SOUTH, "roles"),  # an outsider with a facility role
        ({Role.SUPERVISOR}, SOUTH, "asset_owner"),  # a facility role acting for an owner
    ],
)
def test_an_outside_party_never_holds_a_facility_role(
    factory: FakeUnitOfWorkFactory, roles: set[Role], owner: str | None, field: str
) -> None:
    register_owners(factory, SOUTH)
    before = factory.entry_types()
    with pytest.raises(InvalidInput) as refused:
        operators.create_operator(
            factory, ADMIN, "x.person", "X", frozenset(roles), asset_owner=owner
        )
    assert refused.value.field == field
    assert factory.entry_types() == before


def test_a_person_acts_only_for_a_registered_active_asset_owner(
    factory: FakeUnitOfWorkFactory,
) -> None:
    owner_role = frozenset({Role.ASSET_OWNER})
    with pytest.raises(NotFound, match="triage asset-owner add"):
        operators.create_operator(factory, ADMIN, "x.person", "X", owner_role, asset_owner=SOUTH)
    register_owners(factory, SOUTH)
    asset_owners.update(factory, ADMIN, SOUTH, active=False)
    with pytest.raises(InvalidInput, match="deactivated") as refused:
        operators.create_operator(factory, ADMIN, "x.person", "X", owner_role, asset_owner=SOUTH)
    assert refused.value.field == "asset_owner"
    assert "operator.created" not in factory.entry_types()


def test_changing_roles_keeps_outsiders_outside(factory: FakeUnitOfWorkFactory) -> None:
    register_owners(factory, SOUTH)
    operators.create_operator(
        factory, ADMIN, "s.reader", "S", frozenset({Role.ASSET_OWNER}), asset_owner=SOUTH
    )
    operators.create_operator(factory, ADMIN, "b.op", "B", frozenset({Role.BENCH_OPERATOR}))
    before = factory.entry_types()
    with pytest.raises(InvalidInput, match="asset_owner role alone"):
        operators.change_roles(factory, ADMIN, "s.reader", frozenset({Role.SUPERVISOR}))
    with pytest.raises(InvalidInput, match="--asset-owner"):
        operators.change_roles(factory, ADMIN, "b.op", frozenset({Role.ASSET_OWNER}))
    assert factory.entry_types() == before


def test_a_session_and_a_token_of_an_owners_person_carry_the_owner(
    factory: FakeUnitOfWorkFactory,
) -> None:
    register_owners(factory, SOUTH)
    operators.create_operator(
        factory, ADMIN, "s.reader", "S", frozenset({Role.ASSET_OWNER}), asset_owner=SOUTH
    )
    enrolled = people_seed.enrol(factory, "s.reader")
    caller = people_seed.signed_in(factory, enrolled)
    assert caller.asset_owner == SOUTH
    # "read-only" is what the role allows of reading: owner.read alone.
    read_only = frozenset({Permission.TRIAGE_READ, Permission.OWNER_READ})
    issued = tokens.issue_token(factory, caller, "s.reader", scopes=read_only)
    by_token = tokens.authenticate_token(factory, issued.secret)
    assert (by_token.asset_owner, by_token.scopes) == (SOUTH, frozenset({Permission.OWNER_READ}))
    assert by_token.owner_scope() == SOUTH
    acknowledging = frozenset({Permission.DISPATCH_ACKNOWLEDGE})
    issued = tokens.issue_token(factory, caller, "s.reader", scopes=acknowledging)
    by_token = tokens.authenticate_token(factory, issued.secret)
    assert by_token.can(Permission.DISPATCH_ACKNOWLEDGE)
    with pytest.raises(PermissionDenied, match="not scoped for"):
        by_token.owner_scope()
    beyond = frozenset({Permission.DISPATCH_ACKNOWLEDGE, Permission.TRIAGE_READ})
    with pytest.raises(InvalidInput, match=r"do not allow triage\.read"):
        tokens.issue_token(factory, caller, "s.reader", scopes=beyond)


# -- owner-scoped reads -------------------------------------------------------------------------


@pytest.fixture
def two_owners(factory: FakeUnitOfWorkFactory) -> dict[str, str]:
    """Device 1 of North Energy and device 2 of South Gas received (each in a consignment of
    its own owner); their job ids by owner."""
    may_triage(factory)
    import_consignment(factory, 1, reference="CN-N", owner=NORTH)
    import_consignment(factory, 2, reference="CN-S", owner=SOUTH)
    found = {}
    for n, owner in ((1, NORTH), (2, SOUTH)):
        scanned = intake.scan_device(factory, SUPERVISOR, device_id(n))
        assert scanned.job is not None
        found[owner] = scanned.job.id
    return found


def test_the_device_list_and_its_csv_hold_only_the_owners_devices(
    factory: FakeUnitOfWorkFactory, two_owners: dict[str, str]
) -> None:
    south = owner_person(SOUTH)
    listed = device_list.search(factory, south, device_list.Filters())
    assert [d.device_id for d in listed.items] == [device_id(2)]
    # Asking for the other owner's devices by name finds nothing, rather than them.
    asked = device_list.search(factory, south, device_list.Filters(asset_owner=NORTH))
    assert asked.items == []
    csv = "".join(device_list.export_csv(factory, south, device_list.Filters()))
    assert device_id(2) in csv and device_id(1) not in csv
    # The facility's readers see both.
    every = device_list.search(factory, SUPERVISOR, device_list.Filters())
    assert sorted(d.device_id for d in every.items) == [device_id(1), device_id(2)]


def test_another_owners_device_is_not_found_anywhere(
    factory: FakeUnitOfWorkFactory, two_owners: dict[str, str]
) -> None:
    south, north_device = owner_person(SOUTH), device_id(1)
    renderer = FakeRenderer()
    with pytest.raises(NotFound, match="nothing about device"):
        history.device_history(factory, south, north_device)
    with pytest.raises(NotFound, match="nothing about device"):
        device_detail.device_page(factory, south, north_device)
    with pytest.raises(NotFound, match="nothing about device"):
        documents.receipt(factory, south, north_device, ISSUER)
    with pytest.raises(NotFound):
        documents.certificate(factory, south, north_device, ISSUER, renderer)
    with pytest.raises(NotFound):
        disposals.certificate(factory, south, north_device, ISSUER, renderer)
    assert renderer.calls == []
    with pytest.raises(NotFound, match="no triage job"):
        jobs.job_detail(factory, south, two_owners[NORTH])
    listed, total = jobs.jobs(factory, south, None, 0, 10)
    assert ([j.id for j in listed], total) == ([two_owners[SOUTH]], 1)


def test_an_owners_person_reads_its_own_device_and_takes_its_receipt(
    factory: FakeUnitOfWorkFactory, two_owners: dict[str, str]
) -> None:
    south, own = owner_person(SOUTH), device_id(2)
    shown = device_detail.device_page(factory, south, own)
    assert shown.device_id == own
    assert device_detail.RECEIPT in shown.documents
    assert device_detail.LABEL not in shown.documents  # a bag label is the facility's
    assert shown.acts == [] and not shown.may_open_job
    signed = documents.receipt(factory, south, own, ISSUER)
    verify_receipt(signed, [VERIFIER])
    assert jobs.job_detail(factory, south, two_owners[SOUTH]).job.device_id == own


def test_consignments_are_read_by_their_own_owner_only(
    factory: FakeUnitOfWorkFactory, two_owners: dict[str, str]
) -> None:
    south = owner_person(SOUTH)
    listed, total = consignments.consignments(factory, south, 0, 10)
    assert ([c.reference for c in listed], total) == (["CN-S"], 1)
    own = consignments.consignment_detail(factory, south, "CN-S")
    assert own.consignment.asset_owner == SOUTH
    assert consignments.consignment_detail(factory, south, own.consignment.id).arrived == [
        device_id(2)
    ]
    north, _ = consignments.consignments(factory, SUPERVISOR, 0, 10)
    north_id = next(c.id for c in north if c.asset_owner == NORTH)
    for named, owner in (("CN-N", None), ("CN-N", NORTH), (north_id, None), (north_id, NORTH)):
        with pytest.raises(NotFound):
            consignments.consignment_detail(factory, south, named, owner)


def test_an_owners_home_page_shows_its_own_devices_and_consignments(
    factory: FakeUnitOfWorkFactory, two_owners: dict[str, str]
) -> None:
    shown = owner_home.owner_home(factory, owner_person(SOUTH))
    assert shown.owner.id == SOUTH
    assert [d.device_id for d in shown.devices] == [device_id(2)]
    assert ([c.reference for c in shown.consignments], shown.consignment_total) == (["CN-S"], 1)
    assert not shown.more_devices
    # It is the page of an owner's people: the facility's have the dashboard.
    with pytest.raises(PermissionDenied):
        owner_home.owner_home(factory, SUPERVISOR)


def test_everything_else_stays_refused_to_an_owners_person(
    factory: FakeUnitOfWorkFactory, two_owners: dict[str, str]
) -> None:
    south = owner_person(SOUTH)
    with pytest.raises(PermissionDenied):
        consignments.exceptions(factory, south, None, 0, 10)
    with pytest.raises(PermissionDenied):
        ledger.status(factory, south)
    # Someone with neither the facility's reads nor an owner's is refused, naming both.
    with pytest.raises(PermissionDenied, match=r"triage\.read or owner\.read"):
        device_list.search(factory, callers.nobody(), device_list.Filters())
    with pytest.raises(PermissionDenied, match="acts for no asset owner"):
        history.device_history(factory, callers.person("x", Role.ASSET_OWNER), device_id(2))


# -- consignments belong to one registered asset owner -----------------------------------------


def test_a_consignment_for_an_unregistered_owner_is_refused_saying_how_to_register(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(InvalidInput, match="triage asset-owner add") as refused:
        intake.import_manifest(factory, STORES, "CN-1", NORTH, manifest(1))
    assert refused.value.field == "asset_owner"
    register_owners(factory, NORTH)
    asset_owners.update(factory, ADMIN, NORTH, active=False)
    with pytest.raises(InvalidInput, match="deactivated"):
        intake.import_manifest(factory, STORES, "CN-1", NORTH, manifest(1), dry_run=True)
    assert "consignment.created" not in factory.entry_types()


def test_a_row_naming_another_owner_is_refused_with_its_line(
    factory: FakeUnitOfWorkFactory,
) -> None:
    register_owners(factory, NORTH)
    rows = [*manifest(1, 2), ManifestRow(4, device_fields(3, asset_owner=SOUTH))]
    with pytest.raises(intake.ManifestRejected) as refused:
        intake.import_manifest(factory, STORES, "CN-1", NORTH, rows)
    [problem] = refused.value.problems
    assert (problem.line, problem.field) == (4, "asset_owner")
    assert SOUTH in problem.problem and NORTH in problem.problem
    assert "consignment.created" not in factory.entry_types()
    report = intake.import_manifest(factory, STORES, "CN-1", NORTH, rows, skip_invalid=True)
    assert report.imported == 2
    assert [(p.line, p.field) for p in report.problems] == [(4, "asset_owner")]
