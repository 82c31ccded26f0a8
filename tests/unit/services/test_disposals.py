"""Destruction and return evidence: the methods, a destruction with its evidence, a return to
the manufacturer, the witness, and the certificates of destruction (per device and per batch)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.unit.fakes import START, FakeUnitOfWorkFactory
from tests.unit.services import callers, workflow_seed
from tests.unit.services.assurance_seed import FakeFileStore
from tests.unit.services.disposal_seed import PHOTO
from tests.unit.services.ledger_seed import SIGNER, VERIFIER
from tests.unit.services.security_seed import ORIGIN
from tests.unit.services.test_documents import FakeRenderer
from triage.domain.caller import Caller
from triage.domain.disposal import DESTROY, RETURN, NistCategory
from triage.domain.facility import Facility
from triage.domain.roles import Role
from triage.domain.signed_document import verify_document
from triage.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from triage.ledger.receipt import verify_receipt
from triage.services import disposals, job_steps
from triage.services.issuer import Issuer

SUP = callers.supervisor()
WITNESS = callers.stores("wit")
ADMIN = callers.administrator()
ISSUER = Issuer(Facility("unit", "Unit Facility", ORIGIN, START), SIGNER, VERIFIER)
JPEG = b"\xff\xd8\xff\xe0" + b"photo of the shredder output" * 10
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"video of the destruction" * 10
OWNER = "North Energy"


def owner_person(owner_id: str) -> Caller:
    return Caller.operator("o.person", frozenset({Role.ASSET_OWNER}), asset_owner=owner_id)


@pytest.fixture
def store() -> FakeFileStore:
    return FakeFileStore()


@pytest.fixture
def bench(factory: FakeUnitOfWorkFactory) -> workflow_seed.Bench:
    return workflow_seed.at_the_bench(factory)


def quarantined(factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, n: int) -> str:
    """Test device ``n`` inspected with its CPA boundary breached: set aside; its job."""
    return workflow_seed.inspected(factory, bench, n, workflow_seed.BREACHED)


def destroyed(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore, job_id: str, **changes: Any
) -> Any:
    given: dict[str, Any] = {
        "reference": "DC-2026-0001",
        "method": "shred",
        "site": "Shredding bay 2, on site",
        "destroyed_on": "2026-12-01",
        "contact": "+44 20 7946 0000",
        "files": [JPEG, MP4],
    }
    given.update(changes)
    return disposals.destroy(factory, SUP, store, job_id, **given)


# -- methods ------------------------------------------------------------------------------------


def test_the_facility_starts_with_the_default_methods_all_nist_destroy(
    factory: FakeUnitOfWorkFactory,
) -> None:
    found = disposals.methods(factory, SUP)
    assert [m.code for m in found] == [
        "crush-and-recycle",
        "disintegrate",
        "incinerate",
        "pulverise",
        "shred",
    ]
    assert {m.category for m in found} == {NistCategory.DESTROY}
    assert "WEEE" in next(m for m in found if m.code == "crush-and-recycle").name


def test_an_administrator_adds_and_retires_a_method_on_the_record(
    factory: FakeUnitOfWorkFactory,
) -> None:
    fields: dict[str, Any] = {
        "name": "Degauss and shred",
        "category": "purge",
        "description": "Degaussed, then shredded.",
        "tool": "degausser DG-4",
        "verification": "degausser log checked",
        "destination": "WEEE recycling",
    }
    made = disposals.set_method(factory, ADMIN, "degauss", **fields)
    assert (made.code, made.category, made.active) == ("degauss", NistCategory.PURGE, True)
    retired = disposals.set_method(factory, ADMIN, "degauss", **fields, active=False)
    assert not retired.active
    entries = [e for e in factory.entries() if e.type == "destruction_method.set"]
    assert [(e.subject.id, e.data["active"]) for e in entries] == [
        ("degauss", True),
        ("degauss", False),
    ]
    with pytest.raises(InvalidInput, match="nothing to change"):
        disposals.set_method(factory, ADMIN, "degauss", **fields, active=False)
    with pytest.raises(InvalidInput) as bad:
        disposals.set_method(factory, ADMIN, "wipe", **{**fields, "category": "erase"})
    assert bad.value.field == "category"
    with pytest.raises(PermissionDenied):
        disposals.set_method(factory, SUP, "wipe", **fields)


# -- destroying -----------------------------------------------------------------------------------


def test_a_destruction_records_its_method_site_day_evidence_and_device(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)

    record = destroyed(factory, store, job_id)

    entry, left = factory.entries()[-2:]
    assert (entry.type, entry.data["state"]) == ("device.destroyed", "destroyed")
    # A destroyed device leaves the facility's custody in the same transaction.
    assert (left.type, left.subject.id) == ("device.left", entry.subject.id)
    data = entry.data
    assert data["method"]["code"] == "shred" and data["method"]["category"] == "destroy"
    assert (data["site"], data["destroyed_on"], data["role"]) == (
        "Shredding bay 2, on site",
        "2026-12-01",
        "supervisor",
    )
    assert (data["manufacturer"], data["model"], data["asset_owner"]) == (
        "Acme Meters",
        "AM-1",
        OWNER,
    )
    assert [(f["media_type"], f["size"]) for f in data["evidence"]] == [
        ("image/jpeg", len(JPEG)),
        ("video/mp4", len(MP4)),
    ]
    assert all(store.read(f["sha256"]) in (JPEG, MP4) for f in data["evidence"])
    assert (record.kind, record.job_id, record.recorded_by, record.witnessed) == (
        DESTROY,
        job_id,
        "sup",
        False,
    )
    with factory(write=False) as uow:
        assert uow.disposals.for_job(job_id) == record
        assert uow.disposals.for_device(workflow_seed.device_id(1)) == [record]


def test_evidence_kept_already_is_named_by_its_digest(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)
    kept = disposals.keep_evidence(SUP, store, JPEG)

    record = destroyed(factory, store, job_id, files=[], evidence=[kept.as_data()])

    assert record.evidence == (kept,)
    other = quarantined(factory, bench, 2)
    with pytest.raises(InvalidInput, match="not as given") as wrong:
        destroyed(factory, store, other, files=[], evidence=[{**kept.as_data(), "size": 3}])
    assert wrong.value.field == "evidence"


@pytest.mark.parametrize(
    ("changes", "field_name", "message"),
    [
        ({"method": "boil"}, "method", "not an active destruction method"),
        ({"method": ""}, "method", "choose the destruction method"),
        ({"destroyed_on": "2026-12-02"}, "destroyed_on", "in the future"),
        ({"destroyed_on": "1st December"}, "destroyed_on", "YYYY-MM-DD"),
        ({"site": "  "}, "site", "site"),
        ({"files": []}, "evidence", "at least one photo or video"),
        ({"files": [b"%PDF-1.7 not a photo"]}, "evidence", "a photo"),
        ({"files": [], "evidence": [{"media_type": "image/jpeg"}]}, "evidence", "sha256"),
        ({"files": [], "evidence": [{**PHOTO, "size": None}]}, "evidence", "size"),
        ({"files": [], "evidence": [PHOTO]}, "evidence", "upload it first"),
    ],
)
def test_a_destruction_without_what_it_must_record_is_refused(
    factory: FakeUnitOfWorkFactory,
    bench: workflow_seed.Bench,
    store: FakeFileStore,
    changes: dict[str, Any],
    field_name: str,
    message: str,
) -> None:
    job_id = quarantined(factory, bench, 1)
    before = factory.entry_types()

    with pytest.raises(InvalidInput, match=message) as refused:
        destroyed(factory, store, job_id, **changes)

    assert refused.value.field == field_name
    assert factory.entry_types() == before


def test_a_method_taken_out_of_use_is_refused(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    shred = next(m for m in disposals.methods(factory, SUP) if m.code == "shred")
    fields = shred.as_data()
    del fields["code"], fields["active"]
    disposals.set_method(factory, ADMIN, "shred", **fields, active=False)
    job_id = quarantined(factory, bench, 1)

    with pytest.raises(InvalidInput, match="'shred' is not an active destruction method"):
        destroyed(factory, store, job_id)


def test_destroying_needs_the_permission_and_a_device_set_aside(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    eligible = workflow_seed.inspected(factory, bench, 2)
    with pytest.raises(PermissionDenied):
        disposals.destroy(
            factory,
            bench.operator,
            store,
            eligible,
            reference="DC-1",
            method="shred",
            site="bay",
            destroyed_on="2026-12-01",
            files=[JPEG],
        )
    with pytest.raises(IllegalTransition):
        destroyed(factory, store, eligible)


def test_the_old_dispose_call_needs_the_destruction_and_still_returns(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = quarantined(factory, bench, 1)
    with pytest.raises(InvalidInput, match="use the destruction form") as refused:
        job_steps.dispose(factory, SUP, job_id, "destroy", "DC-1")
    assert refused.value.field == "method"

    job = job_steps.dispose(factory, SUP, job_id, "return", "RMA-77")

    assert job.state.value == "returned_to_manufacturer"
    with factory(write=False) as uow:
        record = uow.disposals.for_job(job_id)
    assert record is not None
    assert (record.kind, record.reference, record.manufacturer) == (RETURN, "RMA-77", "Acme Meters")


def test_a_return_records_the_rma_and_the_manufacturer_given(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = quarantined(factory, bench, 1)

    record = disposals.return_to_manufacturer(factory, SUP, job_id, "RMA-2026-9", "Acme UK Ltd")

    assert (record.kind, record.reference, record.manufacturer) == (
        RETURN,
        "RMA-2026-9",
        "Acme UK Ltd",
    )
    assert factory.entries()[-1].data["manufacturer"] == "Acme UK Ltd"


# -- the witness ------------------------------------------------------------------------------


def test_a_second_person_witnesses_a_destruction_once(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)
    destroyed(factory, store, job_id)
    assert [r.job_id for r in disposals.awaiting_witness(factory, WITNESS)] == [job_id]

    seen = disposals.witness(factory, WITNESS, job_id, "I saw it shredded")

    assert (seen.witness_id, seen.witness_statement, seen.witnessed_at) == (
        "wit",
        "I saw it shredded",
        factory.clock.now(),
    )
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.subject.id) == (
        "disposal.witnessed",
        "wit",
        workflow_seed.device_id(1),
    )
    assert disposals.awaiting_witness(factory, WITNESS) == []
    with pytest.raises(Conflict, match="witnessed already, by wit"):
        disposals.witness(factory, callers.security_manager(), job_id, "me too")


def test_the_person_who_destroyed_it_cannot_witness_it(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)
    destroyed(factory, store, job_id)
    before = factory.entry_types()

    with pytest.raises(PermissionDenied, match="separation of duties: sup recorded"):
        disposals.witness(factory, SUP, job_id, "I saw it")
    with pytest.raises(PermissionDenied):
        disposals.witness(factory, bench.operator, job_id, "I saw it")
    with pytest.raises(InvalidInput) as empty:
        disposals.witness(factory, WITNESS, job_id, " ")
    assert empty.value.field == "statement"
    assert factory.entry_types() == before


def test_only_a_destruction_is_witnessed(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = quarantined(factory, bench, 1)
    disposals.return_to_manufacturer(factory, SUP, job_id, "RMA-1")
    with pytest.raises(NotFound, match="no destruction"):
        disposals.witness(factory, WITNESS, job_id, "I saw it")


# -- certificates -----------------------------------------------------------------------------


def test_no_certificate_of_destruction_until_it_is_witnessed(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)
    destroyed(factory, store, job_id)
    renderer = FakeRenderer()
    device = workflow_seed.device_id(1)

    with pytest.raises(Conflict, match="awaiting a witness"):
        disposals.certificate(factory, callers.auditor(), device, ISSUER, renderer)
    assert renderer.calls == []

    disposals.witness(factory, WITNESS, job_id, "I saw it shredded")
    made = disposals.certificate(factory, callers.auditor(), device, ISSUER, renderer)

    assert made.content == b"%PDF destruction"
    [(_, (_, receipt, _, _))] = renderer.calls
    types = [e.type for _, e in verify_receipt(receipt, [VERIFIER]).entries]
    assert types[-3:] == ["device.destroyed", "device.left", "disposal.witnessed"]


def test_an_asset_owner_reads_only_its_own_certificates(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)
    destroyed(factory, store, job_id)
    disposals.witness(factory, WITNESS, job_id, "I saw it shredded")
    device = workflow_seed.device_id(1)
    renderer = FakeRenderer()

    disposals.certificate(factory, owner_person(OWNER), device, ISSUER, renderer)
    assert disposals.disposal(factory, owner_person(OWNER), job_id).job_id == job_id

    with pytest.raises(NotFound):
        disposals.certificate(factory, owner_person("South Power"), device, ISSUER, renderer)
    with pytest.raises(NotFound):
        disposals.disposal(factory, owner_person("South Power"), job_id)
    with pytest.raises(NotFound):
        disposals.batch_certificate(
            factory, owner_person("South Power"), ISSUER, renderer, devices=[device]
        )
    assert disposals.awaiting_witness(factory, owner_person("South Power")) == []
    with pytest.raises(PermissionDenied):
        disposals.certificate(factory, callers.stores(), device, ISSUER, renderer)


def test_a_batch_certificate_lists_each_device_with_the_nist_fields_signed_as_a_whole(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    first, second = quarantined(factory, bench, 1), quarantined(factory, bench, 2)
    destroyed(factory, store, first, destroyed_on="2026-11-30")
    destroyed(factory, store, second, method="crush-and-recycle")
    renderer = FakeRenderer()

    with pytest.raises(Conflict, match="awaiting a witness"):
        disposals.batch_certificate(
            factory, callers.auditor(), ISSUER, renderer, since="2026-11-01", until="2026-12-01"
        )
    disposals.witness(factory, WITNESS, first, "seen")
    disposals.witness(factory, WITNESS, second, "seen")

    made = disposals.batch_certificate(
        factory, callers.auditor(), ISSUER, renderer, since="2026-11-01", until="2026-12-01"
    )

    checked = verify_document(made.signed.to_json(), [VERIFIER], kind="destruction-batch")
    listed = checked.document["devices"]
    assert [d["device_id"] for d in listed] == [
        workflow_seed.device_id(1),
        workflow_seed.device_id(2),
    ]
    one = listed[0]
    assert (one["manufacturer"], one["model"], one["serial_number"], one["media_source"]) == (
        "Acme Meters",
        "AM-1",
        workflow_seed.device_id(1),
        OWNER,
    )
    assert one["sanitisation"]["category"] == "destroy"
    assert one["sanitisation"]["tool"] == "industrial shredder"
    assert (one["destroyed_by"], one["role"], one["witness"]) == ("sup", "supervisor", "wit")
    assert (one["destroyed_on"], one["site"]) == ("2026-11-30", "Shredding bay 2, on site")
    assert "moderate" in one["confidentiality"]
    assert listed[1]["sanitisation"]["method"] == "Crush and recycle (WEEE)"
    assert renderer.calls == [("destruction_batch", (made.signed.to_json(), VERIFIER))]
    by_device = disposals.batch_certificate(
        factory, callers.auditor(), ISSUER, renderer, devices=[workflow_seed.device_id(2)]
    )
    assert len(by_device.signed.document["devices"]) == 1


def test_a_batch_certificate_needs_a_selection_that_finds_destructions(
    factory: FakeUnitOfWorkFactory,
) -> None:
    renderer = FakeRenderer()
    auditor = callers.auditor()
    with pytest.raises(InvalidInput) as nothing:
        disposals.batch_certificate(factory, auditor, ISSUER, renderer)
    assert nothing.value.field == "devices"
    with pytest.raises(InvalidInput) as backwards:
        disposals.batch_certificate(
            factory, auditor, ISSUER, renderer, since="2026-12-02", until="2026-12-01"
        )
    assert backwards.value.field == "until"
    with pytest.raises(NotFound, match="no destruction recorded of"):
        disposals.batch_certificate(
            factory, auditor, ISSUER, renderer, devices=[workflow_seed.device_id(5)]
        )
    with pytest.raises(NotFound):
        disposals.batch_certificate(
            factory, auditor, ISSUER, renderer, since=str((START - timedelta(days=3)).date())
        )


def test_the_evidence_of_a_destruction_is_shown_while_its_file_is_intact(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    job_id = quarantined(factory, bench, 1)
    record = destroyed(factory, store, job_id)
    photo = record.evidence[0]

    assert disposals.evidence_file(factory, WITNESS, store, job_id, photo.sha256) == (
        JPEG,
        "image/jpeg",
    )
    assert disposals.device_disposals(factory, WITNESS, workflow_seed.device_id(1)) == [record]
    with pytest.raises(NotFound):
        disposals.evidence_file(factory, WITNESS, store, job_id, "cd" * 32)


def test_the_command_line_names_the_device_and_the_form_shows_the_methods_in_use(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench, store: FakeFileStore
) -> None:
    first, second = quarantined(factory, bench, 1), quarantined(factory, bench, 2)
    shown = disposals.destruction_form(factory, SUP, first)
    assert (shown.job.id, shown.today.isoformat()) == (first, "2026-12-01")
    assert "shred" in [m.code for m in shown.methods]
    with pytest.raises(PermissionDenied):
        disposals.destruction_form(factory, WITNESS, first)

    made = disposals.destroy_device(
        factory,
        SUP,
        store,
        workflow_seed.device_id(1),
        reference="DC-9",
        method="pulverise",
        site="bay 1",
        destroyed_on="2026-12-01",
        files=[JPEG],
    )
    seen = disposals.witness_device(factory, WITNESS, workflow_seed.device_id(1), "seen")
    back = disposals.return_device(factory, SUP, workflow_seed.device_id(2), "RMA-9")

    assert (made.job_id, seen.witness_id, back.job_id) == (first, "wit", second)
    with pytest.raises(NotFound, match="no destruction of device"):
        disposals.witness_device(factory, WITNESS, workflow_seed.device_id(2), "seen")
