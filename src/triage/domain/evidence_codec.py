"""Tamper evidence as JSON: what the API accepts (``inspection_from_json``) and what the ledger
stores (``evidence_to_json`` / ``evidence_from_json``; no floats, UTC times).

The two differ in the alerts. An inspection does not carry them: they come from the device's
own security log, recorded for the job before the inspection, or, when it could not be read,
from ``typed_log`` (a reason and each code with the time the device's display shows). The
stored evidence keeps the alerts the decision used, with their real times, and which log they
came from; evidence stored before logs were read has no ``security_log`` and still reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from triage.domain.tamper_policy import (
    Alert,
    Cover,
    EvidenceError,
    LegitimateReason,
    LogSource,
    SecurityLogUsed,
    SecuritySealState,
    TamperEvidence,
)
from triage.ledger.entry import format_time

ALERTS_REFUSED = (
    "the security log comes from the device (read by the bench tool or uploaded by a "
    "supervisor); to type it by hand use typed_log with the reason it could not be read"
)
MAX_TYPED_ALERTS = 500


@dataclass(frozen=True)
class TypedLog:
    """A security log typed by hand from the device's display, and why it was not read."""

    reason: str
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class Inspection:
    """What the inspector recorded: the evidence without alerts, and a typed log if any."""

    evidence: TamperEvidence
    typed_log: TypedLog | None


def evidence_to_json(evidence: TamperEvidence) -> dict[str, Any]:
    """Evidence as plain JSON, in a stable order."""
    return {
        "metrology_seal_intact": evidence.metrology_seal_intact,
        "cpa_boundary_intact": evidence.cpa_boundary_intact,
        "outer_covers_opened": sorted(c.value for c in evidence.outer_covers_opened),
        "security_seal": evidence.security_seal.value,
        "alerts": alerts_to_json(evidence.alerts),
        "legitimate_reasons": [_reason_to_json(r) for r in evidence.legitimate_reasons],
        "other_findings": evidence.findings,
        **(
            {}
            if evidence.security_log is None
            else {"security_log": _log_to_json(evidence.security_log)}
        ),
    }


