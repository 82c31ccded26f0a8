"""The incident and vulnerability register (SEC Section G3): what an incident is, who must be
told of it and by when.

An incident or a vulnerability is raised by hand or automatically from a fixed set of sources;
its severity and category decide, through the notification rules kept as data
(``policies/incident-rules.yaml`` is the default, a facility may record its own), which
recipients must be notified (the Security Sub-Committee; key compromise also the SMKI PMA) and
within how many hours of its raising. The states are few: ``open`` -> ``contained`` ->
``closed`` (or ``open`` -> ``closed``); whether it has been notified is not a state but the
notifications' own record, so a contained incident can still be waiting for one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from triage.domain.bounded import InputLimitError, load_yaml
from triage.ledger.entry import format_time

MAX_RULES_BYTES = 64 * 1024
MAX_HOURS = 24 * 366
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_RULES_KEYS = frozenset({"version", "recipients", "categories", "sources", "notifications"})
_WHEN_KEYS = frozenset({"kind", "category", "severity"})

MANUAL = "manual"
# The automatic sources (fixed: the services that raise them name them so).
AUTOMATIC_SOURCES = (
    "tool_suspended",
    "operator_suspended",
    "seal_discrepancy",
    "suspicious_quarantine",
    "checkpoint_refused",
)
SOURCES = (MANUAL, *AUTOMATIC_SOURCES)
OVERDUE_METRIC = "incident_notification_overdue"


class IncidentKind(StrEnum):
    INCIDENT = "incident"
    VULNERABILITY = "vulnerability"


class Severity(StrEnum):
    """From the least to the most severe."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(StrEnum):
    OPEN = "open"
    CONTAINED = "contained"
    CLOSED = "closed"


class RulesError(ValueError):
    """Notification rules that cannot be used, with what is wrong."""


@dataclass(frozen=True)
class SourceRule:
    """What an automatic source raises: its severity and category."""

    severity: Severity
    category: str


@dataclass(frozen=True)
class NotificationRule:
    """Who must be notified, within how many hours, of incidents matching ``when`` (a missing
    key matches any value)."""

    kinds: frozenset[IncidentKind] | None
    categories: frozenset[str] | None
    severities: frozenset[Severity] | None
    within_hours: Mapping[str, int]

    def matches(self, kind: IncidentKind, category: str, severity: Severity) -> bool:
        return (
            (self.kinds is None or kind in self.kinds)
            and (self.categories is None or category in self.categories)
            and (self.severities is None or severity in self.severities)
        )


@dataclass(frozen=True)
class Required:
    """A notification the rules require: to ``recipient`` by ``deadline``."""

    recipient: str
    deadline: datetime

    def to_json(self) -> dict[str, str]:
        return {"recipient": self.recipient, "deadline": format_time(self.deadline)}


