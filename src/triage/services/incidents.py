"""The incident and vulnerability register (issue 20, SEC Section G3).

Incidents are raised by hand (``incident.report``) or automatically by the services that see
them happen (``raise_automatic``, in the caller's transaction), and vulnerabilities are
recorded; the notification rules in force (the packaged default, or the facility's own,
recorded in the ledger) give each its severity and category when raised automatically, and the
notifications it needs with their deadlines. The security manager (``incident.manage``) records
each notification made (to whom, when, the recipient's reference), changes the severity,
contains and closes; closing is refused while a required notification is missing unless a
justification is given, which the register keeps. ``sweep`` raises one alert for each
notification past its deadline. Every change is a ledger entry in the same transaction.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from triage.domain.caller import Caller
from triage.domain.incident import (
    AUTOMATIC_SOURCES,
    MANUAL,
    OVERDUE_METRIC,
    SOURCES,
    Incident,
    IncidentKind,
    IncidentRules,
    IncidentStatus,
    RulesError,
    Severity,
)
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref, format_time
from triage.services.common import make_entry, record_and_reload
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

RAISED = "incident.raised"
SEVERITY_CHANGED = "incident.severity_changed"
NOTIFIED = "incident.notified"
CONTAINED = "incident.contained"
CLOSED = "incident.closed"
RULES_CHANGED = "incident.rules_changed"

REGISTER = Caller.system("incident-register")
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_REFERENCE = 200
MAX_PAGE = 500
_SOURCE_TITLES = {
    "tool_suspended": "Tool suspended",
    "operator_suspended": "Operator suspended",
    "seal_discrepancy": "Seal discrepancy",
    "suspicious_quarantine": "Suspicious quarantine",
    "checkpoint_refused": "Ledger checkpoint refused",
}


def _text(value: str, field: str, longest: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > longest:
        raise InvalidInput(f"{field}: 1-{longest} characters", field=field)
    return cleaned


def _enum(value: str, enum: type[Any], field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(f"{field}: one of {allowed}", field=field) from None


def incident_ref(incident_id: str) -> Ref:
    return Ref("incident", incident_id)


# -- the rules in force ------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> IncidentRules:
    return IncidentRules.load(text)


def rules_in_force(uow: UnitOfWork) -> IncidentRules:
    """The facility's recorded notification rules, or the packaged default."""
    text = uow.incidents.rules_text()
    return uow.packaged.incident_rules() if text is None else _parsed(text)


@dataclass(frozen=True)
class RulesInForce:
    rules: IncidentRules
    is_default: bool


def rules(uow_factory: UnitOfWorkFactory, caller: Caller) -> RulesInForce:
    """The notification rules in force, and whether they are the packaged default."""
    caller.require(Permission.INCIDENT_READ)
    with uow_factory(write=False) as uow:
        return RulesInForce(rules_in_force(uow), uow.incidents.rules_text() is None)


def change_rules(
    uow_factory: UnitOfWorkFactory, caller: Caller, text: str | bytes
) -> IncidentRules:
    """Record the facility's own notification rules (YAML); they apply to incidents raised
    from now on (an incident keeps the deadlines it was raised with)."""
    caller.require(Permission.INCIDENT_MANAGE)
    try:
        parsed = IncidentRules.load(text)
    except RulesError as exc:
        raise InvalidInput(f"rules: {exc}", field="rules") from None
    with uow_factory(write=True) as uow:
        if rules_in_force(uow).sha256 == parsed.sha256:
            raise InvalidInput("rules: these are already the rules in force", field="rules")
        data = {"version": parsed.version, "sha256": parsed.sha256, "text": parsed.text}
        entry = make_entry(uow, caller, RULES_CHANGED, Ref("facility", uow.facility_id), data)
        uow.ledger.record([entry])
        uow.commit()
    return parsed


# -- raising -----------------------------------------------------------------------------------


