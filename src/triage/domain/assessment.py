"""Security assessments of a Triage Facility, the schedule that says which is due next, and the
gate that refuses triage work without a current approval.

A facility is assessed first by a Full User Security Assessment (FUSA), then once a year by a
Verification (VUSA) or a Self-Assessment (USSA) chosen by rules kept as data
(``domain/controls/assessment-rules.yaml``). An assessment's outcome is one of SEC G8.34's: an
approval, an approval subject to additional steps (each with a due date), a deferral or a
rejection. What each outcome means for triage work (approved or not, and the reason shown) is
data in the same file (its ``outcomes``), read by ``approval_state``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from triage.domain.bounded import InputLimitError, load_yaml
from triage.errors import Conflict, InvalidInput
from triage.ledger.entry import format_time

E = TypeVar("E", bound=StrEnum)
MAX_COMMISSIONING_DAYS = 90
_MAX_RULES_BYTES = 256 * 1024
_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{1,63}$")
PARTY_ROLES = (
    "Import Supplier",
    "Export Supplier",
    "Gas Supplier",
    "Electricity Distributor",
    "Gas Transporter",
    "Other SEC Party",
    "Meter Asset Provider",
)


class Kind(StrEnum):
    """The three kinds of User Security Assessment."""

    FUSA = "FUSA"
    VUSA = "VUSA"
    USSA = "USSA"

    @property
    def long_name(self) -> str:
        return {
            Kind.FUSA: "Full User Security Assessment",
            Kind.VUSA: "Verification User Security Assessment",
            Kind.USSA: "User Security Self-Assessment",
        }[self]

    @property
    def has_fieldwork(self) -> bool:
        """FUSA and VUSA are done by the assessor at the facility; a USSA by the provider."""
        return self is not Kind.USSA


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Result(StrEnum):
    """The outcome of an assessment of a Triage Facility."""

    APPROVAL = "approval"
    APPROVAL_WITH_STEPS = "approval_with_steps"
    DEFERRED = "deferred"
    REJECTION = "rejection"


@dataclass(frozen=True)
class Outcome:
    """What an outcome means for triage work: whether the facility holds a current approval
    after it (triage is refused otherwise, commissioning mode aside), and the reason shown."""

    approved: bool
    reason: str


def parse_enum(kind: type[E], value: str, field_name: str) -> E:
    try:
        return kind(value.strip())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{field_name}: one of {allowed}") from None


def parse_date(text: str, field_name: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(f"{field_name}: a date written YYYY-MM-DD") from None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- the provider and the gate ---------------------------------------------------------------


@dataclass(frozen=True)
class SecParty:
    """The Triage Facility Provider as a party to the Smart Energy Code."""

    party_id: str
    name: str
    roles: tuple[str, ...]

    @classmethod
    def checked(cls, party_id: str, name: str, roles: Sequence[str]) -> SecParty:
        pid = party_id.strip()
        if not _PARTY_ID.match(pid):
            raise InvalidInput("party_id: the SEC Party identifier, 2-64 letters, digits, . / -")
        shown = " ".join(name.split())
        if not 2 <= len(shown) <= 200:
            raise InvalidInput("name: the Party's registered name, 2-200 characters")
        chosen = tuple(dict.fromkeys(" ".join(r.split()) for r in roles))
        if not chosen:
            raise InvalidInput("roles: at least one SEC Party role the provider holds")
        unknown = [r for r in chosen if r not in PARTY_ROLES]
        if unknown:
            raise InvalidInput(
                f"roles: {', '.join(unknown)} not known; one of {', '.join(PARTY_ROLES)}"
            )
        return cls(pid, shown, chosen)


@dataclass(frozen=True)
class Commissioning:
    """A recorded, time-limited period in which a facility not yet approved may triage test
    devices for its first assessment."""

    until: datetime
    reason: str

    def active(self, at: datetime) -> bool:
        return at < self.until


def check_commissioning(until: datetime, at: datetime) -> None:
    if until.tzinfo is None:
        raise InvalidInput("until: give a time with a time zone (like 2027-01-31T18:00Z)")
    if until <= at:
        raise InvalidInput("until: must be in the future")
    if until - at > timedelta(days=MAX_COMMISSIONING_DAYS):
        raise InvalidInput(f"until: commissioning mode lasts at most {MAX_COMMISSIONING_DAYS} days")


@dataclass(frozen=True)
class Step:
    """An additional step an approval is subject to."""

    id: str
    description: str
    due: date
    done_at: datetime | None = None


@dataclass(frozen=True)
class Standing:
    """What the gate needs to know about the facility."""

    party: SecParty | None
    last_result: Result | None
    steps: tuple[Step, ...] = ()
    commissioning: Commissioning | None = None
    # What each outcome means (the assessment rules' ``outcomes``); an outcome missing here
    # counts as no approval.
    outcomes: Mapping[Result, Outcome] = field(default_factory=dict)


def approval_state(standing: Standing, today: date) -> tuple[bool, str]:
    """(approved now, why) from the latest outcome, what the rules say it means, and its
    steps (an approval with an overdue step is no current approval)."""
    if standing.last_result is None:
        return False, "the facility has not been approved yet (it needs a FUSA)"
    meaning = standing.outcomes.get(standing.last_result)
    if meaning is None:
        return False, (
            f"the assessment rules do not say what the outcome {standing.last_result.value!r} "
            "means, so it counts as no approval"
        )
    if not meaning.approved:
        return False, meaning.reason
    overdue = [s for s in standing.steps if s.done_at is None and s.due < today]
    if overdue:
        named = "; ".join(f"{s.description} (due {s.due.isoformat()})" for s in overdue[:3])
        return False, f"steps of its approval are overdue: {named}"
    return True, meaning.reason


def gate(standing: Standing, at: datetime) -> str:
    """Why triage work may go ahead now, or Conflict saying why not and what to do."""
    if standing.party is None:
        raise Conflict(
            "triage work is refused: the provider is not recorded as a SEC Party; an "
            "administrator records it (triage assurance party)"
        )
    approved, why = approval_state(standing, at.date())
    if approved:
        return why
    if standing.commissioning is not None and standing.commissioning.active(at):
        return "commissioning mode until " + format_time(standing.commissioning.until)
    raise Conflict(
        f"triage work is refused: {why}; an administrator can switch on commissioning mode "
        "for test devices before the first assessment"
    )


# -- the schedule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    when: Mapping[str, Any]
    kind: Kind
    reason: str


@dataclass(frozen=True)
class Rules:
    version: str
    interval_months: int
    ussa_within_months: int
    rules: tuple[Rule, ...]
    outcomes: Mapping[Result, Outcome] = field(default_factory=dict)


_CONDITIONS = {"last_outcome", "open_findings_of_severity", "devices_triaged_last_12_months_over"}


def _condition(name: str, value: Any, where: str) -> None:
    if name == "last_outcome":
        parse_enum(Result, str(value), f"{where}: last_outcome")
    elif name == "open_findings_of_severity":
        if not isinstance(value, list) or not value:
            raise InvalidInput(f"{where}: open_findings_of_severity lists severities")
        for item in value:
            parse_enum(Severity, str(item), f"{where}: open_findings_of_severity")
    elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{where}: {name} is a whole number of devices")


def _outcomes(raw: Any) -> dict[Result, Outcome]:
    """What each outcome means for triage: every outcome named, each with 'approved' (true or
    false) and a 'reason'."""
    where = "assessment rules: outcomes"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: a mapping from each outcome to 'approved' and 'reason'")
    found: dict[Result, Outcome] = {}
    for name, item in raw.items():
        result = parse_enum(Result, str(name), where)
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("approved"), bool)
            or not isinstance(item.get("reason"), str)
            or not item["reason"].strip()
        ):
            raise InvalidInput(f"{where}: {result.value} needs 'approved' (true/false), 'reason'")
        found[result] = Outcome(item["approved"], " ".join(item["reason"].split()))
    missing = [r.value for r in Result if r not in found]
    if missing:
        raise InvalidInput(f"{where}: say what {', '.join(missing)} means for triage")
    return found


def parse_rules(text: str) -> Rules:
    """Schedule rules from their YAML, checked: every problem names the rule."""
    try:
        raw = load_yaml(text, "assessment rules", max_bytes=_MAX_RULES_BYTES)
    except InputLimitError as exc:
        raise InvalidInput(str(exc)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list) or not raw["rules"]:
        raise InvalidInput("assessment rules: a mapping with a non-empty 'rules' list")
    rules = []
    for i, item in enumerate(raw["rules"]):
        where = f"assessment rules: rule {i + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("when"), dict):
            raise InvalidInput(f"{where}: needs 'when' (a mapping), 'kind' and 'reason'")
        unknown = set(item["when"]) - _CONDITIONS
        if unknown:
            raise InvalidInput(f"{where}: unknown conditions {', '.join(sorted(unknown))}")
        for name, value in item["when"].items():
            _condition(name, value, where)
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput(f"{where}: needs a 'reason' saying why this type is chosen")
        kind = parse_enum(Kind, str(item.get("kind", "")), f"{where}: kind")
        rules.append(Rule(item["when"], kind, " ".join(reason.split())))
    if rules[-1].when:
        raise InvalidInput("assessment rules: the last rule must match always (when: {})")
    months = [raw.get("interval_months", 12), raw.get("ussa_within_months", 12)]
    if any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 60 for m in months):
        raise InvalidInput("assessment rules: interval_months and ussa_within_months are 1-60")
    outcomes = _outcomes(raw.get("outcomes"))
    return Rules(str(raw.get("version", "")), months[0], months[1], tuple(rules), outcomes)


@dataclass(frozen=True)
class Past:
    """An assessment as the schedule sees it."""

    kind: Kind
    result: Result | None
    planned_at: date
    fieldwork_end: date | None
    decided_at: date | None


@dataclass(frozen=True)
class Due:
    """The next assessment: its type, when it is due, and why."""

    kind: Kind
    due: date
    reasons: list[str] = field(default_factory=list)
    overdue: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.kind.long_name,
            "due": self.due.isoformat(),
            "overdue": self.overdue,
            "reasons": list(self.reasons),
        }


def _matches(
    when: Mapping[str, Any], last: Past, open_severities: Sequence[Severity], volume: int
) -> bool:
    if "last_outcome" in when and (
        last.result is None or last.result.value != when["last_outcome"]
    ):
        return False
    if "open_findings_of_severity" in when:
        wanted = {str(s) for s in when["open_findings_of_severity"]}
        if not any(s.value in wanted for s in open_severities):
            return False
    return not (
        "devices_triaged_last_12_months_over" in when
        and volume <= int(when["devices_triaged_last_12_months_over"])
    )


def next_due(
    rules: Rules,
    history: Sequence[Past],
    open_severities: Sequence[Severity],
    devices_last_12_months: int,
    today: date,
) -> Due:
    """Which assessment comes next, when, and why (decided ones only count as history)."""
    decided = sorted(
        (p for p in history if p.result is not None), key=lambda p: p.decided_at or p.planned_at
    )
    if not decided:
        return Due(Kind.FUSA, today, ["the first assessment of a Triage Facility is a FUSA"])
    last = decided[-1]
    anchor = last.decided_at or last.planned_at
    due = add_months(anchor, rules.interval_months)
    reasons = [f"one assessment a year: {rules.interval_months} months after the last"]
    rule = next(
        r for r in rules.rules if _matches(r.when, last, open_severities, devices_last_12_months)
    )
    kind = rule.kind
    reasons.append(rule.reason)
    if kind is Kind.USSA:
        fieldwork = [p.fieldwork_end for p in decided if p.kind.has_fieldwork and p.fieldwork_end]
        if not fieldwork:
            kind = Kind.VUSA
            reasons.append("no assessor fieldwork on record, so a self-assessment is not allowed")
        else:
            limit = add_months(max(fieldwork), rules.ussa_within_months)
            if limit < today:
                kind = Kind.VUSA
                reasons.append(
                    f"the assessor's last fieldwork ended {max(fieldwork).isoformat()}, more than "
                    f"{rules.ussa_within_months} months ago: a USSA is no longer allowed"
                )
            elif limit < due:
                due = limit
                reasons.append(
                    f"a USSA must fall within {rules.ussa_within_months} months of the assessor's "
                    f"last fieldwork ({max(fieldwork).isoformat()})"
                )
    return Due(kind, due, reasons, due < today)
