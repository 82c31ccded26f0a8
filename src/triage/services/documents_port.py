"""What the document use cases need to print: a renderer of certificates and labels
(``adapters.pdf.PdfDocuments``), and what goes on a label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Document:
    """A rendered document and the file name it is saved under."""

    content: bytes
    filename: str


@dataclass(frozen=True)
class SealLabel:
    """The label of a bag of seals: one seal, by its serial."""

    serial: str  # e.g. "SL-000123"
    batch_id: str  # uuid string
    seal_class: str  # e.g. "ISO 17712 H" or "other: supplier grade A"
    supplier: str


@dataclass(frozen=True)
class DeviceLabel:
    """The label of a released device's bag."""

    device_id: str  # e.g. "00-11-22-33-44-55-66-77"
    device_type: str  # e.g. "ESME"
    job_id: str  # uuid string
    seal_serial: str | None  # None when no seal is fitted yet
    facility_name: str


class DocumentRenderer(Protocol):
    """Prints what the facility hands out on paper."""

    def certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        """A released device's triage certificate, from its receipt (verified first)."""
        ...

    def seal_labels(self, labels: Sequence[SealLabel], facility_name: str) -> Document:
        """Labels for seal bags, one a page."""
        ...

    def device_labels(self, labels: Sequence[DeviceLabel]) -> Document:
        """Labels for device bags, one a page."""
        ...