def _raise(
    uow: UnitOfWork,
    caller: Caller,
    rules: IncidentRules,
    *,
    kind: IncidentKind,
    source: str,
    severity: Severity,
    category: str,
    title: str,
    summary: str,
    extra: Mapping[str, Any],
) -> tuple[str, Any]:
    incident_id = str(uuid.uuid4())
    at = uow.clock.now()
    required = rules.required(kind, category, severity, at)
    data: dict[str, Any] = {
        "kind": kind.value,
        "source": source,
        "severity": severity.value,
        "category": category,
        "title": title,
        "summary": summary,
        "rules_version": rules.version,
        "notifications": [r.to_json() for r in required],
        **extra,
    }
    return incident_id, make_entry(uow, caller, RAISED, incident_ref(incident_id), data, at)


def raise_automatic(
    uow: UnitOfWork,
    source: str,
    subject: Ref,
    summary: str,
    detail: Mapping[str, Any] | None = None,
) -> str | None:
    """Raise an incident from an automatic ``source`` about ``subject`` in the caller's open
    transaction (the caller commits): severity, category and notification deadlines from the
    rules in force. None when the rules say the source raises nothing, or when an incident
    from that source about that subject is still open (no duplicates)."""
    if source not in AUTOMATIC_SOURCES:
        raise ValueError(f"unknown incident source {source!r}")
    rules = rules_in_force(uow)
    rule = rules.for_source(source)
    if rule is None or uow.incidents.open_for(source, subject.kind, subject.id) is not None:
        return None
    extra: dict[str, Any] = {"about_kind": subject.kind, "about_id": subject.id}
    if detail is not None:
        extra["detail"] = dict(detail)
    incident_id, entry = _raise(
        uow,
        REGISTER,
        rules,
        kind=IncidentKind.INCIDENT,
        source=source,
        severity=rule.severity,
        category=rule.category,
        title=f"{_SOURCE_TITLES[source]}: {subject.kind} {subject.id}"[:MAX_TITLE],
        summary=(summary.strip() or _SOURCE_TITLES[source])[:MAX_TEXT],
        extra=extra,
    )
    uow.ledger.record([entry])
    return incident_id


def raise_incident(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    title: str,
    summary: str,
    severity: str,
    category: str,
) -> Incident:
    """Raise an incident by hand."""
    caller.require(Permission.INCIDENT_REPORT)
    checked = _text(title, "title", MAX_TITLE), _text(summary, "summary", MAX_TEXT)
    level = _enum(severity, Severity, "severity")
    with uow_factory(write=True) as uow:
        rules = rules_in_force(uow)
        _category(rules, category)
        incident_id, entry = _raise(
            uow,
            caller,
            rules,
            kind=IncidentKind.INCIDENT,
            source=MANUAL,
            severity=level,
            category=category,
            title=checked[0],
            summary=checked[1],
            extra={},
        )
        return record_and_reload(uow, [entry], lambda: uow.incidents.get(incident_id))


def record_vulnerability(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    title: str,
    summary: str,
    severity: str,
    component: str,
    reference: str | None = None,
    remediation_due: date | None = None,
    category: str = "software_vulnerability",
) -> Incident:
    """Record a vulnerability: the affected component, its CVE or other reference, and by when
    it must be remedied."""
    caller.require(Permission.INCIDENT_REPORT)
    checked = _text(title, "title", MAX_TITLE), _text(summary, "summary", MAX_TEXT)
    level = _enum(severity, Severity, "severity")
    extra: dict[str, Any] = {"component": _text(component, "component", 200)}
    if reference is not None and reference.strip():
        extra["reference"] = _text(reference, "reference", 100)
    with uow_factory(write=True) as uow:
        if remediation_due is not None:
            if remediation_due < uow.clock.now().date():
                raise InvalidInput("remediation_due: not in the past", "remediation_due")
            extra["remediation_due"] = remediation_due.isoformat()
        rules = rules_in_force(uow)
        _category(rules, category)
        incident_id, entry = _raise(
            uow,
            caller,
            rules,
            kind=IncidentKind.VULNERABILITY,
            source=MANUAL,
            severity=level,
            category=category,
            title=checked[0],
            summary=checked[1],
            extra=extra,
        )
        return record_and_reload(uow, [entry], lambda: uow.incidents.get(incident_id))


def _category(rules: IncidentRules, category: str) -> None:
    if category not in rules.categories:
        allowed = ", ".join(rules.categories)
        raise InvalidInput(f"category: one of {allowed}", field="category")


