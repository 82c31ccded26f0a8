"""Dispatches (issue 19 item 2): packing with the VVTT seal checks, the signed dispatch note,
the handover and the asset owner's acknowledgement, each rule and refusal on the fakes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pytest

from tests.unit.fakes import START, FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.ledger_seed import SIGNER, VERIFIER
from tests.unit.services.security_seed import ORIGIN
from tests.unit.services.test_documents import FakeRenderer
from tests.unit.services.workflow_seed import (
    SUPERVISOR,
    Bench,
    at_the_bench,
    device_id,
    inspected,
    issued_seal,
    verified,
)
from triage.domain.caller import Caller
from triage.domain.dispatch import DispatchState, SealChecks
from triage.domain.facility import Facility
from triage.domain.roles import Role
from triage.domain.signed_document import parse_document, verify_document
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger import note
from triage.ledger.errors import VerificationError
from triage.services import asset_owners, custody, dispatches, job_steps
from triage.services.issuer import Issuer
from triage.services.ports import Document

OWNER = "North Energy"  # the owner workflow_seed's manifests name
ISSUER = Issuer(Facility("unit", "Unit Facility", ORIGIN, START), SIGNER, VERIFIER)
OWNER_SIGNER, OWNER_VERIFIER = note.generate_key("north-energy")
STORES = callers.stores()
ALL_PASS = SealChecks(True, True, True, True)


def owner_person(owner: str = OWNER, person: str = "ne-1") -> Caller:
    return Caller.operator(person, frozenset({Role.ASSET_OWNER}), asset_owner=owner)


@dataclass
class Renderer(FakeRenderer):
    """``DocumentRenderer``: a certificate is a digest of its receipt (as the real one is a
    pure function of it); the note PDF records what it was given."""

    notes: list[bytes] = field(default_factory=list)

    def certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        return Document(b"%PDF " + hashlib.sha256(receipt.encode()).digest(), "c.pdf")

    def dispatch_note(self, signed_note: bytes, verifier_key: str) -> Document:
        self.notes.append(signed_note)
        return Document(b"%PDF note", "dispatch-note.pdf")


@pytest.fixture
def bench(factory: FakeUnitOfWorkFactory) -> Bench:
    bench = at_the_bench(factory)
    admin = callers.administrator()
    asset_owners.register(factory, admin, OWNER, "North Energy plc", "", OWNER_VERIFIER)
    asset_owners.register(factory, admin, "MAP-2", "Other Meters Ltd")
    return bench


def released(factory: FakeUnitOfWorkFactory, bench: Bench, n: int) -> str:
    """Test device ``n`` triaged, sealed with SL-00000n and released; its device id."""
    job_id = verified(factory, bench, n)
    serial = issued_seal(factory, "op", f"SL-{n:06d}")
    job_steps.seal(factory, bench.operator, job_id, serial)
    job_steps.release(factory, bench.operator, job_id)
    return device_id(n)


def returned(factory: FakeUnitOfWorkFactory, bench: Bench, n: int, rma: str) -> str:
    job_id = inspected(factory, bench, n)
    job_steps.quarantine(factory, SUPERVISOR, job_id, "the case is cracked across the front")
    job_steps.dispose(factory, SUPERVISOR, job_id, "return", rma)
    return device_id(n)


def handed_over(factory: FakeUnitOfWorkFactory, bench: Bench, *numbers: int) -> str:
    """A dispatch of released test devices ``numbers``, closed and handed over; its id."""
    found = dispatches.create(factory, STORES, OWNER, "asset_owner")
    for n in numbers:
        dispatches.pack(
            factory, STORES, found.id, released(factory, bench, n), f"SL-{n:06d}", ALL_PASS
        )
    dispatches.close(factory, STORES, found.id, ISSUER, Renderer())
    dispatches.hand_over(factory, STORES, found.id, "Carrier Ltd", "AB12 CDE", "CS-991")
    return found.id


# -- create -------------------------------------------------------------------------------------


def test_stores_open_a_dispatch_for_a_registered_owner(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    found = dispatches.create(factory, STORES, OWNER, "asset_owner")

    assert (found.state, found.asset_owner, found.devices) == (DispatchState.OPEN, OWNER, ())
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.data) == (
        "dispatch.created",
        found.id,
        {"asset_owner": OWNER, "destination": "asset_owner"},
    )


def test_opening_a_dispatch_is_refused_clearly(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        dispatches.create(factory, callers.bench_operator(), OWNER, "asset_owner")
    with pytest.raises(NotFound, match="triage asset-owner add"):
        dispatches.create(factory, STORES, "Nobody Ltd", "asset_owner")
    with pytest.raises(InvalidInput, match="RMA reference") as rma:
        dispatches.create(factory, STORES, OWNER, "manufacturer")
    assert rma.value.field == "reference"
    with pytest.raises(InvalidInput, match="only a return"):
        dispatches.create(factory, STORES, OWNER, "asset_owner", "RMA-1")
    with pytest.raises(InvalidInput, match="destination"):
        dispatches.create(factory, STORES, OWNER, "the moon")
    assert factory.entry_types() == before


# -- packing ------------------------------------------------------------------------------------


def test_a_released_device_is_packed_with_its_checks(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    device = released(factory, bench, 1)
    found = dispatches.create(factory, STORES, OWNER, "asset_owner")

    packed = dispatches.pack(factory, STORES, found.id, device, " sl-000001 ", ALL_PASS)

    assert [(d.device_id, d.seal_serial, d.checks) for d in packed.devices] == [
        (device, "SL-000001", ALL_PASS)
    ]
    entry, moved = factory.entries()[-2:]
    # Packing puts the device at the dispatch bay, in the same transaction.
    assert (moved.type, moved.subject.id, moved.data["to"]) == ("device.moved", device, "DISPATCH")
    assert entry.type == "dispatch.device_packed"
    assert entry.data["checks"] == {
        "viewed": True,
        "verified": True,
        "tugged": True,
        "twisted": True,
    }


@pytest.mark.parametrize(
    ("serial", "checks", "failed"),
    [
        ("SL-000001", SealChecks(True, True, False, True), "tugged"),
        ("SL-000009", ALL_PASS, "verified"),
    ],
    ids=["not-tugged", "other-seal"],
)
def test_a_seal_failing_a_check_is_not_packed_but_recorded_as_an_exception(
    factory: FakeUnitOfWorkFactory, bench: Bench, serial: str, checks: SealChecks, failed: str
) -> None:
    device = released(factory, bench, 1)
    found = dispatches.create(factory, STORES, OWNER, "asset_owner")

    with pytest.raises(Conflict, match=f"failed the check\\(s\\) {failed}.*exception"):
        dispatches.pack(factory, STORES, found.id, device, serial, checks)

    after = dispatches.dispatch(factory, STORES, found.id)
    assert after.devices == ()
    assert [(r.device_id, r.seal_serial) for r in after.refused] == [(device, serial)]
    refused, raised, incident = factory.entries()[-3:]
    assert (refused.type, refused.data["failed"]) == ("dispatch.pack_refused", [failed])
    # A seal failing its check is an incident in the register too, about the device.
    assert (incident.type, incident.data["source"], incident.data["about_id"]) == (
        "incident.raised",
        "seal_discrepancy",
        device,
    )
    assert incident.data["detail"]["dispatch_id"] == found.id
    assert (raised.type, raised.subject.id, raised.data["kind"]) == (
        "exception.raised",
        device,
        "seal_check_failed",
    )
    with factory(write=False) as uow:
        exception = uow.exceptions.get(raised.data["exception_id"])
    assert exception is not None and exception.kind == "seal_check_failed"


def test_packing_refuses_another_owner_an_unreleased_device_and_a_second_dispatch(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    device = released(factory, bench, 1)
    unfinished = verified(factory, bench, 2)
    first = dispatches.create(factory, STORES, OWNER, "asset_owner")
    second = dispatches.create(factory, STORES, OWNER, "asset_owner")
    other = dispatches.create(factory, STORES, "MAP-2", "asset_owner")
    dispatches.pack(factory, STORES, first.id, device, "SL-000001", ALL_PASS)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="another asset owner"):
        dispatches.pack(factory, STORES, other.id, device, "SL-000001", ALL_PASS)
    with pytest.raises(Conflict, match="is verified"):
        dispatches.pack(factory, STORES, second.id, device_id(2), "", ALL_PASS)
    with pytest.raises(Conflict, match=f"already packed in dispatch {first.id}"):
        dispatches.pack(factory, STORES, second.id, device, "SL-000001", ALL_PASS)
    with pytest.raises(NotFound, match="never received"):
        dispatches.pack(factory, STORES, second.id, device_id(77), "SL-000001", ALL_PASS)
    with pytest.raises(PermissionDenied):
        dispatches.pack(factory, callers.bench_operator(), second.id, device, "SL-1", ALL_PASS)
    assert factory.entry_types() == before
    assert unfinished

    dispatches.cancel(factory, STORES, first.id)
    assert dispatches.pack(factory, STORES, second.id, device, "SL-000001", ALL_PASS).devices


def test_a_device_is_unpacked_from_an_open_dispatch_only(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    device = released(factory, bench, 1)
    found = dispatches.create(factory, STORES, OWNER, "asset_owner")
    dispatches.pack(factory, STORES, found.id, device, "SL-000001", ALL_PASS)

    assert dispatches.unpack(factory, STORES, found.id, device).devices == ()
    assert factory.entries()[-1].data == {"device_id": device}
    with pytest.raises(Conflict, match="not packed"):
        dispatches.unpack(factory, STORES, found.id, device)
    dispatches.cancel(factory, STORES, found.id)
    with pytest.raises(Conflict, match="is cancelled"):
        dispatches.pack(factory, STORES, found.id, device, "SL-000001", ALL_PASS)
    with pytest.raises(Conflict, match="is cancelled"):
        dispatches.cancel(factory, STORES, found.id)


def test_a_returned_device_goes_to_the_manufacturer_under_its_rma(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    device = returned(factory, bench, 1, "RMA-77")
    wrong = dispatches.create(factory, STORES, OWNER, "manufacturer", "RMA-78")
    right = dispatches.create(factory, STORES, OWNER, "manufacturer", "RMA-77")
    to_owner = dispatches.create(factory, STORES, OWNER, "asset_owner")

    with pytest.raises(Conflict, match="returned under RMA 'RMA-77'"):
        dispatches.pack(factory, STORES, wrong.id, device, "", ALL_PASS)
    with pytest.raises(Conflict, match="returned to manufacturer"):
        dispatches.pack(factory, STORES, to_owner.id, device, "", ALL_PASS)
    packed = dispatches.pack(factory, STORES, right.id, device, "", ALL_PASS)

    assert [d.seal_serial for d in packed.devices] == [None]
    assert factory.entries()[-2].data["reference"] == "RMA-77"
    closed = dispatches.close(factory, STORES, right.id, ISSUER, Renderer())
    signed = parse_document(dispatches.note(factory, STORES, closed.id))
    item = signed.document["manifest"]["devices"][0]
    assert (item["certificate_sha256"], signed.document["reference"]) == (None, "RMA-77")


# -- closing and the dispatch note ---------------------------------------------------------------


def test_closing_signs_a_note_of_the_devices_seals_and_digests(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    first, second = released(factory, bench, 1), released(factory, bench, 2)
    found = dispatches.create(factory, STORES, OWNER, "asset_owner")
    dispatches.pack(factory, STORES, found.id, first, "SL-000001", ALL_PASS)
    dispatches.pack(factory, STORES, found.id, second, "SL-000002", ALL_PASS)

    closed = dispatches.close(factory, STORES, found.id, ISSUER, Renderer())

    assert closed.state is DispatchState.CLOSED
    data = dispatches.note(factory, callers.auditor(), found.id)
    signed = dispatches.verify_note(data, VERIFIER)
    assert signed.digest == closed.note_digest
    manifest = signed.document["manifest"]
    assert [(d["device_id"], d["seal_serial"]) for d in manifest["devices"]] == [
        (first, "SL-000001"),
        (second, "SL-000002"),
    ]
    entry = factory.entries()[-1]
    assert entry.type == "dispatch.closed"
    assert (entry.data["note_sha256"], entry.data["manifest_sha256"]) == (
        closed.note_digest,
        closed.manifest_digest,
    )
    # Every receipt digest is of a receipt proven against the one checkpoint the note carries.
    checkpoint = manifest["checkpoint"]
    assert all(f" {checkpoint['size']} " in d["receipt_digest"] for d in manifest["devices"])
    assert f"\n{checkpoint['size']}\n" in checkpoint["note"]
    assert all(len(d["certificate_sha256"]) == 64 for d in manifest["devices"])
    # The packer's VVTT checks go to the owner with each device.
    assert [d["checks"] for d in manifest["devices"]] == [ALL_PASS.to_json()] * 2


def test_the_note_is_the_same_bytes_every_time_it_is_downloaded(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    dispatch_id = handed_over(factory, bench, 1)
    renderer = Renderer()

    first = dispatches.note(factory, STORES, dispatch_id)
    pdf = dispatches.note_pdf(factory, STORES, dispatch_id, ISSUER, renderer)

    assert dispatches.note(factory, STORES, dispatch_id) == first == renderer.notes[0]
    assert pdf.filename == "dispatch-note.pdf"
    assert json.loads(first)["kind"] == "dispatch-note"


def test_closing_is_refused_for_an_empty_or_closed_dispatch_and_packing_after_it(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    empty = dispatches.create(factory, STORES, OWNER, "asset_owner")
    with pytest.raises(Conflict, match="no device packed"):
        dispatches.close(factory, STORES, empty.id, ISSUER, Renderer())
    with pytest.raises(Conflict, match="its note is signed when it is closed"):
        dispatches.note(factory, STORES, empty.id)
    dispatch_id = handed_over(factory, bench, 1)
    released(factory, bench, 2)
    with pytest.raises(Conflict, match="handed over"):
        dispatches.close(factory, STORES, dispatch_id, ISSUER, Renderer())
    with pytest.raises(Conflict, match="only a dispatch that is open"):
        dispatches.pack(factory, STORES, dispatch_id, device_id(2), "SL-000002", ALL_PASS)
    with pytest.raises(Conflict, match="only a dispatch that is closed"):
        dispatches.hand_over(factory, STORES, empty.id, "Carrier", "AB12", "CS-1")


def test_a_tampered_note_or_another_key_is_refused_offline(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    dispatch_id = handed_over(factory, bench, 1)
    data = json.loads(dispatches.note(factory, STORES, dispatch_id))
    data["document"]["manifest"]["devices"][0]["seal_serial"] = "SL-999999"
    tampered = json.dumps(data).encode()

    with pytest.raises(VerificationError, match="changed after it was signed"):
        dispatches.verify_note(tampered, VERIFIER)
    with pytest.raises(VerificationError):
        dispatches.verify_note(dispatches.note(factory, STORES, dispatch_id), OWNER_VERIFIER)


# -- handover -----------------------------------------------------------------------------------


def test_the_handover_records_carrier_vehicle_and_container_seal(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    dispatch_id = handed_over(factory, bench, 1)

    found = dispatches.dispatch(factory, STORES, dispatch_id)
    assert found.handover is not None
    assert (found.handover.carrier, found.handover.vehicle, found.handover.container_seal) == (
        "Carrier Ltd",
        "AB12 CDE",
        "CS-991",
    )
    with factory(write=False) as uow:
        assert dispatches.devices_of(uow, dispatch_id) == [device_id(1)]
    # Handed over, the device has left the facility's custody: it is nowhere inside.
    left = factory.entries()[-1]
    assert (left.type, left.subject.id, left.data["from"]) == (
        "device.left",
        device_id(1),
        "DISPATCH",
    )
    assert custody.where(factory, STORES, device_id(1)).location is None
    with pytest.raises(InvalidInput, match="carrier") as bad:
        dispatches.hand_over(factory, STORES, dispatch_id, " ", "AB12", "CS-1")
    assert bad.value.field == "carrier"


# -- acknowledgement ----------------------------------------------------------------------------


def test_the_owner_acknowledges_as_an_act_and_a_discrepancy_becomes_an_exception(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    dispatch_id = handed_over(factory, bench, 1, 2)

    found = dispatches.acknowledge(
        factory, owner_person(), dispatch_id, [(device_id(2), "seal_damaged", "wire frayed")]
    )

    assert found.state is DispatchState.ACKNOWLEDGED
    assert found.acknowledgement is not None and found.acknowledgement.how == "act"
    ack, raised, incident = factory.entries()[-3:]
    assert (incident.type, incident.data["source"], incident.data["about_id"]) == (
        "incident.raised",
        "seal_discrepancy",
        device_id(2),
    )
    assert incident.data["detail"] == {
        "dispatch_id": dispatch_id,
        "kind": "seal_damaged",
        "text": "wire frayed",
    }
    assert ack.type == "dispatch.acknowledged"
    assert ack.data["received"] == [device_id(1), device_id(2)]
    assert (raised.type, raised.subject.id, raised.data["kind"]) == (
        "exception.raised",
        device_id(2),
        "dispatch_discrepancy",
    )
    assert [(d.device_id, d.kind.value, d.exception_id) for d in found.discrepancies] == [
        (device_id(2), "seal_damaged", raised.data["exception_id"])
    ]
    with pytest.raises(Conflict, match="acknowledged already"):
        dispatches.acknowledge(factory, owner_person(), dispatch_id, [])


def test_an_acknowledgement_is_refused_clearly(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    dispatch_id = handed_over(factory, bench, 1)
    open_one = dispatches.create(factory, STORES, OWNER, "asset_owner")
    before = factory.entry_types()

    with pytest.raises(NotFound):
        dispatches.acknowledge(factory, owner_person("MAP-2"), dispatch_id, [])
    with pytest.raises(Conflict, match="only a dispatch that is handed over"):
        dispatches.acknowledge(factory, owner_person(), open_one.id, [])
    with pytest.raises(PermissionDenied):
        dispatches.acknowledge(factory, STORES, dispatch_id, [])
    with pytest.raises(InvalidInput, match="not on the dispatch note") as bad:
        dispatches.acknowledge(
            factory, owner_person(), dispatch_id, [(device_id(5), "missing", "")]
        )
    assert bad.value.field == "discrepancies"
    with pytest.raises(InvalidInput, match="is not one of"):
        dispatches.acknowledge(factory, owner_person(), dispatch_id, [(device_id(1), "lost", "")])
    assert factory.entry_types() == before


def test_a_signed_acknowledgement_is_checked_with_the_owner_key(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    dispatch_id = handed_over(factory, bench, 1)
    data = dispatches.note(factory, STORES, dispatch_id)
    unexpected = device_id(40)
    signed = dispatches.sign_acknowledgement(
        data, OWNER_SIGNER, [(unexpected, "unexpected_device", "not ours")], VERIFIER
    )
    forged_signer, _ = note.generate_key("north-energy")
    forged = dispatches.sign_acknowledgement(data, forged_signer, [])
    before = factory.entry_types()

    with pytest.raises(InvalidInput, match="not accepted as signed by North Energy"):
        dispatches.acknowledge_signed(factory, STORES, dispatch_id, forged.to_json())
    with pytest.raises(NotFound):
        dispatches.acknowledge_signed(factory, owner_person("MAP-2"), dispatch_id, signed.to_json())
    assert factory.entry_types() == before

    found = dispatches.acknowledge_signed(factory, STORES, dispatch_id, signed.to_json())

    assert found.acknowledgement is not None
    assert (found.acknowledgement.how, found.acknowledgement.digest) == ("signed", signed.digest)
    assert verify_document(signed.to_json(), [OWNER_VERIFIER]).document["received"] == [
        device_id(1)
    ]
    assert factory.entries()[-1].subject.id == unexpected
    with pytest.raises(Conflict, match="acknowledged already"):
        dispatches.acknowledge_signed(factory, owner_person(), dispatch_id, signed.to_json())


def test_an_acknowledgement_of_another_note_is_refused(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    first = handed_over(factory, bench, 1)
    second = handed_over(factory, bench, 2)
    of_first = dispatches.sign_acknowledgement(
        dispatches.note(factory, STORES, first), OWNER_SIGNER, []
    )

    with pytest.raises(Conflict, match=f"of dispatch '{first}', not {second}"):
        dispatches.acknowledge_signed(factory, STORES, second, of_first.to_json())


# -- reads --------------------------------------------------------------------------------------


def test_an_owner_person_reads_only_its_own_dispatches(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    own = dispatches.create(factory, STORES, OWNER, "asset_owner")
    other = dispatches.create(factory, STORES, "MAP-2", "asset_owner")

    listed, total = dispatches.dispatches(factory, owner_person())
    assert ([d.id for d in listed], total) == ([own.id], 1)
    assert dispatches.dispatch(factory, owner_person(), own.id).id == own.id
    with pytest.raises(NotFound):
        dispatches.dispatch(factory, owner_person(), other.id)
    with pytest.raises(NotFound):
        dispatches.note(factory, owner_person(), other.id)
    everything, _ = dispatches.dispatches(factory, STORES)
    assert {d.id for d in everything} == {own.id, other.id}
    assert dispatches.dispatches(factory, STORES, state="open")[1] == 2
    with pytest.raises(InvalidInput, match="state"):
        dispatches.dispatches(factory, STORES, state="lost")
    with pytest.raises(PermissionDenied):
        dispatches.dispatches(factory, callers.nobody())
    # The dispatches page: the owner's person sees its own and is offered no owner to open one
    # for; stores see all, and every registered owner.
    mine = dispatches.overview(factory, owner_person(), 50)
    assert ([d.id for d in mine.dispatches], mine.total, mine.owners) == ([own.id], 1, [])
    theirs = dispatches.overview(factory, STORES, 1)
    assert (len(theirs.dispatches), theirs.total) == (1, 2)
    assert {o.id for o in theirs.owners} == {OWNER, "MAP-2"}
