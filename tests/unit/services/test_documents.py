"""Documents the facility hands out (receipt, certificate, seal and device labels), with a
fake renderer: what the service gives the renderer is the service's logic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.unit.fakes import START, FakeUnitOfWorkFactory
from tests.unit.services import seals_seed, workflow_seed
from tests.unit.services.callers import auditor, bench_operator, nobody, stores
from tests.unit.services.ledger_seed import SIGNER, VERIFIER
from tests.unit.services.security_seed import ORIGIN
from triage.domain.facility import Facility
from triage.domain.job import TriageJob
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.ledger.receipt import verify_receipt
from triage.services import documents
from triage.services.issuer import Issuer
from triage.services.ports import DeviceLabel, Document, SealLabel

ISSUER = Issuer(Facility("unit", "Unit Facility", ORIGIN, START), SIGNER, VERIFIER)
DEVICE = workflow_seed.device_id(1)


@dataclass
class FakeRenderer:
    """``DocumentRenderer`` that remembers what it was asked to print."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        self.calls.append(("certificate", (device_id, receipt, verifier_key, facility_name)))
        return Document(b"%PDF certificate", f"certificate-{device_id}.pdf")

    def destruction_certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        self.calls.append(("destruction", (device_id, receipt, verifier_key, facility_name)))
        return Document(b"%PDF destruction", f"destruction-{device_id}.pdf")

    def seal_labels(self, labels: Sequence[SealLabel], facility_name: str) -> Document:
        self.calls.append(("seal_labels", (list(labels), facility_name)))
        return Document(b"%PDF seal labels", "seal-labels.pdf")

    def device_labels(self, labels: Sequence[DeviceLabel]) -> Document:
        self.calls.append(("device_labels", (list(labels),)))
        return Document(b"%PDF device labels", "device-labels.pdf")

    def dispatch_note(self, signed_note: bytes, verifier_key: str) -> Document:
        self.calls.append(("dispatch_note", (signed_note, verifier_key)))
        return Document(b"%PDF dispatch note", "dispatch-note.pdf")

    def destruction_batch_certificate(self, signed: bytes, verifier_key: str) -> Document:
        self.calls.append(("destruction_batch", (signed, verifier_key)))
        return Document(b"%PDF batch", "batch.pdf")

    def outcome_report(self, signed_report: bytes, verifier_key: str) -> Document:
        self.calls.append(("outcome_report", (signed_report, verifier_key)))
        return Document(b"%PDF outcome", "outcome.pdf")


@pytest.fixture
def job(factory: FakeUnitOfWorkFactory) -> TriageJob:
    workflow_seed.may_triage(factory)
    return workflow_seed.received(factory, 1)


def test_the_issuer_signs_under_its_facility_log_origin() -> None:
    assert ISSUER.origin == ORIGIN
    assert SIGNER not in repr(ISSUER)


def test_a_receipt_is_signed_by_the_facility(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    signed = documents.receipt(factory, bench_operator(), DEVICE, ISSUER)

    verified = verify_receipt(signed, [VERIFIER])
    assert {e.subject.id for _, e in verified.entries} == {DEVICE}


def test_a_certificate_is_rendered_from_the_verified_receipt(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    renderer = FakeRenderer()

    made = documents.certificate(factory, auditor(), DEVICE, ISSUER, renderer)

    assert made == Document(b"%PDF certificate", f"certificate-{DEVICE}.pdf")
    [(kind, (device_id, receipt, verifier, name))] = renderer.calls
    assert (kind, device_id, verifier, name) == ("certificate", DEVICE, VERIFIER, "Unit Facility")
    assert isinstance(receipt, str)
    verify_receipt(receipt, [VERIFIER])


def test_no_certificate_for_whoever_may_not_issue_receipts(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    renderer = FakeRenderer()

    with pytest.raises(PermissionDenied):
        documents.certificate(factory, stores(), DEVICE, ISSUER, renderer)
    with pytest.raises(NotFound):
        documents.certificate(factory, auditor(), workflow_seed.device_id(9), ISSUER, renderer)
    assert renderer.calls == []


def test_seal_labels_name_each_seal_its_class_and_supplier(factory: FakeUnitOfWorkFactory) -> None:
    batch = seals_seed.receive(factory, "SL-000100", "SL-000102")
    renderer = FakeRenderer()

    by_batch = documents.seal_labels(
        factory, stores(), renderer, "Unit Facility", batch_id=batch.id
    )
    documents.seal_labels(factory, stores(), renderer, "Unit Facility", serials=["SL-000101"])

    assert by_batch.filename == "seal-labels.pdf"
    (_, (labels, name)), (_, (one, _)) = renderer.calls
    assert name == "Unit Facility"
    assert labels == [
        SealLabel(serial, batch.id, "ISO 17712 I (indicative)", "Acme Seals Ltd")
        for serial in ("SL-000100", "SL-000101", "SL-000102")
    ]
    assert [label.serial for label in one] == ["SL-000101"]


def test_seal_labels_are_refused_for_unknown_seals_or_readers_without_the_permission(
    factory: FakeUnitOfWorkFactory,
) -> None:
    batch = seals_seed.receive(factory, "SL-000100", "SL-000101")
    renderer = FakeRenderer()

    with pytest.raises(NotFound, match="SL-000999"):
        documents.seal_labels(factory, stores(), renderer, "F", serials=["SL-000999"])
    with pytest.raises(NotFound):
        documents.seal_labels(factory, stores(), renderer, "F", batch_id="no-such-batch")
    with pytest.raises(InvalidInput, match="not both"):
        documents.seal_labels(
            factory, stores(), renderer, "F", batch_id=batch.id, first="SL-000100"
        )
    with pytest.raises(PermissionDenied):
        documents.seal_labels(factory, nobody(), renderer, "F", batch_id=batch.id)
    assert renderer.calls == []


def test_a_device_bag_label_names_the_device_its_job_and_seal(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    renderer = FakeRenderer()

    documents.device_label(factory, auditor(), job.id, renderer, "Unit Facility")
    documents.latest_device_label(factory, auditor(), DEVICE.lower(), renderer, "Unit Facility")

    expected = DeviceLabel(DEVICE, "ESME", job.id, None, "Unit Facility")
    assert renderer.calls == [("device_labels", ([expected],)), ("device_labels", ([expected],))]


def test_no_device_label_for_an_unknown_job_or_device(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    renderer = FakeRenderer()

    with pytest.raises(NotFound):
        documents.device_label(factory, auditor(), "no-such-job", renderer, "F")
    with pytest.raises(NotFound, match="never been scanned"):
        documents.latest_device_label(factory, auditor(), workflow_seed.device_id(9), renderer, "F")
    with pytest.raises(PermissionDenied):
        documents.device_label(factory, nobody(), job.id, renderer, "F")
    assert renderer.calls == []
