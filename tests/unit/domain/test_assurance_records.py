"""The assurance records as the API and ``--json`` show them: the facility's standing, the
controls in force and each control's readiness, spelt as before they were records (dates as
YYYY-MM-DD, times as RFC 3339 UTC with a 'Z')."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from triage.domain.assessment import Due, Kind, Result, SecParty
from triage.domain.assurance_records import (
    AdoptedCatalogue,
    Approval,
    AssuranceStatus,
    CommissioningState,
    ControlsInForce,
    ControlStatus,
    NextAssessment,
    OverdueAction,
    OverdueFinding,
    RecordedParty,
    StepState,
)
from triage.domain.catalogue import Catalogue, Control, EvidenceRecord, Expected, readiness

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONTROL = Control(
    "X1",
    "SEC X1",
    "Section X",
    "A control",
    "Something is done and shown.",
    (Expected("automatic", "breaches", "Breaches"), Expected("upload", "doc", "The policy")),
)


def _catalogue(sha256: str) -> Catalogue:
    return Catalogue("test", "A test catalogue", "1.0", "2026-01-01", "made up", sha256, (CONTROL,))


def test_the_standing_reads_as_the_api_answers_it() -> None:
    status = AssuranceStatus(
        party=RecordedParty(SecParty("P-1", "Provider Ltd", ("Other SEC Party",)), "ann", T0),
        approval=Approval(
            False,
            "steps of its approval are overdue",
            Result.APPROVAL_WITH_STEPS,
            (StepState("s-1", "Send the report", date(2026, 2, 1), None, True),),
        ),
        commissioning=CommissioningState(T0 + timedelta(days=5), "test devices", True),
        may_triage=True,
        may_triage_because="commissioning mode",
        next_assessment=NextAssessment(Due(Kind.VUSA, date(2027, 1, 5), ["steps"], False), 12),
        overdue_findings=(OverdueFinding("a-1", "f-1", "X1", date(2026, 2, 1)),),
        overdue_actions=(OverdueAction("a-1", "x-1", "sam", date(2026, 2, 2)),),
    )
    assert status.to_json() == {
        "party": {
            "party_id": "P-1",
            "name": "Provider Ltd",
            "roles": ["Other SEC Party"],
            "recorded_by": "ann",
            "recorded_at": "2026-03-01T12:00:00.000000Z",
        },
        "approval": {
            "approved": False,
            "why": "steps of its approval are overdue",
            "result": "approval_with_steps",
            "steps": [
                {
                    "id": "s-1",
                    "description": "Send the report",
                    "due": "2026-02-01",
                    "done_at": None,
                    "overdue": True,
                }
            ],
        },
        "commissioning": {
            "until": "2026-03-06T12:00:00.000000Z",
            "reason": "test devices",
            "active": True,
        },
        "may_triage": True,
        "may_triage_because": "commissioning mode",
        "next_assessment": {
            "kind": "VUSA",
            "title": "Verification User Security Assessment",
            "due": "2027-01-05",
            "overdue": False,
            "reasons": ["steps"],
            "devices_last_12_months": 12,
        },
        "overdue": {
            "findings": [
                {
                    "assessment_id": "a-1",
                    "finding_id": "f-1",
                    "control_id": "X1",
                    "due": "2026-02-01",
                }
            ],
            "actions": [
                {"assessment_id": "a-1", "action_id": "x-1", "owner": "sam", "due": "2026-02-02"}
            ],
        },
    }


def test_the_controls_say_whether_the_catalogue_is_adopted_and_differs_from_the_packaged() -> None:
    adopted = AdoptedCatalogue("test", "1.0", "a" * 64, "yaml", "sam", T0)
    listing = ControlsInForce(
        _catalogue("a" * 64), adopted, _catalogue("b" * 64), (ControlStatus(CONTROL, False, "n/a"),)
    )
    found = listing.to_json()
    assert found["catalogue"]["adopted"] is True
    assert found["catalogue"]["adopted_at"] == "2026-03-01T12:00:00.000000Z"
    assert found["catalogue"]["adopted_by"] == "sam"
    assert found["catalogue"]["packaged_differs"] is True
    assert found["controls"] == [{**CONTROL.to_json(), "applicable": False, "reason": "n/a"}]
    packaged = ControlsInForce(_catalogue("b" * 64), None, _catalogue("b" * 64), ()).to_json()
    assert packaged["catalogue"]["adopted"] is False
    assert packaged["catalogue"]["adopted_at"] is None
    assert packaged["catalogue"]["packaged_differs"] is False


def test_readiness_spells_when_evidence_was_recorded_and_none_when_it_is_missing() -> None:
    [row] = readiness([CONTROL], {}, [EvidenceRecord("ev-1", "automatic", "breaches", T0)], T0)
    assert row.to_json() == {
        "control": CONTROL.to_json(),
        "status": "missing",
        "reason": None,
        "evidence": [
            {
                "kind": "automatic",
                "name": "breaches",
                "title": "Breaches",
                "state": "fresh",
                "evidence_id": "ev-1",
                "recorded_at": "2026-03-01T12:00:00.000000Z",
            },
            {
                "kind": "upload",
                "name": "doc",
                "title": "The policy",
                "state": "missing",
                "evidence_id": None,
                "recorded_at": None,
            },
        ],
    }
