"""DUIS requests out (issue 20 item 2), on the fakes: the requests a triage outcome calls for
by the rules, numbered per DCC User, validated before they are written, batched per asset owner
as one ZIP; who may do what; every refusal."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
import xmlschema

from tests.duis_responses import DUIS_XSD
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, workflow_seed
from tests.unit.services.assurance_seed import FakeFileStore
from tests.unit.services.test_dispatches import owner_person, released
from tests.unit.services.test_disposals import destroyed, quarantined
from triage.domain.duis_request import DEFAULT_TARGET
from triage.duis import schema as duis_schema
from triage.duis.requests import DeleteDevice, ServiceRequest, UpdateDeviceDetails
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import duis_requests
from triage.services.common import device_ref

XSD = DUIS_XSD
OWNER = "North Energy"
DCC_USER = "90-B3-D5-1F-30-01-00-00"
SUP = callers.supervisor()
ADMIN = callers.administrator()


@pytest.fixture(scope="module")
def independent() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(XSD), defuse="always")


@pytest.fixture
def schema() -> duis_schema.DuisSchema:
    return duis_schema.load(XSD)


@pytest.fixture
def store() -> FakeFileStore:
    return FakeFileStore()


@pytest.fixture
def bench(factory: FakeUnitOfWorkFactory) -> workflow_seed.Bench:
    bench = workflow_seed.at_the_bench(factory)
    workflow_seed.register_owners(factory, OWNER, "MAP-2")
    duis_requests.set_dcc_user(factory, ADMIN, OWNER, DCC_USER.lower().replace("-", ""))
    return bench


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_released_device_gets_an_84_pending_and_a_destroyed_one_an_84_delete(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
    independent: xmlschema.XMLSchema10,
) -> None:
    kept = released(factory, bench, 1)
    gone = quarantined(factory, bench, 2)
    destroyed(factory, store, gone)

    produced = duis_requests.produce_batch(factory, SUP, schema, store, OWNER)

    files = unzip(produced.content)
    xml = {name: body for name, body in files.items() if name.endswith(".xml")}
    assert len(xml) == 2
    for body in xml.values():
        independent.validate(body.decode("utf-8"))  # every file we write is valid DUIS 5.4
        assert b"Signature" not in body
    by_device = {r.device_id: r for r in produced.requests}
    assert by_device[kept].description == "Update Inventory: status Pending"
    assert by_device[workflow_seed.device_id(2)].description == "Update Inventory: delete device"
    assert [r.request_id for r in produced.requests] == [
        f"{DCC_USER}:{DEFAULT_TARGET}:1",
        f"{DCC_USER}:{DEFAULT_TARGET}:2",
    ]
    manifest = json.loads(files["manifest.json"])
    assert manifest["signed"] is False
    for listed in manifest["requests"]:
        assert hashlib.sha256(files[listed["file"]]).hexdigest() == listed["sha256"]
    rows = list(csv.DictReader(io.StringIO(files["manifest.csv"].decode())))
    assert {r["request_id"] for r in rows} == {r.request_id for r in produced.requests}
    assert store.read(produced.batch.sha256) == produced.content
    types = factory.entry_types()
    assert types[-3:] == ["duis.request_written", "duis.request_written", "duis.batch_produced"]
    written = factory.entries()[-3]
    assert written.subject == device_ref(written.data["device_id"])
    assert written.data["sha256"] == hashlib.sha256(written.data["xml"].encode()).hexdigest()
    batch_entry = factory.entries()[-1]
    assert batch_entry.data["sha256"] == hashlib.sha256(produced.content).hexdigest()


def test_a_request_is_produced_once_and_the_counter_keeps_rising(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
) -> None:
    released(factory, bench, 1)
    duis_requests.produce_batch(factory, SUP, schema, store, OWNER)

    with pytest.raises(Conflict, match="no DUIS request is due for asset owner North Energy"):
        duis_requests.produce_batch(factory, SUP, schema, store, OWNER)

    released(factory, bench, 2)
    second = duis_requests.produce_batch(factory, SUP, schema, store, OWNER)
    assert [r.request_id.rsplit(":", 1)[1] for r in second.requests] == ["2"]


def test_the_rules_are_data_and_decide_what_is_produced(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
    independent: xmlschema.XMLSchema10,
) -> None:
    rules = b"""version: "facility-2"
