"""Tamper policy as data: the rule deciding what tamper evidence means for a device's triage.

The working group could not agree where to draw the tamper line, so the rule is a versioned
YAML file (``policies/tamper-default.yaml`` is the default) and the code knows only a small,
fixed vocabulary of predicates over ``TamperEvidence``:

``cpa_boundary_breached``
    the CPA tamper protection boundary is not intact.
``metrology_seal_broken``
    the metrology (MID) seal is not intact.
``security_seal_broken``
    a security seal fitted at an earlier triage is broken.
``integrity_alert``
    the security log holds an alert of class ``integrity``. Placeholders: ``{alerts}``.
``unexplained_cover_opening``
    an outer cover was opened and no legitimate reason names it. Placeholders: ``{covers}``.
``explained_cover_opening``
    an outer cover was opened and a legitimate reason names it.
    Placeholders: ``{covers}``, ``{explanations}``.
``unexplained_tamper_alert``
    an alert of class ``tamper`` is explained neither by a legitimate reason nor by a battery or
    power event within the window. Placeholders: ``{alerts}``, ``{window_hours}``.
``explained_tamper_alert``
    an alert of class ``tamper`` is explained by one of those.
    Placeholders: ``{alerts}``, ``{explanations}``, ``{window_hours}``.
``other_findings``
    the inspector recorded anything else. Placeholders: ``{findings}``.
``unknown_alert``
    the security log holds a code the policy's alert table lacks. Placeholders: ``{alerts}``.
``security_log_typed``
    the security log was typed by hand, not read from the device. Placeholders: ``{reason}``.
    Policies written before it need not use it: under such a policy a typed log still goes to
    a supervisor, with the built-in reason ``security-log-typed-unaddressed``.

A legitimate reason explains a tamper alert when it lists the alert's code or names one of the
covers the alert table lists for it, and, when the reason gives the date of the job, the alert
lies within the window of that day; a battery or power event (class ``explaining``) explains it
when the table allows (``power_explains``) and the event lies at most ``explanation_window_hours``
before or after the alert. An opened cover is explained only by a legitimate reason naming it.

Every matching rule contributes a reason; the outcome is the most severe of them by the policy's
``severity`` order, or ``eligible`` with "no tamper evidence" when nothing matches. A policy is
validated in full when loaded: unknown keys, predicates, outcomes or placeholders, and predicates
no rule uses, are refused then, never discovered at decision time.

A rule may be marked ``suspicious: true`` (false when left out): a device it sends to quarantine
is a security incident, raised in the incident register (source ``suspicious_quarantine``), not
only a quarantined device. The default policy marks the rules about tamper evidence so.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import yaml

from triage.domain.bounded import BoundedLoader, InputLimitError, load_yaml

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]

_MAX_POLICY_BYTES = 256 * 1024
_MAX_WINDOW_HOURS = 24 * 366
_MAX_FINDINGS = 2000
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NO_EVIDENCE_RULE = "no-tamper-evidence"
_TYPED_UNADDRESSED_RULE = "security-log-typed-unaddressed"
_RESERVED_RULES = (_NO_EVIDENCE_RULE, _TYPED_UNADDRESSED_RULE)
# Predicates a policy written before them need not use; each has a built-in consequence.
_OPTIONAL_PREDICATES = frozenset({"security_log_typed"})
_E = TypeVar("_E", bound=StrEnum)


class Cover(StrEnum):
    """An outer cover of a device."""

    terminal = "terminal"
    second_terminal = "second_terminal"
    battery = "battery"
    meter = "meter"
    comms_hub = "comms_hub"
    other = "other"

    @property
    def label(self) -> str:
        """The cover's name in a reason, e.g. "second terminal cover"."""
        return f"{self.value.replace('_', ' ')} cover"


class SecuritySealState(StrEnum):
    """The state of a security seal fitted at an earlier triage."""

    none_fitted = "none_fitted"
    intact = "intact"
    broken = "broken"


class Outcome(StrEnum):
    """Where a device goes after inspection."""

    eligible = "eligible"
    quarantine = "quarantine"
    reverify_metrology = "reverify_metrology"
    supervisor_review = "supervisor_review"


class AlertClass(StrEnum):
    """What an alert code says about tamper."""

    tamper = "tamper"
    explaining = "explaining"
    integrity = "integrity"