# -- managing ----------------------------------------------------------------------------------


def _get(uow: UnitOfWork, incident_id: str) -> Incident:
    found = uow.incidents.get(incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id!r}")
    return found


def _open(uow: UnitOfWork, incident_id: str, doing: str) -> Incident:
    found = _get(uow, incident_id)
    if found.status is IncidentStatus.CLOSED:
        raise Conflict(f"incident {incident_id} is closed: it cannot be {doing}")
    return found


def change_severity(
    uow_factory: UnitOfWorkFactory, caller: Caller, incident_id: str, severity: str, reason: str
) -> Incident:
    """Change an incident's severity: the notifications not yet made are required again by the
    rules in force for the new severity, with deadlines counted from its raising."""
    caller.require(Permission.INCIDENT_MANAGE)
    level = _enum(severity, Severity, "severity")
    why = _text(reason, "reason", MAX_TEXT)
    with uow_factory(write=True) as uow:
        found = _open(uow, incident_id, "changed")
        if found.severity is level:
            raise InvalidInput(f"severity: it is already {level.value}", field="severity")
        made = {n.recipient for n in found.notifications if n.done}
        required = rules_in_force(uow).required(found.kind, found.category, level, found.raised_at)
        data = {
            "severity": level.value,
            "previous": found.severity.value,
            "reason": why,
            "notifications": [r.to_json() for r in required if r.recipient not in made],
        }
        entry = make_entry(uow, caller, SEVERITY_CHANGED, incident_ref(incident_id), data)
        return record_and_reload(uow, [entry], lambda: uow.incidents.get(incident_id))


def notify(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    incident_id: str,
    recipient: str,
    reference: str,
    notified_at: datetime | None = None,
) -> Incident:
    """Record that ``recipient`` was notified (at ``notified_at``, default now) and the
    reference it gave; once per recipient."""
    caller.require(Permission.INCIDENT_MANAGE)
    ref = _text(reference, "reference", MAX_REFERENCE)
    with uow_factory(write=True) as uow:
        now = uow.clock.now()
        found = _open(uow, incident_id, "notified")
        recipients = rules_in_force(uow).recipients
        if recipient not in recipients and found.notification(recipient) is None:
            allowed = ", ".join(recipients)
            raise InvalidInput(f"recipient: one of {allowed}", field="recipient")
        made = found.notification(recipient)
        if made is not None and made.done:
            raise Conflict(
                f"the notification of incident {incident_id} to {recipient} was already "
                f"recorded ({made.reference}, by {made.notified_by})"
            )
        when = now if notified_at is None else notified_at
        if when.tzinfo is None:
            raise InvalidInput("notified_at: a time with its zone", field="notified_at")
        if when > now or when < found.raised_at:
            raise InvalidInput(
                "notified_at: between the incident's raising and now", field="notified_at"
            )
        data = {"recipient": recipient, "notified_at": format_time(when), "reference": ref}
        entry = make_entry(uow, caller, NOTIFIED, incident_ref(incident_id), data, now)
        return record_and_reload(uow, [entry], lambda: uow.incidents.get(incident_id))


def contain(
    uow_factory: UnitOfWorkFactory, caller: Caller, incident_id: str, text: str
) -> Incident:
    """Record what contained an open incident (or mitigated a vulnerability)."""
    caller.require(Permission.INCIDENT_MANAGE)
    what = _text(text, "text", MAX_TEXT)
    with uow_factory(write=True) as uow:
        found = _open(uow, incident_id, "contained")
        if found.status is not IncidentStatus.OPEN:
            raise Conflict(f"incident {incident_id} is already {found.status.value}")
        entry = make_entry(uow, caller, CONTAINED, incident_ref(incident_id), {"text": what})
        return record_and_reload(uow, [entry], lambda: uow.incidents.get(incident_id))