def alerts_to_json(alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    """Alerts (or a security log's entries) as stored: the code as a number, the time in UTC."""
    return [{"code": a.code, "at": format_time(a.at)} for a in alerts]


def alerts_from_json(value: object, field: str = "alerts") -> tuple[Alert, ...]:
    """Alerts as ``alerts_to_json`` stores them, or as typed (codes such as "0x8F3F" too)."""
    return _alerts(value, field)


def _reason_to_json(reason: LegitimateReason) -> dict[str, Any]:
    return {
        "kind": reason.kind,
        "reference": reason.reference,
        "covers": sorted(c.value for c in reason.covers),
        "alert_codes": sorted(reason.alert_codes),
        **({} if reason.on is None else {"on": reason.on.isoformat()}),
    }


def _log_to_json(log: SecurityLogUsed) -> dict[str, Any]:
    return {
        "source": log.source.value,
        "sha256": log.sha256,
        "use_case": log.use_case,
        "reason": log.reason,
    }


_FIELDS = {
    "metrology_seal_intact",
    "cpa_boundary_intact",
    "outer_covers_opened",
    "security_seal",
    "legitimate_reasons",
    "other_findings",
}


def evidence_from_json(obj: Mapping[str, Any]) -> TamperEvidence:
    """Evidence as the ledger stores it (with its alerts and, since logs are read, the log
    they came from); EvidenceError names the field that is wrong."""
    _known(obj, _FIELDS | {"alerts", "security_log"})
    alerts = _alerts(obj.get("alerts", []), "alerts")
    log = obj.get("security_log")
    if log is not None and not isinstance(log, Mapping):
        raise EvidenceError("security_log", "must be an object with source and sha256")
    used = None
    if log is not None:
        _known(log, {"source", "sha256", "use_case", "reason"}, "security_log.")
        used = SecurityLogUsed(
            source=log.get("source", ""),
            sha256=log.get("sha256"),
            use_case=_optional_text(log.get("use_case"), "security_log.use_case"),
            reason=log.get("reason"),
        )
    return _evidence(obj, alerts, used)


def inspection_from_json(obj: Mapping[str, Any]) -> Inspection:
    """An inspection as the API, the web form and the CLI give it (no alerts: they come from
    the device's log, or from ``typed_log``); EvidenceError names the field that is wrong."""
    if "alerts" in obj:
        raise EvidenceError("alerts", ALERTS_REFUSED)
    _known(obj, _FIELDS | {"typed_log"})
    typed = None
    if "typed_log" in obj and obj["typed_log"] is not None:
        raw = obj["typed_log"]
        if not isinstance(raw, Mapping):
            raise EvidenceError("typed_log", "must be an object with reason and alerts")
        _known(raw, {"reason", "alerts"}, "typed_log.")
        reason = raw.get("reason")
        # The reason is checked as the recorded log's: non-empty text, no control characters.
        SecurityLogUsed(LogSource.TYPED, None, reason=reason)
        alerts = _alerts(raw.get("alerts", []), "typed_log.alerts")
        if len(alerts) > MAX_TYPED_ALERTS:
            raise EvidenceError("typed_log.alerts", f"at most {MAX_TYPED_ALERTS} alerts")
        typed = TypedLog(str(reason), alerts)
    return Inspection(_evidence(obj, (), None), typed)


def _known(obj: Mapping[str, Any], known: set[str], prefix: str = "") -> None:
    unknown = sorted(str(key) for key in set(obj) - known)
    if unknown:
        raise EvidenceError(prefix + unknown[0], "is not a field of the inspection")


def _alerts(value: object, field: str) -> tuple[Alert, ...]:
    alerts = []
    for index, raw in enumerate(_list(value, field)):
        where = f"{field}[{index}]"
        if not isinstance(raw, Mapping):
            raise EvidenceError(where, "must be an object with code and at")
        alerts.append(Alert(_code(raw.get("code"), f"{where}.code"), _time(raw.get("at"), where)))
    return tuple(alerts)


def _optional_text(value: object, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise EvidenceError(field, "must be text or null")
    return value


def _evidence(
    obj: Mapping[str, Any], alerts: tuple[Alert, ...], log: SecurityLogUsed | None
) -> TamperEvidence:
    for required in ("metrology_seal_intact", "cpa_boundary_intact"):
        if required not in obj:
            raise EvidenceError(required, "is required: was the boundary found intact?")
    reasons = []
    for index, raw in enumerate(_list(obj.get("legitimate_reasons", []), "legitimate_reasons")):
        if not isinstance(raw, Mapping):
            raise EvidenceError(f"legitimate_reasons[{index}]", "must be an object")
        reasons.append(
            LegitimateReason(
                kind=raw.get("kind", ""),
                reference=raw.get("reference", ""),
                covers=_covers(raw.get("covers", []), "legitimate_reasons.covers"),
                alert_codes=frozenset(
                    _code(c, "legitimate_reasons.alert_codes")
                    for c in _list(raw.get("alert_codes", []), "legitimate_reasons.alert_codes")
                ),
                on=_date(raw.get("on"), f"legitimate_reasons[{index}].on"),
            )
        )
    return TamperEvidence(
        metrology_seal_intact=obj["metrology_seal_intact"],
        cpa_boundary_intact=obj["cpa_boundary_intact"],
        outer_covers_opened=_covers(obj.get("outer_covers_opened", []), "outer_covers_opened"),
        security_seal=obj.get("security_seal", SecuritySealState.none_fitted.value),
        alerts=alerts,
        legitimate_reasons=tuple(reasons),
        other_findings=obj.get("other_findings"),
        security_log=log,
    )


def _list(value: object, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise EvidenceError(field, "must be a list")
    return value


def _covers(value: object, field: str) -> frozenset[Cover]:
    # Checked one by one before they go into a set: an object or a list in the list is not
    # hashable, and was a TypeError instead of a refusal naming the field.
    valid = [cover.value for cover in Cover]
    items = _list(value, field)
    for item in items:
        if not isinstance(item, str) or item not in valid:
            raise EvidenceError(field, f"{item!r} is not one of {', '.join(valid)}")
    return frozenset(Cover(item) for item in items)


def _code(value: object, field: str) -> int:
    # GBCS alert codes are usually written in hex: accept "0x8F3F" as well as 36671.
    if isinstance(value, str):
        try:
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            raise EvidenceError(field, f"{value!r} is not an alert code such as 0x8F3F") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvidenceError(field, f"{value!r} is not an alert code such as 0x8F3F")
    return value


def _date(value: object, field: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EvidenceError(field, "must be a date such as 2026-12-01")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise EvidenceError(field, f"{value!r} is not a date such as 2026-12-01") from None


def _time(value: object, where: str) -> datetime:
    field = f"{where}.at"
    if not isinstance(value, str):
        raise EvidenceError(field, "must be an RFC 3339 time such as 2026-11-20T08:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EvidenceError(field, f"{value!r} is not an RFC 3339 time") from None
    if parsed.utcoffset() is None:
        raise EvidenceError(field, "must include a time zone (Z for UTC)")
    return parsed
