"""The incident and vulnerability register as a PDF (issue 20, E): the counts beside a QR code
of the SHA-256 of the register's JSON, every incident with its status and closure, then every
notification with its deadline and whether it was made in time. Laid out like the signed
documents (``signed_pdf``); the register itself is not signed: its JSON (the API's
``/api/v1/incident-register``) is what the digest is of."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from triage.adapters.pdf.signed_pdf import SignedPage, grid, render, text
from triage.adapters.pdf.styles import BODY, SMALL, WIDTH
from triage.services.incident_reports import register_digest

_COUNTS = (
    ("incidents", "Incidents"),
    ("vulnerabilities", "Vulnerabilities"),
    ("open", "Open (not closed)"),
    ("closed", "Closed"),
    ("notifications_required", "Notifications required"),
    ("notifications_made", "Notifications made"),
    ("notifications_overdue", "Notifications overdue now"),
    ("notifications_late", "Notifications made late"),
)


def qr_payload(digest: str) -> str:
    """Exactly what the register's QR code encodes."""
    return f"DTR1 incident-register sha256:{digest}"


def incident_register_filename(generated_at: str) -> str:
    day = "".join(c for c in generated_at[:10] if c.isdigit())
    return f"incident-register-{day or 'undated'}.pdf"


def _closure(row: Mapping[str, Any]) -> str:
    if row.get("closed_at") is None:
        if row.get("contained_at") is not None:
            return f"contained {text(row['contained_at'])}: {text(row.get('containment'))}"
        return ""
    said = f"closed {text(row['closed_at'])} by {text(row.get('closed_by'))}: "
    said += text(row.get("closure"))
    if row.get("closure_justification"):
        said += f" (notification not made: {text(row['closure_justification'])})"
    return said


def render_incident_register(register: Mapping[str, Any], facility_name: str) -> bytes:
    """The register's PDF, the same bytes for the same register."""
    digest = register_digest(register)
    counts = register.get("counts", {})
    rows = list(register.get("incidents", []))
    facts = [
        ("Facility", facility_name),
        ("Generated", register.get("generated_at")),
        *((label, counts.get(name, 0)) for name, label in _COUNTS),
        ("Register digest (SHA-256)", digest),
    ]
    incidents = grid(
        ("Raised", "Kind, severity", "Title", "Source", "Status", "Containment and closure"),
        [
            (
                r.get("raised_at"),
                f"{text(r.get('kind'))}, {text(r.get('severity'))} ({text(r.get('category'))})",
                r.get("title"),
                text(r.get("source")).replace("_", " "),
                r.get("status"),
                _closure(r),
            )
            for r in rows
        ],
        [27 * mm, 28 * mm, 45 * mm, 22 * mm, 16 * mm, WIDTH - 138 * mm],
    )
    notifications = grid(
        ("Incident", "To", "Deadline", "Notified", "By", "Reference", "State"),
        [
            (
                r.get("title"),
                n.get("recipient"),
                n.get("deadline"),
                n.get("notified_at"),
                n.get("notified_by"),
                n.get("reference"),
                n.get("state"),
            )
            for r in rows
            for n in r.get("notifications", [])
        ],
        [40 * mm, 14 * mm, 27 * mm, 27 * mm, 18 * mm, 28 * mm, WIDTH - 154 * mm],
    )
    body = [
        Paragraph("<b>Incidents and vulnerabilities</b>", BODY),
        Spacer(1, 2 * mm),
        incidents if rows else Paragraph("The register is empty.", BODY),
        Spacer(1, 6 * mm),
        Paragraph("<b>Notifications</b>", BODY),
        Spacer(1, 2 * mm),
        notifications
        if any(r.get("notifications") for r in rows)
        else Paragraph("No notification is required or recorded.", BODY),
        Spacer(1, 5 * mm),
        Paragraph(
            "Deadlines come from the notification rules in force when each incident was raised "
            "(SEC Section G3: the Security Sub-Committee; key compromise also the SMKI PMA). "
            "'overdue' means not made by its deadline at the time this register was generated; "
            "'late' means made after it.",
            SMALL,
        ),
        Paragraph(
            escape(
                "The digest is the SHA-256 of the register's JSON (keys sorted, compact), "
                "as GET /api/v1/incident-register returns it at the same moment."
            ),
            SMALL,
        ),
    ]
    return render(
        SignedPage(
            title=f"Incident and vulnerability register of {text(facility_name)}",
            heading=f"Incident and vulnerability register: {text(facility_name)}",
            facts=facts,
            qr=qr_payload(digest),
            body=body,
            author=text(facility_name),
            digest=digest,
        )
    )
