"""Tamper evidence as JSON: what the API accepts, what the ledger stores (no floats, UTC times)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from triage.domain.tamper_policy import (
    Alert,
    Cover,
    EvidenceError,
    LegitimateReason,
    SecuritySealState,
    TamperEvidence,
)
from triage.ledger.entry import format_time


def evidence_to_json(evidence: TamperEvidence) -> dict[str, Any]:
    """Evidence as plain JSON, in a stable order."""
    return {
        "metrology_seal_intact": evidence.metrology_seal_intact,
        "cpa_boundary_intact": evidence.cpa_boundary_intact,
        "outer_covers_opened": sorted(c.value for c in evidence.outer_covers_opened),
        "security_seal": evidence.security_seal.value,
        "alerts": [{"code": a.code, "at": format_time(a.at)} for a in evidence.alerts],
        "legitimate_reasons": [
            {
                "kind": r.kind,
                "reference": r.reference,
                "covers": sorted(c.value for c in r.covers),
                "alert_codes": sorted(r.alert_codes),
            }
            for r in evidence.legitimate_reasons
        ],
        "other_findings": evidence.findings,
    }


def evidence_from_json(obj: Mapping[str, Any]) -> TamperEvidence:
    """Evidence from JSON input; EvidenceError names the field that is wrong."""
    known = {
        "metrology_seal_intact",
        "cpa_boundary_intact",
        "outer_covers_opened",
        "security_seal",
        "alerts",
        "legitimate_reasons",
        "other_findings",
    }
    unknown = sorted(set(obj) - known)
    if unknown:
        raise EvidenceError(unknown[0], "is not a field of the inspection")
    for required in ("metrology_seal_intact", "cpa_boundary_intact"):
        if required not in obj:
            raise EvidenceError(required, "is required: was the boundary found intact?")
    alerts = []
    for index, raw in enumerate(_list(obj.get("alerts", []), "alerts")):
        if not isinstance(raw, Mapping):
            raise EvidenceError(f"alerts[{index}]", "must be an object with code and at")
        alerts.append(
            Alert(_code(raw.get("code"), f"alerts[{index}].code"), _time(raw.get("at"), index))
        )
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
            )
        )
    return TamperEvidence(
        metrology_seal_intact=obj["metrology_seal_intact"],
        cpa_boundary_intact=obj["cpa_boundary_intact"],
        outer_covers_opened=_covers(obj.get("outer_covers_opened", []), "outer_covers_opened"),
        security_seal=obj.get("security_seal", SecuritySealState.none_fitted.value),
        alerts=tuple(alerts),
        legitimate_reasons=tuple(reasons),
        other_findings=obj.get("other_findings"),
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


def _time(value: object, index: int) -> datetime:
    field = f"alerts[{index}].at"
    if not isinstance(value, str):
        raise EvidenceError(field, "must be an RFC 3339 time such as 2026-11-20T08:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EvidenceError(field, f"{value!r} is not an RFC 3339 time") from None
    if parsed.utcoffset() is None:
        raise EvidenceError(field, "must include a time zone (Z for UTC)")
    return parsed