class LogSource(StrEnum):
    """Where the security log an inspection used came from."""

    TOOL = "tool"  # read from the device by the bench tool, under a read order
    SUPPLIER = "supplier"  # a supplier's 6.13 response, uploaded by a supervisor
    TYPED = "typed"  # typed by hand from the device's display: a recorded fallback
    NONE = "none"  # the device keeps no GBCS security log (a Type 2 device: IHD or CAD)


class EvidenceError(ValueError):
    """A piece of tamper evidence is malformed; ``field`` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class PolicyError(ValueError):
    """A tamper policy file is malformed; ``path`` says where in the file."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"tamper policy {path}: {problem}" if path else f"tamper policy {problem}")
        self.path = path
        self.problem = problem


def _format_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _as_enum(enum: type[_E], value: object, field: str) -> _E:
    if isinstance(value, str) and value in enum.__members__.values():
        return enum(value)
    valid = ", ".join(member.value for member in enum)
    raise EvidenceError(field, f"{value!r} is not one of {valid}")


def _as_covers(values: Iterable[object], field: str) -> frozenset[Cover]:
    if isinstance(values, str):
        raise EvidenceError(field, "must be a set of covers, not a string")
    return frozenset(_as_enum(Cover, value, field) for value in values)


def _check_alert_code(code: object, field: str) -> int:
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 0xFFFF:
        raise EvidenceError(field, f"{code!r} is not a 16-bit alert code")
    return code