@dataclass(frozen=True)
class IncidentRules:
    """The notification rules in force: recipients, categories, what each automatic source
    raises, and who must be notified within how long. Every matching rule applies; for a
    recipient named by several, the shortest time wins."""

    version: str
    recipients: Mapping[str, str]
    categories: tuple[str, ...]
    sources: Mapping[str, SourceRule | None]
    notifications: tuple[NotificationRule, ...]
    text: str
    sha256: str

    @classmethod
    def load(cls, data: bytes | str) -> IncidentRules:
        """Parse and check rules in full; RulesError says what is wrong."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            document = load_yaml(raw, "incident rules", max_bytes=MAX_RULES_BYTES)
        except InputLimitError as exc:
            raise RulesError(str(exc)) from None
        return _parse(document, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest())

    def for_source(self, source: str) -> SourceRule | None:
        """What ``source`` raises, or None when it raises no incident."""
        if source not in AUTOMATIC_SOURCES:
            raise ValueError(f"unknown incident source {source!r}")
        return self.sources.get(source)

    def within(self, kind: IncidentKind, category: str, severity: Severity) -> dict[str, int]:
        """Hours to notify each required recipient in, for such an incident."""
        hours: dict[str, int] = {}
        for rule in self.notifications:
            if rule.matches(kind, category, severity):
                for recipient, h in rule.within_hours.items():
                    hours[recipient] = min(h, hours.get(recipient, h))
        return hours

    def required(
        self, kind: IncidentKind, category: str, severity: Severity, raised_at: datetime
    ) -> tuple[Required, ...]:
        """The notifications such an incident raised at ``raised_at`` needs, by recipient."""
        hours = self.within(kind, category, severity)
        return tuple(
            Required(r, raised_at + timedelta(hours=hours[r]))
            for r in sorted(hours, key=lambda r: (hours[r], r))
        )


def _strings(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise RulesError(f"{where}: a name or a list of names")
    return items


def _parse(document: Any, text: str, sha256: str) -> IncidentRules:
    if not isinstance(document, dict):
        raise RulesError("incident rules: a mapping with version, recipients, categories, ...")
    unknown = set(document) - _RULES_KEYS
    if unknown:
        raise RulesError(f"incident rules: unknown keys {sorted(unknown)}")
    version = document.get("version")
    if not isinstance(version, (str, int)) or isinstance(version, bool) or str(version) == "":
        raise RulesError("version: a name or a number (change it whenever the rules change)")
    recipients = document.get("recipients")
    if not isinstance(recipients, dict) or not recipients:
        raise RulesError("recipients: a mapping of short name to who it is")
    for key, name in recipients.items():
        if not isinstance(key, str) or not _CATEGORY.match(key) or not isinstance(name, str):
            raise RulesError(f"recipients: {key!r} needs a short lower-case name and a text")
    categories = _strings(document.get("categories"), "categories")
    for category in categories:
        if not _CATEGORY.match(category):
            raise RulesError(f"categories: {category!r} is not a lower-case name")
    sources: dict[str, SourceRule | None] = {}
    raw_sources = document.get("sources") or {}
    if not isinstance(raw_sources, dict):
        raise RulesError("sources: a mapping of automatic source to severity and category")
    for source, rule in raw_sources.items():
        if source not in AUTOMATIC_SOURCES:
            raise RulesError(f"sources: {source!r} is not one of {', '.join(AUTOMATIC_SOURCES)}")
        if rule is None:
            sources[source] = None  # the source raises no incident
            continue
        if not isinstance(rule, dict) or set(rule) != {"severity", "category"}:
            raise RulesError(f"sources: {source}: give severity and category (or null)")
        sources[source] = SourceRule(
            _severity(rule["severity"], f"sources: {source}"),
            _category(rule["category"], categories, f"sources: {source}"),
        )
    missing = [s for s in AUTOMATIC_SOURCES if s not in sources]
    if missing:
        raise RulesError(f"sources: say what {', '.join(missing)} raise (null for nothing)")
    notifications = []
    raw_rules = document.get("notifications") or []
    if not isinstance(raw_rules, list):
        raise RulesError("notifications: a list of rules (when, notify)")
    for n, rule in enumerate(raw_rules, start=1):
        where = f"notifications: rule {n}"
        if not isinstance(rule, dict) or set(rule) - {"when", "notify"} or "notify" not in rule:
            raise RulesError(f"{where}: give `when` (optional) and `notify`")
        when = rule.get("when") or {}
        if not isinstance(when, dict) or set(when) - _WHEN_KEYS:
            raise RulesError(f"{where}: `when` may name only {', '.join(sorted(_WHEN_KEYS))}")
        notify = rule["notify"]
        if not isinstance(notify, dict) or not notify:
            raise RulesError(f"{where}: `notify` maps each recipient to hours")
        within: dict[str, int] = {}
        for recipient, hours in notify.items():
            if recipient not in recipients:
                raise RulesError(f"{where}: {recipient!r} is not among the recipients")
            if not isinstance(hours, int) or isinstance(hours, bool) or not 0 < hours <= MAX_HOURS:
                raise RulesError(f"{where}: {recipient}: hours from 1 to {MAX_HOURS}")
            within[recipient] = hours
        notifications.append(
            NotificationRule(
                _set(when, "kind", where, lambda v, w: IncidentKind(_enum(v, IncidentKind, w))),
                _set(when, "category", where, lambda v, w: _category(v, categories, w)),
                _set(when, "severity", where, _severity),
                within,
            )
        )
    return IncidentRules(
        str(version),
        dict(recipients),
        tuple(categories),
        sources,
        tuple(notifications),
        text,
        sha256,
    )


def _set(when: Mapping[str, Any], key: str, where: str, read: Any) -> frozenset[Any] | None:
    if key not in when:
        return None
    return frozenset(read(v, f"{where}: {key}") for v in _strings(when[key], f"{where}: {key}"))


def _enum(value: Any, enum: type[StrEnum], where: str) -> str:
    if value not in {e.value for e in enum}:
        raise RulesError(f"{where}: {value!r} is not one of {', '.join(e.value for e in enum)}")
    return str(value)


def _severity(value: Any, where: str) -> Severity:
    return Severity(_enum(value, Severity, where))


def _category(value: Any, categories: Iterable[str], where: str) -> str:
    if value not in categories:
        raise RulesError(f"{where}: category {value!r} is not among the categories")
    return str(value)


@dataclass(frozen=True)
class Notification:
    """A notification an incident needs (``deadline``) or got without needing it (no
    deadline), and whether and how it was made."""

    recipient: str
    deadline: datetime | None
    notified_at: datetime | None = None
    notified_by: str | None = None
    reference: str | None = None
    recorded_at: datetime | None = None
    overdue_alert_id: str | None = None

    @property
    def done(self) -> bool:
        return self.notified_at is not None

    def overdue(self, at: datetime) -> bool:
        """Not made, and its deadline passed before ``at`` (made at the deadline is in time)."""
        return self.notified_at is None and self.deadline is not None and self.deadline < at

    @property
    def late(self) -> bool:
        """Made, but after its deadline."""
        return (
            self.notified_at is not None
            and self.deadline is not None
            and self.notified_at > self.deadline
        )


@dataclass(frozen=True)
class Incident:
    """An incident or vulnerability in the register."""

    id: str
    kind: IncidentKind
    source: str
    severity: Severity
    category: str
    title: str
    summary: str
    status: IncidentStatus
    raised_by: str
    raised_at: datetime
    about_kind: str | None = None
    about_id: str | None = None
    detail: Mapping[str, Any] | None = None
    component: str | None = None
    reference: str | None = None
    remediation_due: date | None = None
    contained_by: str | None = None
    contained_at: datetime | None = None
    containment: str | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    closure: str | None = None
    closure_justification: str | None = None
    rules_version: str | None = None
    notifications: tuple[Notification, ...] = field(default=())

    @property
    def missing(self) -> tuple[Notification, ...]:
        """Required notifications not yet made."""
        return tuple(n for n in self.notifications if n.deadline is not None and not n.done)

    def overdue(self, at: datetime) -> tuple[Notification, ...]:
        """Its notifications overdue at ``at`` (none once it is closed)."""
        return tuple(n for n in self.notifications if self.state_of(n, at) == "overdue")

    def state_of(self, notification: Notification, at: datetime) -> str:
        """One of its notifications as the register shows it at ``at``: made, late, overdue,
        pending, not required, or "not made (closed)": an incident closed without it (with a
        justification) has nothing overdue any more."""
        if notification.notified_at is not None:
            return "late" if notification.late else "made"
        if notification.overdue(at):
            return "not made (closed)" if self.status is IncidentStatus.CLOSED else "overdue"
        return "pending" if notification.deadline is not None else "not required"

    def notification(self, recipient: str) -> Notification | None:
        return next((n for n in self.notifications if n.recipient == recipient), None)

    def to_json(self, at: datetime) -> dict[str, Any]:
        """As the API, ``--json`` and the exports show it; overdue judged at ``at``."""

        def when(value: datetime | None) -> str | None:
            return None if value is None else format_time(value)

        return {
            "id": self.id,
            "kind": self.kind.value,
            "source": self.source,
            "severity": self.severity.value,
            "category": self.category,
            "title": self.title,
            "summary": self.summary,
            "status": self.status.value,
            "about": None
            if self.about_kind is None
            else {"kind": self.about_kind, "id": self.about_id},
            "detail": None if self.detail is None else dict(self.detail),
            "component": self.component,
            "reference": self.reference,
            "remediation_due": None
            if self.remediation_due is None
            else self.remediation_due.isoformat(),
            "rules_version": self.rules_version,
            "raised_by": self.raised_by,
            "raised_at": format_time(self.raised_at),
            "contained_by": self.contained_by,
            "contained_at": when(self.contained_at),
            "containment": self.containment,
            "closed_by": self.closed_by,
            "closed_at": when(self.closed_at),
            "closure": self.closure,
            "closure_justification": self.closure_justification,
            "overdue": bool(self.overdue(at)),
            "notifications": [
                {
                    "recipient": n.recipient,
                    "deadline": when(n.deadline),
                    "notified_at": when(n.notified_at),
                    "notified_by": n.notified_by,
                    "reference": n.reference,
                    "recorded_at": when(n.recorded_at),
                    "overdue": self.state_of(n, at) == "overdue",
                    "late": n.late,
                    "overdue_alert_id": n.overdue_alert_id,
                }
                for n in self.notifications
            ],
        }
