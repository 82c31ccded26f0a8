"""The incident and vulnerability register (issue 20, SEC G3): incidents raised by hand or
automatically, deadlines from the rules kept as data, notifications, closure, overdue alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import (
    auditor,
    bench_operator,
    nobody,
    security_manager,
    supervisor,
)
from triage.domain.incident import OVERDUE_METRIC, IncidentStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref
from triage.services import incidents

SEC = security_manager()
TOOL = Ref("tool", "T-1")


def _automatic(factory: FakeUnitOfWorkFactory, source: str, subject: Ref = TOOL) -> str | None:
    with factory(write=True) as uow:
        found = incidents.raise_automatic(
            uow, source, subject, "suspended by the anomaly check", {"alert_id": "a-1"}
        )
        uow.commit()
    return found


def _rules(factory: FakeUnitOfWorkFactory, sources: str, notifications: str) -> None:
    text = f"""
version: test-1
recipients: {{ssc: Security Sub-Committee, smki_pma: SMKI PMA}}
categories: [tool_compromise, key_compromise, insider, physical_tamper, ledger_integrity,
             software_vulnerability, other]
sources:
{sources}
notifications:
{notifications}
"""
    incidents.change_rules(factory, SEC, text)


ALL_SOURCES = """
  tool_suspended: {severity: high, category: tool_compromise}
  operator_suspended: null
  seal_discrepancy: {severity: low, category: physical_tamper}
  suspicious_quarantine: {severity: low, category: physical_tamper}
  checkpoint_refused: {severity: critical, category: ledger_integrity}
