"""The incident register as an assessor reads it (issue 20, E): JSON, CSV and the PDF's input,
against the fake unit of work; who may read it; what is overdue, late and closed."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import auditor, bench_operator, nobody, security_manager
from triage.errors import PermissionDenied
from triage.ledger.entry import Ref
from triage.services import incident_reports, incidents
from triage.services.ports import Document

SEC = security_manager()


class FakePrinter:
    """``RegisterPrinter`` that keeps what it was asked to print."""

    def __init__(self) -> None:
        self.given: list[tuple[Mapping[str, Any], str]] = []

    def incident_register(self, register: Mapping[str, Any], facility_name: str) -> Document:
        self.given.append((register, facility_name))
        return Document(b"%PDF-fake", "incident-register.pdf")


def _populated(factory: FakeUnitOfWorkFactory) -> tuple[str, str]:
    """A tool suspension notified late to the SSC, and a vulnerability whose title a
    spreadsheet would run as a formula, closed without its notification."""
    with factory(write=True) as uow:
        suspension = incidents.raise_automatic(
            uow, "tool_suspended", Ref("tool", "T-1"), "anomaly: too many resets", None
        )
        uow.commit()
    assert suspension is not None
    factory.clock.advance(timedelta(minutes=1))
    vulnerability = incidents.record_vulnerability(
        factory,
        SEC,
        title='=HYPERLINK("http://evil")',
        summary="A formula in a title must stay text",
        severity="high",
        component="bench agent",
    )
    factory.clock.advance(timedelta(hours=80))  # past the SSC's 72 hours for a high incident
    incidents.notify(factory, SEC, suspension, "ssc", "SSC-2026-17")
    incidents.close(
        factory,
        SEC,
        vulnerability.id,
        "Upgraded on every bench",
        justification="The SSC said this needs no notification",
    )
    return suspension, vulnerability.id


def test_the_register_says_what_was_notified_late_and_what_was_closed_without(
    factory: FakeUnitOfWorkFactory,
) -> None:
    suspension, vulnerability = _populated(factory)

    found = incident_reports.register(factory, auditor()).to_json()

    by_id = {r["id"]: r for r in found["incidents"]}
    [ssc] = by_id[suspension]["notifications"]
    assert (ssc["recipient"], ssc["reference"], ssc["state"], ssc["late"]) == (
        "ssc",
        "SSC-2026-17",
        "late",
        True,
    )
    closed = by_id[vulnerability]
    assert closed["status"] == "closed"
    assert closed["closure_justification"] == "The SSC said this needs no notification"
    assert all(not n["overdue"] for n in closed["notifications"])
    assert found["counts"]["incidents"] == 1 and found["counts"]["vulnerabilities"] == 1
    assert found["counts"]["notifications_late"] == 1
    assert found["counts"]["notifications_overdue"] == 0
    assert [r["id"] for r in found["incidents"]] == [suspension, vulnerability]  # oldest first


def test_an_overdue_notification_is_flagged_in_the_register_and_the_csv(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with factory(write=True) as uow:
        incident_id = incidents.raise_automatic(
            uow, "checkpoint_refused", Ref("ledger", "unit"), "refused", None
        )
        uow.commit()
    factory.clock.advance(timedelta(hours=25))  # the SSC's 24 hours for a critical incident

    found = incident_reports.register(factory, SEC).to_json()
    [row] = found["incidents"]
    assert (row["id"], row["overdue"], row["notifications"][0]["state"]) == (
        incident_id,
        True,
        "overdue",
    )
    assert found["counts"]["notifications_overdue"] == 1

    text, filename = incident_reports.register_csv(factory, SEC)
    assert filename.startswith("incident-register-") and filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows.index(list(incident_reports.CSV_COLUMNS))
    assert ["# notifications overdue", "1"] in rows[:header]
    [data] = rows[header + 1 :]
    record = dict(zip(incident_reports.CSV_COLUMNS, data, strict=True))
    assert (record["incident_id"], record["recipient"], record["overdue"]) == (
        incident_id,
        "ssc",
        "yes",
    )
    assert record["notification_state"] == "overdue"
    assert record["source"] == "checkpoint_refused"


def test_the_csv_keeps_a_formula_as_text_and_lists_each_notification(
    factory: FakeUnitOfWorkFactory,
) -> None:
    suspension, vulnerability = _populated(factory)

    text, _ = incident_reports.register_csv(factory, auditor())

    rows = list(csv.reader(io.StringIO(text)))
    header = rows.index(list(incident_reports.CSV_COLUMNS))
    records = [dict(zip(incident_reports.CSV_COLUMNS, r, strict=True)) for r in rows[header + 1 :]]
    titles = {r["incident_id"]: r["title"] for r in records}
    assert titles[vulnerability] == '\'=HYPERLINK("http://evil")'
    late = next(r for r in records if r["incident_id"] == suspension)
    assert (late["notification_reference"], late["notification_state"]) == ("SSC-2026-17", "late")
    closed = next(r for r in records if r["incident_id"] == vulnerability)
    assert closed["closure"] == "Upgraded on every bench"
    assert closed["closure_justification"] == "The SSC said this needs no notification"


def test_the_pdf_is_printed_from_the_register_json(factory: FakeUnitOfWorkFactory) -> None:
    _populated(factory)
    printer = FakePrinter()

    document = incident_reports.register_pdf(factory, auditor(), printer, "Demo Facility")

    assert document.content == b"%PDF-fake"
    [(given, name)] = printer.given
    assert name == "Demo Facility"
    assert given == incident_reports.register(factory, auditor()).to_json()


@pytest.mark.parametrize("caller", [nobody(), bench_operator()])
def test_only_who_reads_the_register_may_export_it(
    factory: FakeUnitOfWorkFactory, caller: Any
) -> None:
    _populated(factory)
    with pytest.raises(PermissionDenied, match=r"incident\.read"):
        incident_reports.register(factory, caller)
    with pytest.raises(PermissionDenied):
        incident_reports.register_csv(factory, caller)
    with pytest.raises(PermissionDenied):
        incident_reports.register_pdf(factory, caller, FakePrinter(), "Demo Facility")


def test_the_digest_is_of_the_registers_json_as_the_api_returns_it(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _populated(factory)
    found = incident_reports.register(factory, auditor())
    document = found.to_json()
    compact = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(compact.encode("utf-8")).hexdigest()
    assert incident_reports.register_digest(document) == found.digest() == expected
    changed = {**document, "counts": {**document["counts"], "open": 99}}
    assert incident_reports.register_digest(changed) != expected