def close(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    incident_id: str,
    text: str,
    justification: str | None = None,
) -> Incident:
    """Close an incident with what was done. Refused while a required notification is missing,
    unless ``justification`` says why it was not made (the register keeps it)."""
    caller.require(Permission.INCIDENT_MANAGE)
    what = _text(text, "text", MAX_TEXT)
    why = None
    if justification is not None and justification.strip():
        why = _text(justification, "justification", MAX_TEXT)
    with uow_factory(write=True) as uow:
        found = _open(uow, incident_id, "closed again")
        missing = [n.recipient for n in found.missing]
        data: dict[str, Any] = {"text": what}
        if missing:
            if why is None:
                raise Conflict(
                    f"incident {incident_id} still needs its notification to "
                    f"{', '.join(missing)}: record it, or give a justification for closing "
                    "without it"
                )
            data["justification"] = why
            data["missing"] = missing
        entry = make_entry(uow, caller, CLOSED, incident_ref(incident_id), data)
        return record_and_reload(uow, [entry], lambda: uow.incidents.get(incident_id))


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterPage:
    """A page of the register, how many match, the time overdue was judged at, and the
    categories the rules in force offer (for a raise form)."""

    incidents: list[Incident]
    total: int
    at: datetime
    categories: tuple[str, ...]


def register(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    kind: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    source: str | None = None,
    overdue: bool = False,
    offset: int = 0,
    limit: int = 100,
) -> RegisterPage:
    """The register, newest first, filtered."""
    caller.require(Permission.INCIDENT_READ)
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: 1 to {MAX_PAGE} a page, from an offset of 0 or more", "limit")
    if source and source not in SOURCES:
        raise InvalidInput(f"source: one of {', '.join(SOURCES)}", field="source")
    with uow_factory(write=False) as uow:
        at = uow.clock.now()
        found, total = uow.incidents.find(
            kind=_enum(kind, IncidentKind, "kind") if kind else None,
            status=_enum(status, IncidentStatus, "status") if status else None,
            severity=_enum(severity, Severity, "severity") if severity else None,
            source=source or None,
            overdue_at=at if overdue else None,
            offset=offset,
            limit=limit,
        )
        categories = rules_in_force(uow).categories
    return RegisterPage(found, total, at, categories)


def categories(uow_factory: UnitOfWorkFactory, caller: Caller) -> tuple[str, ...]:
    """The categories an incident raised by hand may have (the rules in force)."""
    caller.require(Permission.INCIDENT_REPORT)
    with uow_factory(write=False) as uow:
        return rules_in_force(uow).categories


@dataclass(frozen=True)
class Shown:
    """An incident, the time overdue is judged at, and the recipients the rules know (short
    name -> who it is)."""

    incident: Incident
    at: datetime
    recipients: Mapping[str, str]


def show(uow_factory: UnitOfWorkFactory, caller: Caller, incident_id: str) -> Shown:
    """One incident with its notifications."""
    caller.require(Permission.INCIDENT_READ)
    with uow_factory(write=False) as uow:
        return Shown(_get(uow, incident_id), uow.clock.now(), rules_in_force(uow).recipients)


# -- overdue notifications ---------------------------------------------------------------------


def sweep(
    uow_factory: UnitOfWorkFactory, at: datetime | None = None, caller: Caller | None = None
) -> list[str]:
    """Raise one alert (``alert.raised``, metric ``incident_notification_overdue``) for each
    notification past its deadline, of an incident not closed, not alerted before; the ids of
    the alerts raised. Run by the server's sweep (no ``caller``: the system) and by
    ``triage incident sweep`` (a security manager's)."""
    if caller is not None:
        caller.require(Permission.INCIDENT_MANAGE)
    with uow_factory(write=True) as uow:
        now = uow.clock.now() if at is None else at
        raised = []
        entries = []
        for incident_id, recipient, deadline in uow.incidents.due_alerts(now):
            alert_id = str(uuid.uuid4())
            data = {
                "alert_id": alert_id,
                "metric": OVERDUE_METRIC,
                "count": 1,
                "max_count": 0,
                "window_minutes": 0,
                "action": "notify",
                "recipient": recipient,
                "detail": (
                    f"incident {incident_id}: the notification to {recipient} was due by "
                    f"{format_time(deadline)} and is not recorded"
                ),
            }
            entries.append(
                make_entry(uow, REGISTER, "alert.raised", incident_ref(incident_id), data)
            )
            raised.append(alert_id)
        if entries:
            uow.ledger.record(entries)
            uow.commit()
    return raised
