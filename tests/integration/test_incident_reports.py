"""The incident register's sources and outputs on both databases (issue 20, E): each automatic
source raises one incident in the transaction of its event (an event rolled back raises none);
the register exported as CSV and PDF through the API for whom may read it; the register as
observations of the OSCAL assessment results; replay agrees."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from pypdf import PdfReader
from trestle.oscal.assessment_results import AssessmentResults

from tests.integration.conftest import Staffed
from tests.people import enrol
from triage.adapters.replay import replay_check
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.errors import IntegrityFailure
from triage.ledger.entry import Entry
from triage.services import (
    assessment,
    incident_reports,
    ledger,
    operators,
    oscal_export,
    seals,
    tools,
)

D1 = "BC-33-AC-FF-FE-FA-58-01"
D2 = "BC-33-AC-FF-FE-FA-58-02"
BREACHED = {"metrology_seal_intact": True, "cpa_boundary_intact": False}


def _sources(staffed: Staffed) -> list[tuple[str, str, str]]:
    return [
        (e.data["source"], e.data["about_kind"], e.data["about_id"])
        for e in staffed.entries("incident.raised")
    ]


def _security(staffed: Staffed) -> Caller:
    operators.create_operator(
        staffed.app.uow, Caller.system("test"), "sam", "Sam", frozenset({Role.SECURITY_MANAGER})
    )
    return operators.operator_caller(staffed.app.uow, "sam")


def test_each_source_raises_one_incident_with_its_event(staffed: Staffed) -> None:
    app = staffed.app
    sam = _security(staffed)

    # A suspension rolled back raises nothing.
    with app.uow(write=True) as uow:
        tools.record_tool_suspension(uow, sam, "BENCH-1", "rolled back: never committed")
    assert _sources(staffed) == []

    tools.suspend_tool(app.uow, sam, "BENCH-1", "lost track of it on the bench")
    staffed.manifest("C-1", [D1])
    staffed.receive(D1, BREACHED)
    seals.lose(app.uow, staffed.ben, "SL-0002", "dropped behind the bench")
    seals.record_reconciliation(app.uow, sam, "facility")
    seals.record_reconciliation(app.uow, sam, "facility")  # still open: no second incident
    ledger.record_refusal(app.uow, IntegrityFailure("entry 3 was rewritten", 3))

    assert _sources(staffed) == [
        ("tool_suspended", "tool", "BENCH-1"),
        ("suspicious_quarantine", "device", D1),
        ("seal_discrepancy", "seal_scope", "facility"),
        ("checkpoint_refused", "ledger", app.facility.id),
    ]
    # each in the transaction of its event: the entry right before it is the event's
    with app.uow(write=False) as uow:
        types = [
            Entry.from_bytes(d).type
            for batch in uow.ledger.storage.read_entries(0, 2**62)
            for _, d in batch
        ]
    before = [types[i - 1] for i, t in enumerate(types) if t == "incident.raised"]
    assert before == [
        "tool.suspended",
        "device.decided",
        "seal.reconciled",
        "ledger.checkpoint_refused",
    ]
    register = incident_reports.register(app.uow, staffed.auditor).to_json()
    assert register["counts"]["incidents"] == 4
    assert all(i["notifications"] for i in register["incidents"])
    assert replay_check(app.database, app.facility.id).differences == []


def test_the_register_is_exported_as_csv_and_pdf_for_whom_may_read_it(staffed: Staffed) -> None:
    app = staffed.app
    sam = _security(staffed)
    tools.suspend_tool(app.uow, sam, "BENCH-1", "=cmd|' /C calc'!A0 typed as the reason")
    auditor = enrol(app, staffed.admin, "aud2", [Role.AUDITOR])
    bench = enrol(app, staffed.admin, "bob", [Role.BENCH_OPERATOR])
    with TestClient(create_app(app)) as client:
        refused = client.get(
            "/api/v1/incident-register.csv", headers={"Authorization": f"Bearer {bench.token}"}
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        read = {"Authorization": f"Bearer {auditor.token}"}
        as_csv = client.get("/api/v1/incident-register.csv", headers=read)
        as_pdf = client.get("/api/v1/incident-register.pdf", headers=read)
        as_json = client.get("/api/v1/incident-register", headers=read)

    assert as_csv.status_code == 200, as_csv.text
    assert 'filename="incident-register-' in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    header = rows.index(list(incident_reports.CSV_COLUMNS))
    [row] = [dict(zip(incident_reports.CSV_COLUMNS, r, strict=True)) for r in rows[header + 1 :]]
    assert (row["source"], row["about"], row["recipient"]) == (
        "tool_suspended",
        "tool BENCH-1",
        "ssc",
    )
    assert row["deadline"] and row["overdue"] == "no"
    assert "=cmd" not in [c[:4] for r in rows for c in r]  # no cell starts a formula

    assert as_pdf.status_code == 200
    assert as_pdf.headers["content-type"] == "application/pdf"
    text = " ".join(
        " ".join((p.extract_text() or "").split())
        for p in PdfReader(io.BytesIO(as_pdf.content)).pages
    )
    assert "Tool suspended: tool BENCH-1" in text
    assert "Notifications required: 1" in text
    assert as_json.json()["counts"]["incidents"] == 1


def test_the_register_is_observed_in_the_assessment_results(staffed: Staffed) -> None:
    app = staffed.app
    sam = _security(staffed)
    tools.suspend_tool(app.uow, sam, "BENCH-1", "lost track of it on the bench")
    plan = assessment.plan(app.uow, sam, "FUSA", "Acme Assurance", "the facility", "2026-01-05")

    document = oscal_export.assessment_results(
        app.uow, staffed.auditor, plan.id, app.oscal, app.facility
    )

    results = AssessmentResults.model_validate(document["assessment-results"])
    observations = results.results[0].observations or []
    [observed] = [o for o in observations if (o.title or "").startswith("Incident:")]
    props = {p.name: p.value for p in observed.props or []}
    assert (props["incident-source"], props["notification-recipient"]) == (
        "tool_suspended",
        "ssc",
    )
    assert observed.collected <= datetime.now(UTC)