outcomes:
  released: []
  destroyed:
    - request: decommission
      when_status: [Decommissioned]
    - request: delete_device
      device_types: [GSME]
"""
    duis_requests.set_rules(factory, ADMIN, rules)
    assert factory.entries()[-1].type == "duis.rules_set"
    assert factory.entries()[-1].data["source"] == rules.decode()
    released(factory, bench, 1)
    gone = quarantined(factory, bench, 2)
    destroyed(factory, store, gone)

    produced = duis_requests.produce_batch(factory, SUP, schema, store, OWNER)

    assert [(r.service_reference, r.description) for r in produced.requests] == [
        ("8.3", "Decommission")
    ]
    independent.validate(unzip(produced.content)[produced.requests[0].file_name].decode())
    assert duis_requests.rules(factory, SUP).version == "facility-2"


def test_bad_rules_are_refused_and_nothing_recorded(factory: FakeUnitOfWorkFactory) -> None:
    before = factory.entry_types()
    for bad, problem in [
        (b"version: 1\noutcomes:\n  sold: []\n", "outcome 'sold'"),
        (b"version: 1\noutcomes:\n  released:\n    - request: update_status\n", "`status`"),
        (
            b"version: 1\noutcomes:\n  released:\n    - request: delete_device\n      when: x\n",
            "`when`",
        ),
        (b"version: 1\noutcomes: {}\nextra: 1\n", "unknown key"),
        (b"version: [1\n", "rules"),
    ]:
        with pytest.raises(InvalidInput, match=problem) as refused:
            duis_requests.set_rules(factory, ADMIN, bad)
        assert refused.value.field == "rules"
    with pytest.raises(PermissionDenied):
        duis_requests.set_rules(factory, SUP, b"version: 1\noutcomes: {}\n")
    assert factory.entry_types() == before


def test_a_request_that_does_not_validate_is_refused_naming_the_element(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
) -> None:
    device = released(factory, bench, 1)
    before = factory.entry_types()
    cases: list[tuple[ServiceRequest, str]] = [
        (
            UpdateDeviceDetails(device, firmware_version="1.0.4-rc12"),
            "/sr:Request/sr:Body/sr:UpdateInventory/sr:UpdateDeviceDetails/sr:FirmwareVersion",
        ),
        (DeleteDevice(device[:-3]), "/sr:Request/sr:Body/sr:UpdateInventory/sr:DeviceID"),
    ]
    for request, element in cases:
        with factory(write=True) as uow, pytest.raises(duis_requests.RequestInvalid) as refused:
            duis_requests.write_request(
                uow, SUP, schema, request, purpose="test", subject=device_ref(device)
            )
        assert refused.value.element == element
        assert element in str(refused.value) and "nothing was written" in str(refused.value)
    assert factory.entry_types() == before
    with factory(write=False) as uow:
        assert uow.duis_requests.page(None, 0, 10) == ([], 0)


def test_producing_needs_a_dcc_user_the_permission_and_the_owner_s_own_scope(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
) -> None:
    released(factory, bench, 1)
    with pytest.raises(PermissionDenied):
        duis_requests.produce_batch(factory, bench.operator, schema, store, OWNER)
    with pytest.raises(Conflict, match=r"no DCC User recorded.*triage duis dcc-user MAP-2"):
        duis_requests.produce_batch(factory, SUP, schema, store, "MAP-2")
    with pytest.raises(NotFound, match="no asset owner"):
        duis_requests.produce_batch(factory, SUP, schema, store, "Nobody Ltd")
    with pytest.raises(NotFound, match="no dispatch"):
        duis_requests.produce_batch(factory, SUP, schema, store, OWNER, dispatch_id="nope")
    with pytest.raises(NotFound, match="no consignment"):
        duis_requests.produce_batch(factory, SUP, schema, store, OWNER, consignment_id="CN-404")
    with pytest.raises(InvalidInput, match="originator"):
        duis_requests.set_dcc_user(factory, ADMIN, OWNER, "90-B3-D5")
    with pytest.raises(PermissionDenied):
        duis_requests.set_dcc_user(factory, SUP, OWNER, DCC_USER)
    with pytest.raises(InvalidInput, match="target"):
        duis_requests.set_target(factory, ADMIN, "not an eui")


def test_an_owner_s_person_reads_and_downloads_only_its_own_batches(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
) -> None:
    released(factory, bench, 1)
    produced = duis_requests.produce_batch(factory, SUP, schema, store, OWNER)
    ours, theirs = owner_person(OWNER), owner_person("MAP-2", "m2")

    found, content = duis_requests.batch_file(factory, ours, store, produced.batch.id)
    assert (found.id, content) == (produced.batch.id, produced.content)
    number = produced.requests[0].request_id
    assert duis_requests.request_file(factory, ours, number)[1].startswith(b"<?xml")
    assert duis_requests.batches(factory, theirs) == ([], 0)
    with pytest.raises(NotFound):
        duis_requests.batch_file(factory, theirs, store, produced.batch.id)
    with pytest.raises(NotFound):
        duis_requests.request_file(factory, theirs, number)
    with pytest.raises(PermissionDenied):
        duis_requests.batches(factory, callers.nobody())


def test_a_batch_of_one_consignment_takes_only_its_devices(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
) -> None:
    released(factory, bench, 1)
    released(factory, bench, 2)
    with factory(write=False) as uow:
        job = uow.jobs.for_device(workflow_seed.device_id(2))[0]
        consignment = uow.consignments.get(job.consignment_id or "")
    assert consignment is not None

    produced = duis_requests.produce_batch(
        factory, SUP, schema, store, OWNER, consignment_id=consignment.reference
    )

    assert [r.device_id for r in produced.requests] == [workflow_seed.device_id(2)]
    assert produced.batch.consignment_id == consignment.id
    assert duis_requests.batches(factory, SUP, consignment_id=consignment.id)[1] == 1


def test_the_target_is_a_setting_on_the_record(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
) -> None:
    duis_requests.set_target(factory, ADMIN, "90-b3-d5-1f-30-00-00-07")
    released(factory, bench, 1)

    produced = duis_requests.produce_batch(factory, SUP, schema, store, OWNER)

    assert produced.requests[0].request_id == f"{DCC_USER}:90-B3-D5-1F-30-00-00-07:1"
    assert "duis.target_set" in factory.entry_types()


def test_the_page_s_reads_show_each_reader_what_it_may_see(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    schema: duis_schema.DuisSchema,
    store: FakeFileStore,
) -> None:
    released(factory, bench, 1)
    produced = duis_requests.produce_batch(factory, SUP, schema, store, OWNER)
    ours, theirs = owner_person(OWNER), owner_person("MAP-2", "m2")

    seen = duis_requests.overview(factory, SUP)
    assert [b.id for b in seen.batches] == [produced.batch.id]
    assert [r.request_id for r in seen.requests] == [r.request_id for r in produced.requests]
    assert [(u.asset_owner, u.originator) for u in seen.dcc_users] == [(OWNER, DCC_USER)]
    assert {o.id for o in seen.owners} == {OWNER, "MAP-2"}
    # An owner's person sees its own batch and requests, no DCC Users and no owners.
    own = duis_requests.overview(factory, ours)
    assert ([b.id for b in own.batches], own.dcc_users, own.owners) == ([produced.batch.id], [], [])
    other = duis_requests.overview(factory, theirs)
    assert (other.batches, other.requests, other.request_total) == ([], [], 0)

    detail = duis_requests.batch(factory, ours, produced.batch.id)
    assert [r.request_id for r in detail.requests] == [r.request_id for r in produced.requests]
    with pytest.raises(NotFound):
        duis_requests.batch(factory, theirs, produced.batch.id)
    assert duis_requests.requests(factory, theirs) == ([], 0)
    assert duis_requests.requests(factory, ours)[1] == len(produced.requests)

    assert [u.originator for u in duis_requests.dcc_users(factory, ADMIN)] == [DCC_USER]
    with pytest.raises(PermissionDenied):
        duis_requests.dcc_users(factory, ours)
