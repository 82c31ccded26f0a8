"""The inspection as the API gives it (no alerts: they come from the device's log, or a typed
log with its reason) and the evidence as the ledger stores it (old entries still read)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.domain.evidence_codec import (
    evidence_from_json,
    evidence_to_json,
    inspection_from_json,
)
from triage.domain.tamper_policy import Alert, Cover, EvidenceError, LogSource

INTACT: dict[str, Any] = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
# An inspection's evidence as the ledger stored it before security logs were read.
LEGACY: dict[str, Any] = {
    **INTACT,
    "outer_covers_opened": ["terminal"],
    "security_seal": "none_fitted",
    "alerts": [{"code": 0x8F76, "at": "2026-11-20T08:00:00.000000Z"}],
    "legitimate_reasons": [
        {"kind": "supplier_job", "reference": "J-1", "covers": ["terminal"], "alert_codes": []}
    ],
    "other_findings": None,
}


def test_evidence_stored_before_logs_were_read_still_reads_and_stores_the_same() -> None:
    found = evidence_from_json(LEGACY)
    assert found.security_log is None
    assert found.alerts == (Alert(0x8F76, datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),)
    assert evidence_to_json(found) == LEGACY


def test_stored_evidence_names_the_log_and_the_jobs_date() -> None:
    stored = {
        **LEGACY,
        "legitimate_reasons": [{**LEGACY["legitimate_reasons"][0], "on": "2026-11-20"}],
        "security_log": {
            "source": "supplier",
            "sha256": "ab" * 32,
            "use_case": "ECS35b",
            "reason": None,
        },
    }
    found = evidence_from_json(stored)
    assert found.security_log is not None
    assert (found.security_log.source, found.security_log.use_case) == (
        LogSource.SUPPLIER,
        "ECS35b",
    )
    assert found.legitimate_reasons[0].on == date(2026, 11, 20)
    assert evidence_to_json(found) == stored


def test_an_inspection_carries_no_alerts_of_its_own() -> None:
    with pytest.raises(EvidenceError, match="alerts: the security log comes from the device"):
        inspection_from_json({**INTACT, "alerts": []})
    with pytest.raises(EvidenceError, match="security_log: is not a field"):
        inspection_from_json({**INTACT, "security_log": {"source": "tool"}})


def test_an_inspection_gives_the_physical_checks_reasons_and_a_typed_log() -> None:
    given_ = inspection_from_json(
        {
            **INTACT,
            "outer_covers_opened": ["terminal"],
            "legitimate_reasons": [
                {"kind": "supplier_job", "reference": "SJ-1", "covers": ["terminal"], "on": ""}
            ],
            "typed_log": {
                "reason": "log unreadable: no optical port",
                "alerts": [{"code": "0x8F3F", "at": "2026-11-20T08:00:00+01:00"}],
            },
        }
    )
    assert given_.evidence.outer_covers_opened == frozenset({Cover.terminal})
    assert given_.evidence.alerts == ()
    assert given_.evidence.legitimate_reasons[0].on is None  # an empty date field: no date
    assert given_.typed_log is not None
    assert given_.typed_log.reason == "log unreadable: no optical port"
    assert given_.typed_log.alerts == (Alert(0x8F3F, datetime(2026, 11, 20, 7, 0, tzinfo=UTC)),)
    assert inspection_from_json(INTACT).typed_log is None


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ({"on": "20/11/2026"}, r"legitimate_reasons\[0\]\.on: '20/11/2026' is not a date"),
        ({"on": 20261120}, r"legitimate_reasons\[0\]\.on: must be a date"),
    ],
)
def test_a_legitimate_reasons_date_is_refused_naming_the_field(
    reason: dict[str, Any], problem: str
) -> None:
    base = {"kind": "supplier_job", "reference": "SJ-1", "covers": ["terminal"]}
    with pytest.raises(EvidenceError, match=problem):
        inspection_from_json({**INTACT, "legitimate_reasons": [{**base, **reason}]})


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@given(
    st.fixed_dictionaries(
        {"reason": JSONISH, "alerts": st.lists(st.fixed_dictionaries({"code": JSONISH}))}
    )
    | JSONISH
)
def test_any_typed_log_is_read_or_refused_naming_the_field(typed: Any) -> None:
    field = None
    try:
        found = inspection_from_json({**INTACT, "typed_log": typed})
    except EvidenceError as exc:
        field = exc.field
    if field is not None:
        assert field.startswith("typed_log")
    else:
        assert found.typed_log is None or found.typed_log.reason.strip()