def _check_text(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EvidenceError(field, "must be non-empty text")
    if value != value.strip() or len(value) > max_length or _CONTROL.search(value):
        raise EvidenceError(
            field,
            f"must be at most {max_length} characters, without surrounding spaces or control "
            "characters",
        )
    return value


@dataclass(frozen=True)
class Alert:
    """One alert from a device's security log."""

    code: int
    at: datetime

    def __post_init__(self) -> None:
        _check_alert_code(self.code, "alert.code")
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise EvidenceError("alert.at", "must be a timezone-aware time")

    @property
    def hex(self) -> str:
        """The code as written in GBCS, e.g. ``0x8F3F``."""
        return f"0x{self.code:04X}"


@dataclass(frozen=True)
class SecurityLogUsed:
    """Which security log an inspection's alerts came from: the digest of the device's own log
    (read by the tool or uploaded from the supplier), or a log typed by hand and why."""

    source: LogSource
    sha256: str | None
    use_case: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        source = _as_enum(LogSource, self.source, "security_log.source")
        object.__setattr__(self, "source", source)
        if source in (LogSource.TYPED, LogSource.NONE):
            if self.sha256 is not None:
                raise EvidenceError("security_log.sha256", f"a {source.value} log has no digest")
            _check_text(self.reason, "typed_log.reason", 500)
        elif not isinstance(self.sha256, str) or not _SHA256.match(self.sha256):
            raise EvidenceError(
                "security_log.sha256", "must be the log's SHA-256 as 64 lower-case hex digits"
            )

    @property
    def typed(self) -> bool:
        """True when the log was typed by hand rather than read from the device."""
        return self.source is LogSource.TYPED


@dataclass(frozen=True)
class LegitimateReason:
    """A recorded reason for opening covers or raising alerts, e.g. a supplier job, and the
    day it was done on, when known."""

    kind: str
    reference: str
    covers: frozenset[Cover]
    alert_codes: frozenset[int] = frozenset()
    on: date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not _KIND.match(self.kind):
            raise EvidenceError(
                "legitimate_reason.kind",
                f"{self.kind!r} must be a lower-case word such as 'supplier_job'",
            )
        _check_text(self.reference, "legitimate_reason.reference", 100)
        object.__setattr__(self, "covers", _as_covers(self.covers, "legitimate_reason.covers"))
        codes = frozenset(
            _check_alert_code(code, "legitimate_reason.alert_codes") for code in self.alert_codes
        )
        object.__setattr__(self, "alert_codes", codes)
        if self.on is not None and (not isinstance(self.on, date) or isinstance(self.on, datetime)):
            raise EvidenceError("legitimate_reason.on", "must be a date such as 2026-12-01")
        if not self.covers and not self.alert_codes:
            raise EvidenceError(
                "legitimate_reason",
                f"{self.kind} {self.reference} names no cover and no alert code, so it explains "
                "nothing",
            )

    @property
    def label(self) -> str:
        """The reason as cited in a decision, e.g. "supplier_job J-123 on 2026-12-01"."""
        when = f" on {self.on.isoformat()}" if self.on is not None else ""
        return f"{self.kind} {self.reference}{when}"

    def covers_time(self, at: datetime, window: timedelta) -> bool:
        """Whether an alert at ``at`` may be this reason's doing: any time when the reason has
        no date, else within ``window`` of the day it was done on (UTC)."""
        if self.on is None:
            return True
        start = datetime.combine(self.on, time(), tzinfo=UTC)
        return start - window <= at < start + timedelta(days=1) + window


@dataclass(frozen=True)
class TamperEvidence:
    """What inspection found: the four tamper boundaries kept apart, alerts and reasons, and
    which security log the alerts came from (None: evidence recorded before logs were read)."""

    metrology_seal_intact: bool
    cpa_boundary_intact: bool
    outer_covers_opened: frozenset[Cover] = frozenset()
    security_seal: SecuritySealState = SecuritySealState.none_fitted
    alerts: tuple[Alert, ...] = ()
    legitimate_reasons: tuple[LegitimateReason, ...] = ()
    other_findings: str | None = None
    security_log: SecurityLogUsed | None = None

    def __post_init__(self) -> None:
        if self.security_log is not None and not isinstance(self.security_log, SecurityLogUsed):
            raise EvidenceError("security_log", "must be a SecurityLogUsed")
        for name in ("metrology_seal_intact", "cpa_boundary_intact"):
            if not isinstance(getattr(self, name), bool):
                raise EvidenceError(name, "must be true or false")
        covers = _as_covers(self.outer_covers_opened, "outer_covers_opened")
        object.__setattr__(self, "outer_covers_opened", covers)
        seal = _as_enum(SecuritySealState, self.security_seal, "security_seal")
        object.__setattr__(self, "security_seal", seal)
        object.__setattr__(self, "alerts", tuple(self.alerts))
        for index, alert in enumerate(self.alerts):
            if not isinstance(alert, Alert):
                raise EvidenceError(f"alerts[{index}]", "must be an Alert")
        object.__setattr__(self, "legitimate_reasons", tuple(self.legitimate_reasons))
        for index, reason in enumerate(self.legitimate_reasons):
            if not isinstance(reason, LegitimateReason):
                raise EvidenceError(f"legitimate_reasons[{index}]", "must be a LegitimateReason")
        if self.other_findings is not None:
            if not isinstance(self.other_findings, str):
                raise EvidenceError("other_findings", "must be text or absent")
            if len(self.other_findings) > _MAX_FINDINGS:
                raise EvidenceError("other_findings", f"must be at most {_MAX_FINDINGS} characters")

    @property
    def findings(self) -> str | None:
        """The inspector's other findings, or None when there were none (blank counts as none)."""
        if self.other_findings is None or not self.other_findings.strip():
            return None
        return self.other_findings.strip()


@dataclass(frozen=True)
class Reason:
    """Why a decision went the way it did: the rule, the outcome it points to, and the evidence."""

    rule: str
    outcome: Outcome
    text: str

    def to_json(self) -> dict[str, JsonValue]:
        """As stored in a ledger entry."""
        return {"rule": self.rule, "outcome": self.outcome.value, "text": self.text}


@dataclass(frozen=True)
class TamperDecision:
    """The outcome of applying a tamper policy to a device's evidence, with every reason."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    policy_id: str
    policy_version: str
    policy_hash: str

    def to_json(self) -> dict[str, JsonValue]:
        """Plain JSON data (no floats) for a ledger entry."""
        return {
            "outcome": self.outcome.value,
            "reasons": [reason.to_json() for reason in self.reasons],
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
        }


@dataclass(frozen=True)
class AlertCode:
    """One row of a policy's alert table."""

    code: int
    name: str
    alert_class: AlertClass
    covers: frozenset[Cover] = frozenset()
    power_explains: bool = False


@dataclass(frozen=True)
class Rule:
    """One rule of a policy: when the predicate holds, point to the outcome with this reason."""

    id: str
    when: str
    outcome: Outcome
    reason: str
    suspicious: bool = False  # a quarantine it decides is an incident in the register


# What the evidence shows under one policy, worked out once per decision.
@dataclass(frozen=True)
class _Analysis:
    evidence: TamperEvidence
    window_hours: int
    integrity_alerts: tuple[str, ...]
    unknown_alerts: tuple[str, ...]
    unexplained_covers: tuple[str, ...]
    explained_covers: tuple[str, ...]
    explanations_of_covers: tuple[str, ...]
    unexplained_alerts: tuple[str, ...]
    explained_alerts: tuple[str, ...]
    explanations_of_alerts: tuple[str, ...]


@dataclass(frozen=True)
class _Predicate:
    placeholders: frozenset[str]
    evaluate: Callable[[_Analysis], dict[str, str] | None]


def _when(
    placeholders: Iterable[str], evaluate: Callable[[_Analysis], dict[str, str] | None]
) -> _Predicate:
    return _Predicate(frozenset(placeholders), evaluate)


def _listed(items: tuple[str, ...], **values: str) -> dict[str, str] | None:
    return {"alerts": "; ".join(items), **values} if items else None


def _alerts_explained(a: _Analysis) -> dict[str, str] | None:
    if not a.explained_alerts:
        return None
    return {
        "alerts": "; ".join(a.explained_alerts),
        "explanations": "; ".join(a.explanations_of_alerts),
        "window_hours": str(a.window_hours),
    }


def _covers_explained(a: _Analysis) -> dict[str, str] | None:
    if not a.explained_covers:
        return None
    return {
        "covers": ", ".join(a.explained_covers),
        "explanations": "; ".join(a.explanations_of_covers),
    }


def _typed(a: _Analysis) -> dict[str, str] | None:
    log = a.evidence.security_log
    if log is None or not log.typed:
        return None
    return {"reason": log.reason or ""}


_TYPED_UNADDRESSED = (
    "security log typed by hand, not read from the device ({reason}): this policy does not "
    "say what a typed log leads to, so a supervisor must review"
)


_PREDICATES: dict[str, _Predicate] = {
    "cpa_boundary_breached": _when((), lambda a: None if a.evidence.cpa_boundary_intact else {}),
    "metrology_seal_broken": _when((), lambda a: None if a.evidence.metrology_seal_intact else {}),
    "security_seal_broken": _when(
        (),
        lambda a: {} if a.evidence.security_seal is SecuritySealState.broken else None,
    ),
    "integrity_alert": _when(("alerts",), lambda a: _listed(a.integrity_alerts)),
    "unexplained_cover_opening": _when(
        ("covers",),
        lambda a: {"covers": ", ".join(a.unexplained_covers)} if a.unexplained_covers else None,
    ),
    "explained_cover_opening": _when(("covers", "explanations"), _covers_explained),
    "unexplained_tamper_alert": _when(
        ("alerts", "window_hours"),
        lambda a: _listed(a.unexplained_alerts, window_hours=str(a.window_hours)),
    ),
    "explained_tamper_alert": _when(("alerts", "explanations", "window_hours"), _alerts_explained),
    "other_findings": _when(
        ("findings",),
        lambda a: None if a.evidence.findings is None else {"findings": a.evidence.findings},
    ),
    "unknown_alert": _when(("alerts",), lambda a: _listed(a.unknown_alerts)),
    "security_log_typed": _when(("reason",), _typed),
}


class TamperPolicy:
    """A validated tamper policy file; ``decide`` applies it to a device's evidence."""

    def __init__(self, source: bytes) -> None:
        """Parse and validate a policy file; raises PolicyError saying what is wrong and where."""
        self._source = bytes(source)
        self._hash = hashlib.sha256(self._source).hexdigest()
        document = _read_yaml(self._source)
        self._id = _policy_id(document)
        self._version = _policy_version(document)
        self._description = _required_text(document, "description")
        self._window_hours = _window_hours(document)
        self._severity = _severity(document)
        self._alert_codes = _alert_codes(document)
        self._rules = _rules(document)

    @classmethod
    def load(cls, data: bytes) -> TamperPolicy:
        """The policy in a YAML file's bytes, validated in full."""
        return cls(data)

    @property
    def id(self) -> str:
        return self._id

    @property
    def version(self) -> str:
        return self._version

    @property
    def description(self) -> str:
        return self._description

    @property
    def hash(self) -> str:
        """Hex SHA-256 of the policy file's bytes."""
        return self._hash

    @property
    def source(self) -> bytes:
        """The exact bytes of the policy file, to store beside decisions made with it."""
        return self._source

    @property
    def explanation_window(self) -> timedelta:
        return timedelta(hours=self._window_hours)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    @property
    def alert_codes(self) -> Mapping[int, AlertCode]:
        return dict(self._alert_codes)

    def suspicious(self, decision: TamperDecision) -> tuple[Reason, ...]:
        """The reasons of a quarantine decided by a rule this policy marks suspicious (none
        when the decision is not a quarantine)."""
        if decision.outcome is not Outcome.quarantine:
            return ()
        marked = {rule.id for rule in self._rules if rule.suspicious}
        return tuple(
            r for r in decision.reasons if r.outcome is Outcome.quarantine and r.rule in marked
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TamperPolicy) and other._source == self._source

    def __hash__(self) -> int:
        return hash(self._hash)

    def __repr__(self) -> str:
        return f"TamperPolicy(id={self._id!r}, version={self._version!r}, hash={self._hash[:12]!r})"

    def decide(self, evidence: TamperEvidence) -> TamperDecision:
        """Apply the policy: every matching rule gives a reason; the most severe outcome wins."""
        analysis = self._analyse(evidence)
        reasons: list[Reason] = []
        for rule in self._rules:
            values = _PREDICATES[rule.when].evaluate(analysis)
            if values is not None:
                reasons.append(Reason(rule.id, rule.outcome, rule.reason.format_map(values)))
        typed = _typed(analysis)
        if typed is not None and all(rule.when != "security_log_typed" for rule in self._rules):
            # A policy written before typed logs existed: a typed log is never eligible unseen.
            text = _TYPED_UNADDRESSED.format_map(typed)
            reasons.append(Reason(_TYPED_UNADDRESSED_RULE, Outcome.supervisor_review, text))
        if not reasons:
            reasons.append(Reason(_NO_EVIDENCE_RULE, Outcome.eligible, "no tamper evidence"))
        outcome = min((reason.outcome for reason in reasons), key=self._severity.index)
        return TamperDecision(outcome, tuple(reasons), self._id, self._version, self._hash)

    def _describe(self, alert: Alert) -> str:
        entry = self._alert_codes.get(alert.code)
        name = f"{alert.hex} {entry.name}" if entry else f"unknown alert {alert.hex}"
        return f"{name} at {_format_time(alert.at)}"

    def _analyse(self, evidence: TamperEvidence) -> _Analysis:
        by_class: dict[AlertClass | None, list[Alert]] = {}
        for alert in sorted(evidence.alerts, key=lambda alert: (alert.at, alert.code)):
            entry = self._alert_codes.get(alert.code)
            by_class.setdefault(entry.alert_class if entry else None, []).append(alert)
        power_events = by_class.get(AlertClass.explaining, [])

        explained_alerts: list[str] = []
        alert_explanations: list[str] = []
        unexplained_alerts: list[str] = []
        for alert in by_class.get(AlertClass.tamper, []):
            entry = self._alert_codes[alert.code]
            explainers = [
                reason.label
                for reason in evidence.legitimate_reasons
                if (alert.code in reason.alert_codes or entry.covers & reason.covers)
                and reason.covers_time(alert.at, self.explanation_window)
            ]
            if entry.power_explains:
                nearby = [
                    event
                    for event in power_events
                    if abs(event.at - alert.at) <= self.explanation_window
                ]
                if nearby:
                    nearest = min(nearby, key=lambda event: abs(event.at - alert.at))
                    explainers.append(self._describe(nearest))
            if explainers:
                explained_alerts.append(self._describe(alert))
                alert_explanations.append(f"{self._describe(alert)} by {' and '.join(explainers)}")
            else:
                unexplained_alerts.append(self._describe(alert))

        explained_covers: list[str] = []
        cover_explanations: list[str] = []
        unexplained_covers: list[str] = []
        # Enum order, so the same evidence always gives the same text.
        for cover in (cover for cover in Cover if cover in evidence.outer_covers_opened):
            labels = [r.label for r in evidence.legitimate_reasons if cover in r.covers]
            if labels:
                explained_covers.append(cover.label)
                cover_explanations.append(f"{cover.label} by {' and '.join(labels)}")
            else:
                unexplained_covers.append(cover.label)

        return _Analysis(
            evidence=evidence,
            window_hours=self._window_hours,
            integrity_alerts=tuple(map(self._describe, by_class.get(AlertClass.integrity, []))),
            unknown_alerts=tuple(map(self._describe, by_class.get(None, []))),
            unexplained_covers=tuple(unexplained_covers),
            explained_covers=tuple(explained_covers),
            explanations_of_covers=tuple(cover_explanations),
            unexplained_alerts=tuple(unexplained_alerts),
            explained_alerts=tuple(explained_alerts),
            explanations_of_alerts=tuple(alert_explanations),
        )


# Loading and validating a policy file.


class _StrictLoader(BoundedLoader):
    """SafeLoader that refuses duplicate keys, which YAML would otherwise let overwrite rules."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_TOP_LEVEL = {
    "id",
    "version",
    "description",
    "explanation_window_hours",
    "severity",
    "alert_codes",
    "rules",
}


def _read_yaml(source: bytes) -> dict[str, Any]:
    if len(source) > _MAX_POLICY_BYTES:
        raise PolicyError("", f"is {len(source)} bytes; at most {_MAX_POLICY_BYTES} allowed")
    try:
        document = load_yaml(source, "policy", max_bytes=_MAX_POLICY_BYTES, loader=_StrictLoader)
    except InputLimitError as error:
        raise PolicyError("", f"is {error.problem}") from None
    if not isinstance(document, dict):
        raise PolicyError("", "must be a YAML mapping with id, version, rules ...")
    _no_unknown_keys(document, _TOP_LEVEL, "")
    return document


def _no_unknown_keys(mapping: Mapping[Any, Any], allowed: Iterable[str], path: str) -> None:
    known = sorted(allowed)
    for key in mapping:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            raise PolicyError(where, f"unknown key; expected one of {', '.join(known)}")


def _required(mapping: Mapping[str, Any], key: str, path: str = "") -> Any:
    where = f"{path}.{key}" if path else key
    if key not in mapping or mapping[key] is None:
        raise PolicyError(where, "is missing")
    return mapping[key]


def _required_text(mapping: Mapping[str, Any], key: str, path: str = "") -> str:
    value = _required(mapping, key, path)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{path}.{key}" if path else key, "must be non-empty text")
    return value.strip()


def _policy_id(document: Mapping[str, Any]) -> str:
    value = _required_text(document, "id")
    if not _ID.match(value):
        raise PolicyError(
            "id", f"{value!r} must be 1-64 lower-case letters, digits, '.', '_' or '-'"
        )
    return value


def _policy_version(document: Mapping[str, Any]) -> str:
    value = _required(document, "version")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 32:
        raise PolicyError("version", 'must be text of 1-32 characters; quote it, e.g. "1.1"')
    return value.strip()


def _window_hours(document: Mapping[str, Any]) -> int:
    value = _required(document, "explanation_window_hours")
    # Whole hours only: decisions end up in the ledger, which refuses floats.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_WINDOW_HOURS:
        raise PolicyError(
            "explanation_window_hours",
            f"{value!r} must be a whole number of hours from 1 to {_MAX_WINDOW_HOURS}",
        )
    return value


def _severity(document: Mapping[str, Any]) -> tuple[Outcome, ...]:
    value = _required(document, "severity")
    expected = ", ".join(outcome.value for outcome in Outcome)
    if not isinstance(value, list) or sorted(map(str, value)) != sorted(Outcome):
        raise PolicyError("severity", f"must list each outcome once, most severe first: {expected}")
    order = tuple(Outcome(item) for item in value)
    # A matched eligible rule must never outrank evidence pointing elsewhere.
    if order[-1] is not Outcome.eligible:
        raise PolicyError("severity", "must end with eligible, the least severe outcome")
    return order


def _alert_code_key(key: object, path: str) -> int:
    code: object = key
    if isinstance(key, str):
        try:
            code = int(key, 16) if key.lower().startswith("0x") else int(key)
        except ValueError:
            code = None
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 0xFFFF:
        raise PolicyError(f"{path}.{key}", 'is not a 16-bit alert code such as "0x8F3F"')
    return code


def _alert_codes(document: Mapping[str, Any]) -> dict[int, AlertCode]:
    table = _required(document, "alert_codes")
    if not isinstance(table, dict):
        raise PolicyError("alert_codes", "must be a mapping from alert code to its description")
    codes: dict[int, AlertCode] = {}
    for key, row in table.items():
        code = _alert_code_key(key, "alert_codes")
        path = f"alert_codes.{key}"
        if code in codes:
            raise PolicyError(path, f"0x{code:04X} is listed twice")
        if not isinstance(row, dict):
            raise PolicyError(path, "must be a mapping with name and class")
        name = _required_text(row, "name", path)
        class_name = _required(row, "class", path)
        if class_name not in AlertClass.__members__:
            raise PolicyError(
                f"{path}.class",
                f"{class_name!r} is not one of {', '.join(AlertClass)}",
            )
        alert_class = AlertClass(class_name)
        if alert_class is not AlertClass.tamper:
            _no_unknown_keys(row, ("name", "class"), path)
            codes[code] = AlertCode(code, name, alert_class)
            continue
        _no_unknown_keys(row, ("name", "class", "covers", "power_explains"), path)
        covers = _required(row, "covers", path)
        if not isinstance(covers, list) or any(c not in Cover.__members__ for c in covers):
            raise PolicyError(
                f"{path}.covers", f"must be a list drawn from {', '.join(Cover)}, may be empty"
            )
        power_explains = _required(row, "power_explains", path)
        if not isinstance(power_explains, bool):
            raise PolicyError(f"{path}.power_explains", "must be true or false")
        codes[code] = AlertCode(
            code, name, alert_class, frozenset(map(Cover, covers)), power_explains
        )
    return codes


def _placeholders(template: str, path: str) -> set[str]:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise PolicyError(path, f"{error}; write a literal brace as {{{{ or }}}}") from None
    names: set[str] = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise PolicyError(
                path, f"placeholder {{{name}}} must be a plain name such as {{covers}}"
            )
        names.add(name)
    return names


_RULE_KEYS = ("id", "when", "outcome", "reason", "suspicious")


def _rules(document: Mapping[str, Any]) -> tuple[Rule, ...]:
    items = _required(document, "rules")
    if not isinstance(items, list) or not items:
        raise PolicyError("rules", "must be a non-empty list of rules")
    rules: list[Rule] = []
    for index, item in enumerate(items):
        path = f"rules[{index}]"
        if not isinstance(item, dict):
            raise PolicyError(
                path, "must be a mapping with id, when, outcome, reason (and suspicious)"
            )
        if isinstance(item.get("id"), str):
            _no_unknown_keys(item, _RULE_KEYS, f"{path} ({item['id']})")
        _no_unknown_keys(item, _RULE_KEYS, path)
        rule_id = _required_text(item, "id", path)
        if not _ID.match(rule_id) or rule_id in _RESERVED_RULES:
            raise PolicyError(
                f"{path}.id",
                f"{rule_id!r} must be 1-64 lower-case letters, digits, '.', '_' or '-', "
                f"and not {' or '.join(map(repr, _RESERVED_RULES))}",
            )
        if any(rule.id == rule_id for rule in rules):
            raise PolicyError(f"{path}.id", f"{rule_id!r} is used by an earlier rule")
        path = f"rules[{index}] ({rule_id})"
        when = _required_text(item, "when", path)
        if when not in _PREDICATES:
            raise PolicyError(
                f"{path}.when",
                f"unknown predicate {when!r}; known predicates: {', '.join(_PREDICATES)}",
            )
        outcome_name = _required_text(item, "outcome", path)
        if outcome_name not in Outcome.__members__:
            raise PolicyError(
                f"{path}.outcome",
                f"unknown outcome {outcome_name!r}; expected one of {', '.join(Outcome)}",
            )
        reason = _required_text(item, "reason", path)
        offered = _PREDICATES[when].placeholders
        for name in sorted(_placeholders(reason, f"{path}.reason") - offered):
            allowed = ", ".join(f"{{{p}}}" for p in sorted(offered)) or "none"
            raise PolicyError(
                f"{path}.reason",
                f"unknown placeholder {{{name}}} for predicate {when}; it offers {allowed}",
            )
        suspicious = item.get("suspicious", False)
        if not isinstance(suspicious, bool):
            raise PolicyError(f"{path}.suspicious", "must be true or false")
        rules.append(Rule(rule_id, when, Outcome(outcome_name), reason, suspicious))
    unused = [
        name
        for name in _PREDICATES
        if name not in _OPTIONAL_PREDICATES and all(rule.when != name for rule in rules)
    ]
    if unused:
        raise PolicyError(
            "rules",
            f"no rule uses {', '.join(unused)}: a policy must say what every kind of evidence "
            "leads to (outcome eligible records it without consequence)",
        )
    return tuple(rules)
