"""``DocumentRenderer``: certificates and labels as PDF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from triage.adapters.pdf.certificate import (
    certificate_filename,
    destruction_certificate_filename,
    render_certificate,
    render_destruction_certificate,
)
from triage.adapters.pdf.destruction_batch import (
    destruction_batch_filename,
    render_destruction_batch,
)
from triage.adapters.pdf.dispatch_note import dispatch_note_filename, render_dispatch_note
from triage.adapters.pdf.incident_register import (
    incident_register_filename,
    render_incident_register,
)
from triage.adapters.pdf.labels import (
    device_label_filename,
    render_device_labels,
    render_seal_labels,
    seal_labels_filename,
)
from triage.adapters.pdf.outcome_report import outcome_report_filename, render_outcome_report
from triage.domain.dispatch import NOTE_KIND
from triage.domain.outcome_report import KIND as OUTCOME_KIND
from triage.domain.signed_document import verify_document
from triage.services.ports import DeviceLabel, Document, SealLabel


class PdfDocuments:
    """Prints the facility's documents as PDF."""

    def certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        content = render_certificate(receipt, verifier_key, facility_name)
        return Document(content, certificate_filename(device_id))

    def destruction_certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        content = render_destruction_certificate(receipt, verifier_key, facility_name)
        return Document(content, destruction_certificate_filename(device_id))

    def dispatch_note(self, signed_note: bytes, verifier_key: str) -> Document:
        content = render_dispatch_note(signed_note, verifier_key)
        document = verify_document(signed_note, [verifier_key], kind=NOTE_KIND).document
        return Document(content, dispatch_note_filename(str(document["dispatch_id"])))

    def outcome_report(self, signed_report: bytes, verifier_key: str) -> Document:
        content = render_outcome_report(signed_report, verifier_key)
        document = verify_document(signed_report, [verifier_key], kind=OUTCOME_KIND).document
        reference = str(document["consignment"]["reference"])
        return Document(content, outcome_report_filename(reference))

    def destruction_batch_certificate(self, signed: bytes, verifier_key: str) -> Document:
        content = render_destruction_batch(signed, verifier_key)
        digest = verify_document(signed, [verifier_key]).digest
        return Document(content, destruction_batch_filename(digest))

    def seal_labels(self, labels: Sequence[SealLabel], facility_name: str) -> Document:
        content = render_seal_labels(labels, facility_name)
        return Document(content, seal_labels_filename(labels[0].serial, len(labels)))

    def device_labels(self, labels: Sequence[DeviceLabel]) -> Document:
        content = render_device_labels(labels)
        return Document(content, device_label_filename(labels[0].device_id))

    def incident_register(self, register: Mapping[str, Any], facility_name: str) -> Document:
        content = render_incident_register(register, facility_name)
        filename = incident_register_filename(str(register.get("generated_at", "")))
        return Document(content, filename)
