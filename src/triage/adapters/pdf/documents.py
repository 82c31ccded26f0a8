"""``DocumentRenderer``: certificates and labels as PDF."""

from __future__ import annotations

from collections.abc import Sequence

from triage.adapters.pdf.certificate import (
    certificate_filename,
    destruction_certificate_filename,
    render_certificate,
    render_destruction_certificate,
)
from triage.adapters.pdf.labels import (
    device_label_filename,
    render_device_labels,
    render_seal_labels,
    seal_labels_filename,
)
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

    def seal_labels(self, labels: Sequence[SealLabel], facility_name: str) -> Document:
        content = render_seal_labels(labels, facility_name)
        return Document(content, seal_labels_filename(labels[0].serial, len(labels)))

    def device_labels(self, labels: Sequence[DeviceLabel]) -> Document:
        content = render_device_labels(labels)
        return Document(content, device_label_filename(labels[0].device_id))
