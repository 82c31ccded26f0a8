"""The incident register's PDF (issue 20, E): what an assessor reads in it, checked with pypdf."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

from pypdf import PdfReader

from triage.adapters.pdf.documents import PdfDocuments
from triage.adapters.pdf.incident_register import qr_payload, render_incident_register
from triage.domain.incident import (
    Incident,
    IncidentKind,
    IncidentStatus,
    Notification,
    Severity,
)
from triage.services.incident_reports import Register, register_digest

AT = datetime(2026, 12, 21, 9, 30, tzinfo=UTC)
RAISED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _register() -> Register:
    overdue = Incident(
        "7c6b5a49-3827-4615-8e4d-3c2b1a098765",
        IncidentKind.INCIDENT,
        "tool_suspended",
        Severity.HIGH,
        "tool_compromise",
        "Triage Tool suspended: tool TT-1",
        "Anomalous resets in an hour",
        IncidentStatus.OPEN,
        "incident-register",
        RAISED,
        about_kind="tool",
        about_id="TT-1",
        notifications=(Notification("ssc", datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),),
    )
    closed = Incident(
        "8d7c6b5a-4938-4726-9f5e-4d3c2b1a0987",
        IncidentKind.VULNERABILITY,
        "manual",
        Severity.MEDIUM,
        "software_vulnerability",
        "Outdated TLS library",
        "CVE in the TLS library",
        IncidentStatus.CLOSED,
        "sam",
        RAISED,
        closed_by="sam",
        closed_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC),
        closure="Library upgraded",
        notifications=(
            Notification(
                "ssc",
                datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
                datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
                "sam",
                "SSC-2026-31",
            ),
        ),
    )
    return Register(AT, (overdue, closed))


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_pdf_shows_incidents_notifications_overdue_and_closures() -> None:
    register = _register().to_json()

    pdf = render_incident_register(register, "Demo Triage Facility")

    text = _text(pdf)
    assert "Incident and vulnerability register: Demo Triage Facility" in text
    assert "Triage Tool suspended: tool TT-1" in text
    assert "Notifications overdue now: 1" in text
    assert "Notifications made late: 1" in text
    assert "overdue" in text and "SSC-2026-31" in text
    assert "closed 2026-12-10" in text and "Library upgraded" in text
    digest = register_digest(register)
    assert digest in text.replace(" ", "")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.subject == digest
    assert qr_payload(digest) == f"DTR1 incident-register sha256:{digest}"


def test_the_same_register_gives_the_same_bytes_and_an_empty_one_says_so() -> None:
    register = _register().to_json()
    assert render_incident_register(register, "Demo") == render_incident_register(register, "Demo")
    empty = Register(AT, ()).to_json()
    text = _text(render_incident_register(empty, "Demo"))
    assert "The register is empty." in text
    assert "No notification is required or recorded." in text


def test_the_renderer_names_the_file_by_the_day() -> None:
    document = PdfDocuments().incident_register(_register().to_json(), "Demo")
    assert document.filename == "incident-register-20261221.pdf"
    assert document.content.startswith(b"%PDF")


def test_a_closure_longer_than_a_page_is_printed_whole_across_pages() -> None:
    """A long closure text (the API takes 4,000 characters) in a narrow column makes a row
    taller than a page: it is split across pages, not refused (found by schemathesis)."""
    long_closure = " ".join(f"step{n:04d}" for n in range(400))  # 3,999 characters
    register = _register()
    closed = dataclasses.replace(register.incidents[1], closure=long_closure)
    pdf = render_incident_register(
        dataclasses.replace(register, incidents=(register.incidents[0], closed)).to_json(), "Demo"
    )

    text = _text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    assert "step0000" in text and "step0399" in text