"""


def test_a_tool_suspension_is_registered_with_its_deadline_from_the_default_rules(
    factory: FakeUnitOfWorkFactory,
) -> None:
    raised_at = factory.clock.now()
    incident_id = _automatic(factory, "tool_suspended")
    assert incident_id is not None
    found = incidents.show(factory, auditor(), incident_id).incident
    assert (found.source, found.severity.value, found.category) == (
        "tool_suspended",
        "high",
        "tool_compromise",
    )
    assert (found.about_kind, found.about_id, found.status) == ("tool", "T-1", IncidentStatus.OPEN)
    assert found.detail == {"alert_id": "a-1"}
    [ssc] = found.notifications
    assert ssc.recipient == "ssc" and ssc.deadline == raised_at + timedelta(hours=72)
    [entry] = [e for e in factory.entries() if e.type == "incident.raised"]
    assert entry.subject == Ref("incident", incident_id)
    assert entry.actor == Ref("system", "incident-register")
    assert entry.data["rules_version"] == "2026.12-default"


def test_an_open_incident_about_the_same_subject_is_not_raised_again(
    factory: FakeUnitOfWorkFactory,
) -> None:
    first = _automatic(factory, "tool_suspended")
    assert _automatic(factory, "tool_suspended") is None
    other = _automatic(factory, "tool_suspended", Ref("tool", "T-2"))
    assert other is not None and other != first
    assert first is not None
    incidents.close(factory, SEC, first, "tool replaced", justification="false alarm")
    assert _automatic(factory, "tool_suspended") is not None  # a closed one does not count


def test_a_source_the_rules_map_to_nothing_raises_no_incident(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _rules(factory, ALL_SOURCES, "  - notify: {ssc: 10}")
    assert _automatic(factory, "operator_suspended", Ref("operator", "op")) is None
    assert not [e for e in factory.entries() if e.type == "incident.raised"]
    with pytest.raises(ValueError, match="unknown incident source"):
        _automatic(factory, "coffee_spilt")


def test_key_compromise_needs_the_ssc_and_the_smki_pma(factory: FakeUnitOfWorkFactory) -> None:
    raised_at = factory.clock.now()
    found = incidents.raise_incident(
        factory,
        bench_operator(),
        title="Signing key copied",
        summary="the bench signing key was found on a USB stick",
        severity="high",
        category="key_compromise",
    )
    deadlines = {n.recipient: n.deadline for n in found.notifications}
    assert deadlines == {
        "ssc": raised_at + timedelta(hours=24),
        "smki_pma": raised_at + timedelta(hours=24),
    }
    assert found.source == "manual" and found.raised_by == "op"


def test_facility_rules_change_the_deadlines_of_incidents_raised_after(
    factory: FakeUnitOfWorkFactory,
) -> None:
    before = _automatic(factory, "tool_suspended")
    _rules(factory, ALL_SOURCES, "  - when: {severity: [high, critical]}\n    notify: {ssc: 6}")
    after = _automatic(factory, "tool_suspended", Ref("tool", "T-9"))
    assert before is not None and after is not None
    old = incidents.show(factory, SEC, before).incident
    new = incidents.show(factory, SEC, after).incident
    assert old.notifications[0].deadline == old.raised_at + timedelta(hours=72)
    assert new.notifications[0].deadline == new.raised_at + timedelta(hours=6)
    assert new.rules_version == "test-1"
    assert not incidents.rules(factory, auditor()).is_default


def test_bad_rules_are_refused_with_what_is_wrong(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput, match="sources: say what") as refused:
        incidents.change_rules(factory, SEC, "version: 1\nrecipients: {ssc: S}\ncategories: [x]")
    assert refused.value.field == "rules"
    with pytest.raises(PermissionDenied):
        incidents.change_rules(factory, supervisor(), "version: 1")
    assert incidents.rules(factory, auditor()).is_default


def test_notify_once_per_recipient_then_close(factory: FakeUnitOfWorkFactory) -> None:
    incident_id = _automatic(factory, "tool_suspended")
    assert incident_id is not None
    with pytest.raises(Conflict, match="still needs its notification to ssc"):
        incidents.close(factory, SEC, incident_id, "tool replaced")
    factory.clock.advance(timedelta(hours=1))
    notified = incidents.notify(factory, SEC, incident_id, "ssc", "SSC-2026-041")
    [ssc] = notified.notifications
    assert (ssc.notified_by, ssc.reference, ssc.notified_at) == (
        "sec",
        "SSC-2026-041",
        factory.clock.now(),
    )
    with pytest.raises(Conflict, match="already recorded"):
        incidents.notify(factory, SEC, incident_id, "ssc", "again")
    contained = incidents.contain(factory, SEC, incident_id, "tool taken off the bench")
    assert contained.status is IncidentStatus.CONTAINED
    with pytest.raises(Conflict, match="already contained"):
        incidents.contain(factory, SEC, incident_id, "again")
    closed = incidents.close(factory, SEC, incident_id, "tool re-imaged and re-enrolled")
    assert (closed.status, closed.closed_by, closed.closure_justification) == (
        IncidentStatus.CLOSED,
        "sec",
        None,
    )
    with pytest.raises(Conflict, match="is closed"):
        incidents.close(factory, SEC, incident_id, "again")
    with pytest.raises(Conflict, match="is closed"):
        incidents.notify(factory, SEC, incident_id, "smki_pma", "late")
    types = [e.type for e in factory.entries() if e.subject == Ref("incident", incident_id)]
    assert types == [
        "incident.raised",
        "incident.notified",
        "incident.contained",
        "incident.closed",
    ]


def test_closing_without_a_notification_keeps_the_justification(
    factory: FakeUnitOfWorkFactory,
) -> None:
    incident_id = _automatic(factory, "tool_suspended")
    assert incident_id is not None
    closed = incidents.close(
        factory, SEC, incident_id, "false positive", justification="SSC agreed by phone not needed"
    )
    assert closed.closure_justification == "SSC agreed by phone not needed"
    [entry] = [e for e in factory.entries() if e.type == "incident.closed"]
    assert entry.data["missing"] == ["ssc"]


def test_notification_input_is_checked(factory: FakeUnitOfWorkFactory) -> None:
    incident_id = _automatic(factory, "tool_suspended")
    assert incident_id is not None
    with pytest.raises(InvalidInput) as refused:
        incidents.notify(factory, SEC, incident_id, "the press", "x")
    assert refused.value.field == "recipient"
    with pytest.raises(InvalidInput) as refused:
        incidents.notify(factory, SEC, incident_id, "ssc", "  ")
    assert refused.value.field == "reference"
    future = factory.clock.now() + timedelta(hours=1)
    with pytest.raises(InvalidInput) as refused:
        incidents.notify(factory, SEC, incident_id, "ssc", "R1", notified_at=future)
    assert refused.value.field == "notified_at"
    with pytest.raises(NotFound):
        incidents.notify(factory, SEC, "no-such", "ssc", "R1")
    # A recipient the rules did not require may still be recorded (no deadline).
    done = incidents.notify(factory, SEC, incident_id, "smki_pma", "PMA-7")
    pma = done.notification("smki_pma")
    assert pma is not None and pma.deadline is None and pma.done


def test_who_may_do_what(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        incidents.raise_incident(
            factory, auditor(), title="t", summary="s", severity="low", category="other"
        )
    found = incidents.raise_incident(
        factory, supervisor(), title="t", summary="s", severity="low", category="other"
    )
    sup = supervisor()
    with pytest.raises(PermissionDenied):
        incidents.notify(factory, sup, found.id, "ssc", "R")
    with pytest.raises(PermissionDenied):
        incidents.contain(factory, sup, found.id, "x")
    with pytest.raises(PermissionDenied):
        incidents.close(factory, sup, found.id, "x", "y")
    with pytest.raises(PermissionDenied):
        incidents.change_severity(factory, sup, found.id, "high", "worse")
    with pytest.raises(PermissionDenied):
        incidents.change_rules(factory, sup, "version: 1")
    with pytest.raises(PermissionDenied):
        incidents.register(factory, bench_operator())
    with pytest.raises(PermissionDenied):
        incidents.show(factory, nobody(), found.id)
    assert incidents.register(factory, auditor()).total == 1


def test_the_categories_offered_to_who_reports_are_the_rules(
    factory: FakeUnitOfWorkFactory,
) -> None:
    offered = incidents.categories(factory, bench_operator())
    assert "key_compromise" in offered and "tool_compromise" in offered
    _rules(factory, ALL_SOURCES, "  - notify: {ssc: 10}")
    assert "data_breach" not in incidents.categories(factory, bench_operator())
    with pytest.raises(PermissionDenied):
        incidents.categories(factory, auditor())


def test_manual_input_is_checked(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput) as refused:
        incidents.raise_incident(
            factory, SEC, title="t", summary="s", severity="apocalyptic", category="other"
        )
    assert refused.value.field == "severity"
    with pytest.raises(InvalidInput) as refused:
        incidents.raise_incident(
            factory, SEC, title="t", summary="s", severity="low", category="gossip"
        )
    assert refused.value.field == "category"
    with pytest.raises(InvalidInput) as refused:
        incidents.raise_incident(
            factory, SEC, title="", summary="s", severity="low", category="other"
        )
    assert refused.value.field == "title"
    assert "incident.raised" not in factory.entry_types()


def test_a_vulnerability_is_recorded_with_component_reference_and_due_date(
    factory: FakeUnitOfWorkFactory,
) -> None:
    due = (factory.clock.now() + timedelta(days=30)).date()
    found = incidents.record_vulnerability(
        factory,
        SEC,
        title="OpenSSL in the bench agent",
        summary="CVE in the TLS library",
        severity="high",
        component="bench agent 1.4",
        reference="CVE-2026-0001",
        remediation_due=due,
    )
    assert (found.kind.value, found.component, found.reference, found.remediation_due) == (
        "vulnerability",
        "bench agent 1.4",
        "CVE-2026-0001",
        due,
    )
    assert [n.recipient for n in found.notifications] == ["ssc"]
    page = incidents.register(factory, auditor(), kind="vulnerability")
    assert [i.id for i in page.incidents] == [found.id]
    assert incidents.register(factory, auditor(), kind="incident").total == 0
    with pytest.raises(InvalidInput) as refused:
        incidents.record_vulnerability(
            factory,
            SEC,
            title="t",
            summary="s",
            severity="low",
            component="c",
            remediation_due=(factory.clock.now() - timedelta(days=1)).date(),
        )
    assert refused.value.field == "remediation_due"


def test_a_higher_severity_adds_the_notifications_it_needs(factory: FakeUnitOfWorkFactory) -> None:
    found = incidents.raise_incident(
        factory, SEC, title="t", summary="s", severity="low", category="other"
    )
    assert found.notifications == ()  # the default rules need no notification of a low one
    factory.clock.advance(timedelta(hours=2))
    changed = incidents.change_severity(factory, SEC, found.id, "critical", "data left the site")
    [ssc] = changed.notifications
    assert ssc.deadline == found.raised_at + timedelta(hours=24)  # counted from its raising
    with pytest.raises(InvalidInput, match="already critical"):
        incidents.change_severity(factory, SEC, found.id, "critical", "again")


def test_an_overdue_notification_raises_exactly_one_alert(factory: FakeUnitOfWorkFactory) -> None:
    incident_id = _automatic(factory, "tool_suspended")
    assert incident_id is not None
    assert incidents.sweep(factory) == []
    factory.clock.advance(timedelta(hours=72))  # at the deadline: still in time
    assert incidents.sweep(factory) == []
    assert incidents.register(factory, auditor(), overdue=True).total == 0
    factory.clock.advance(timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        incidents.sweep(factory, caller=auditor())
    [alert_id] = incidents.sweep(factory, caller=SEC)
    assert incidents.sweep(factory) == []  # once
    [alert] = [e for e in factory.entries() if e.type == "alert.raised"]
    assert alert.subject == Ref("incident", incident_id)
    assert (alert.data["alert_id"], alert.data["metric"], alert.data["recipient"]) == (
        alert_id,
        OVERDUE_METRIC,
        "ssc",
    )
    page = incidents.register(factory, auditor(), overdue=True)
    assert [i.id for i in page.incidents] == [incident_id]
    assert page.incidents[0].overdue(page.at)[0].overdue_alert_id == alert_id
    # A notification recorded late is shown as late; it no longer counts as overdue.
    done = incidents.notify(factory, SEC, incident_id, "ssc", "SSC-9")
    assert done.notifications[0].late and not done.overdue(factory.clock.now())


def test_a_closed_incident_raises_no_overdue_alert(factory: FakeUnitOfWorkFactory) -> None:
    incident_id = _automatic(factory, "tool_suspended")
    assert incident_id is not None
    incidents.close(factory, SEC, incident_id, "gone", justification="duplicate of another")
    factory.clock.advance(timedelta(days=10))
    assert incidents.sweep(factory) == []


def test_the_register_filters(factory: FakeUnitOfWorkFactory) -> None:
    a = _automatic(factory, "tool_suspended")
    factory.clock.advance(timedelta(minutes=1))
    b = _automatic(factory, "seal_discrepancy", Ref("seal", "S-1"))
    page = incidents.register(factory, auditor())
    assert [i.id for i in page.incidents] == [b, a]  # newest first
    assert [i.id for i in incidents.register(factory, auditor(), severity="high").incidents] == [a]
    assert incidents.register(factory, auditor(), source="seal_discrepancy").total == 1
    assert incidents.register(factory, auditor(), status="closed").total == 0
    with pytest.raises(InvalidInput) as refused:
        incidents.register(factory, auditor(), source="rumour")
    assert refused.value.field == "source"
