"""The OSCAL exports load with compliance-trestle's models and pass `trestle validate`."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from trestle.oscal import OSCAL_VERSION as TRESTLE_OSCAL_VERSION
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.poam import PlanOfActionAndMilestones

from triage.adapters import oscal
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.catalogue import Catalogue, Control, control_from
from triage.domain.incident import (
    Incident,
    IncidentKind,
    IncidentStatus,
    Notification,
    Severity,
)
from triage.services.incident_reports import incident_json

AT = datetime(2026, 12, 21, 9, 30, tzinfo=UTC)
FACILITY = {"id": "demo", "name": "Demo Triage Facility"}
TRESTLE = Path(sys.executable).parent / "trestle"
NA_REASON = "The facility has no remote access to Devices; all work is done at the bench."

ASSESSMENT_ID = "0b6f4c1e-7d55-4f38-9a41-3c2f1e8d9a10"
CLOSED_FINDING = "5c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"
OPEN_FINDING = "9e8d7c6b-5a49-4382-b716-0f1e2d3c4b5a"
ACTION = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
EVIDENCE = [
    "2f3e4d5c-6b7a-4899-aabb-ccddeeff0011",
    "3a4b5c6d-7e8f-4011-9233-445566778899",
    "4b5c6d7e-8f90-4122-a344-5566778899aa",
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return PackagedFiles().catalogue()


@pytest.fixture(scope="module")
def provider_control() -> Control:
    return control_from(
        {
            "id": "P-ISO-1",
            "clause": "ISO/IEC 27001 A.5.1",
            "group": "Provider's own controls",
            "title": "Information security policy",
            "requirement": "The provider keeps an information security policy, reviewed yearly.",
            "evidence": [
                {"kind": "upload", "name": "security-policy", "title": "The policy, signed"},
                {"kind": "automatic", "name": "access_review", "title": "Who holds which role"},
            ],
        },
        "p",
        provider=True,
    )


def make_assessment() -> dict[str, Any]:
    """A FUSA as the assessment service exports it: one finding closed, one open with a
    response and an action, an approval with steps and three pieces of evidence."""
    return {
        "id": ASSESSMENT_ID,
        "kind": "FUSA",
        "assessor": "Acme Assurance Ltd",
        "scope": "The Demo Triage Facility: bench, tools, people and the ledger.",
        "status": "reported",
        "planned_at": "2026-11-24",
        "fieldwork_start": "2026-12-01",
        "fieldwork_end": "2026-12-03",
        "controls": ["G1", "G3.1", "G3.3", "TD.2"],
        "findings": [
            {
                "id": CLOSED_FINDING,
                "control_id": "G1",
                "severity": "low",
                "description": "The scope statement did not name the deputy.",
                "raised_at": "2026-12-02T14:00:00.000000Z",
                "response": None,
                "status": "closed",
            },
            {
                "id": OPEN_FINDING,
                "control_id": "G3.3",
                "severity": "medium",
                "description": "Two leavers kept their accounts for a week.\nNo review caught it.",
                "raised_at": "2026-12-03T10:00:00.000000Z",
                "response": {
                    "text": "Accounts are now closed on the leaving day by HR's checklist.",
                    "due": "2027-01-15",
                    "responded_at": "2026-12-10T09:00:00.000000Z",
                    "by": "sam",
                },
                "status": "open",
            },
        ],
        "actions": [
            {
                "id": ACTION,
                "finding_id": OPEN_FINDING,
                "description": "Add account closure to the leavers' checklist and review monthly.",
                "owner": "sam",
                "due": "2027-02-01",
                "status": "open",
                "done_at": None,
            }
        ],
        "outcome": {
            "result": "approval_with_steps",
            "decided_at": "2026-12-20T15:00:00.000000Z",
            "steps": [
                {
                    "description": "Show a month of access reviews.",
                    "due": "2027-03-01",
                    "done_at": None,
                }
            ],
        },
        "evidence": [
            {
                "id": EVIDENCE[0],
                "kind": "automatic",
                "name": "ledger_verification",
                "title": "Ledger verification",
                "sha256": "a" * 64,
                "recorded_at": "2026-12-02T08:00:00.000000Z",
                "ledger_index": 123,
            },
            {
                "id": EVIDENCE[1],
                "kind": "automatic",
                "name": "access_review",
                "title": "Access review",
                "sha256": "b" * 64,
                "recorded_at": "2026-12-02T08:05:00.000000Z",
                "ledger_index": 124,
            },
            {
                "id": EVIDENCE[2],
                "kind": "upload",
                "name": "security-scope",
                "title": "Security scope statement",
                "sha256": "c" * 64,
                "recorded_at": "2026-11-30T16:20:00.000000Z",
                "ledger_index": None,
            },
        ],
    }


INCIDENT = "7c6b5a49-3827-4615-8e4d-3c2b1a098765"
VULNERABILITY = "8d7c6b5a-4938-4726-9f5e-4d3c2b1a0987"


def make_register() -> list[dict[str, Any]]:
    """The register as the incident reports service gives it: a tool suspension notified late
    to the SSC and still owed to nobody else, and a vulnerability closed without its
    notification, with the justification."""
    raised = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    suspension = Incident(
        INCIDENT,
        IncidentKind.INCIDENT,
        "tool_suspended",
        Severity.HIGH,
        "unauthorised_activity",
        "Triage Tool suspended: tool TT-1",
        "Anomalous resets in an hour",
        IncidentStatus.CONTAINED,
        "incident-register",
        raised,
        about_kind="tool",
        about_id="TT-1",
        contained_by="sam",
        contained_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
        containment="Tool taken off the bench",
        notifications=(
            Notification(
                "ssc",
                datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
                datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
                "sam",
                "SSC-2026-17",
            ),
        ),
    )
    vulnerability = Incident(
        VULNERABILITY,
        IncidentKind.VULNERABILITY,
        "manual",
        Severity.MEDIUM,
        "vulnerability",
        "Outdated TLS library on the bench agent",
        "CVE in the TLS library",
        IncidentStatus.CLOSED,
        "sam",
        raised,
        closed_by="sam",
        closed_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC),
        closure="Library upgraded on every bench",
        closure_justification="The SSC said no notification was needed",
        notifications=(Notification("ssc", datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),),
    )
    return [incident_json(suspension, AT), incident_json(vulnerability, AT)]


def build_all(
    catalogue: Catalogue, provider_control: Control, at: datetime = AT
) -> dict[str, dict[str, Any]]:
    controls = [*catalogue.controls, provider_control]
    assessment = make_assessment()
    return {
        "catalog": oscal.catalog(catalogue, [provider_control], {"G8.2": NA_REASON}, at),
        "assessment-results": oscal.assessment_results(
            assessment, controls, FACILITY, at, make_register()
        ),
        "plan-of-action-and-milestones": oscal.plan_of_action([assessment], controls, FACILITY, at),
    }


def props(obj: Any) -> dict[str, Any]:
    """An OSCAL object's properties by name (the last of a name wins)."""
    return {p.name: p for p in obj.props or []}


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def trestle(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TRESTLE), *args], cwd=root, capture_output=True, text=True, timeout=120
    )


def trestle_workspace(root: Path) -> Path:
    done = trestle(root, "init")
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def write(root: Path, kind: str, name: str, doc: dict[str, Any]) -> Path:
    folder = {
        "catalog": "catalogs",
        "assessment-results": "assessment-results",
        "plan-of-action-and-milestones": "plan-of-action-and-milestones",
    }[kind]
    path = root / folder / name / f"{kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(doc))
    return path


# -- 1. the catalog --------------------------------------------------------------------------


def test_catalog_has_every_control_under_its_label(
    catalogue: Catalogue, provider_control: Control
) -> None:
    doc = oscal.catalog(catalogue, [provider_control], {"G8.2": NA_REASON}, AT)

    assert list(doc) == ["catalog"]
    model = Catalog.model_validate(doc["catalog"])
    assert model.metadata.version == catalogue.version
    # trestle accepts any oscal-version, so check we claim the one its models are made from
    assert oscal.OSCAL_VERSION == TRESTLE_OSCAL_VERSION
    assert model.metadata.oscal_version.root.root == oscal.OSCAL_VERSION
    assert props(model.metadata)["catalogue-sha256"].value == catalogue.sha256

    groups = model.groups or []
    by_title = {g.title: g for g in groups}
    assert list(by_title) == ["Section G", "Triage duties", "Provider's own controls"]
    controls = [c for g in groups for c in getattr(g, "controls", None) or []]
    ours = [*catalogue.controls, provider_control]
    assert len(controls) == len(ours)
    assert [props(c)["label"].value for c in controls] == [c.id for c in ours]
    assert len({c.id for c in controls}) == len(controls)
    assert {c.id for c in controls} >= {"g3-1", "td-2", "p-iso-1"}

    for control, source in zip(controls, ours, strict=True):
        found = props(control)
        assert found["label"].ns is None  # OSCAL's own 'label', not ours
        assert found["clause"].value == source.clause
        assert str(found["clause"].ns) == oscal.NS
        assert found["produced-by-system"].value == source.produced_by_system
        assert found["provider"].value == ("true" if source.provider else "false")
        parts = {p.name: p for p in control.parts or []}
        assert parts["statement"].prose == source.requirement
        expected = [
            (props(p)["evidence-kind"].value, props(p)["evidence-name"].value)
            for p in parts["assessment-method"].parts or []
        ]
        assert expected == [(e.kind, e.name) for e in source.evidence]
        if source.id == "G8.2":
            assert found["not-applicable"].value == "true"
            assert found["not-applicable"].remarks == NA_REASON
        else:
            assert "not-applicable" not in found

    assert props(controls[-1])["provider"].value == "true"
    assert NA_REASON in dumps(doc).decode()


def test_catalog_refuses_ids_that_would_clash(catalogue: Catalogue) -> None:
    def mine(control_id: str) -> Control:
        raw = {
            "id": control_id,
            "clause": "x",
            "group": "Mine",
            "title": "t",
            "requirement": "r",
            "evidence": [{"kind": "upload", "name": "doc-a", "title": "A"}],
        }
        return control_from(raw, "p", provider=True)

    clash, twin = mine("P-ISO.1"), mine("P-ISO-1")
    with pytest.raises(ValueError, match="p-iso-1"):
        oscal.catalog(catalogue, [clash, twin], {}, AT)
    with pytest.raises(ValueError, match="P-NOPE"):
        oscal.catalog(catalogue, [], {"P-NOPE": "no such control"}, AT)


# -- 2. assessment results and the POA&M -----------------------------------------------------


def test_assessment_results_and_poam_load_and_link(
    catalogue: Catalogue, provider_control: Control
) -> None:
    docs = build_all(catalogue, provider_control)
    ar_doc, poam_doc = docs["assessment-results"], docs["plan-of-action-and-milestones"]
    assert list(ar_doc) == ["assessment-results"]
    assert list(poam_doc) == ["plan-of-action-and-milestones"]

    ar = AssessmentResults.model_validate(ar_doc["assessment-results"])
    assert ar.metadata.oscal_version.root.root == oscal.OSCAL_VERSION
    [result] = ar.results
    assert result.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert result.end is not None and result.end.tzinfo is not None
    assert result.end.date().isoformat() == "2026-12-03"
    result_props = props(result)
    assert result_props["outcome"].value == "approval_with_steps"
    assert result_props["outcome-step"].group == "step-1"
    assert result_props["outcome-step-due"].value == "2027-03-01"

    # the import-ap points at a back-matter resource: the assessment's own record
    resources = {r.uuid: r for r in ar.back_matter.resources or []}  # type: ignore[union-attr]
    assert ar.import_ap.href == f"#{ASSESSMENT_ID}"
    assert ASSESSMENT_ID in resources

    [selection] = result.reviewed_controls.control_selections
    assert [c.control_id for c in selection.include_controls] == [  # type: ignore[union-attr]
        "g1",
        "g3-1",
        "g3-3",
        "td-2",
    ]

    observations = result.observations or []
    assert len(observations) == 3 + len(make_register())  # the evidence, then the register
    evidence_observed = observations[:3]
    for observation, evidence in zip(evidence_observed, make_assessment()["evidence"], strict=True):
        [relevant] = observation.relevant_evidence or []
        assert relevant.href == f"#{evidence['id']}"
        found = props(relevant)
        assert found["sha256"].value == evidence["sha256"]
        assert found["evidence-name"].value == evidence["name"]
        assert found["evidence-kind"].value == evidence["kind"]
        if evidence["ledger_index"] is None:
            assert "ledger-index" not in found
        else:
            assert found["ledger-index"].value == str(evidence["ledger_index"])
        [rlink] = resources[evidence["id"]].rlinks or []
        assert rlink.href == f"evidence/{evidence['id']}"
        assert [h.value for h in rlink.hashes or []] == [evidence["sha256"]]

    findings = {f.uuid: f for f in result.findings or []}
    assert set(findings) == {CLOSED_FINDING, OPEN_FINDING}
    assert findings[CLOSED_FINDING].target.target_id == "g1"
    assert findings[OPEN_FINDING].target.target_id == "g3-3"
    assert findings[OPEN_FINDING].target.type.value == "objective-id"
    assert findings[OPEN_FINDING].target.status.state.value == "not-satisfied"  # type: ignore[union-attr]
    assert props(findings[OPEN_FINDING])["severity"].value == "medium"
    assert props(findings[OPEN_FINDING])["response-due"].value == "2027-01-15"
    assert "leaving day" in (findings[OPEN_FINDING].remarks or "")
    # G1 expects the scope statement and the access review: the finding relates to both
    related = findings[CLOSED_FINDING].related_observations or []
    assert [o.observation_uuid for o in related] == [observations[2].uuid, observations[1].uuid]

    poam = PlanOfActionAndMilestones.model_validate(poam_doc["plan-of-action-and-milestones"])
    assert poam.system_id is not None and poam.system_id.id == "demo"
    [item] = poam.poam_items
    assert [r.finding_uuid for r in item.related_findings or []] == [OPEN_FINDING]
    assert [f.uuid for f in poam.findings or []] == [OPEN_FINDING]
    assert poam.findings[0].target.target_id == "g3-3"  # type: ignore[index]
    assert CLOSED_FINDING not in dumps(poam_doc).decode()
    [risk] = poam.risks or []
    assert [r.risk_uuid for r in item.related_risks or []] == [risk.uuid]
    remediations = {r.uuid: r for r in risk.remediations or []}
    action = remediations[ACTION]
    assert props(action)["owner"].value == "sam"
    assert props(action)["due"].value == "2027-02-01"
    [milestone] = action.tasks or []
    assert milestone.timing.on_date.date.date().isoformat() == "2027-02-01"  # type: ignore[union-attr]


def test_poam_keeps_a_closed_finding_with_an_open_action_and_says_when_nothing_is_open(
    catalogue: Catalogue,
) -> None:
    assessment = make_assessment()
    assessment["findings"][1]["status"] = "closed"
    poam_doc = oscal.plan_of_action([assessment], catalogue.controls, FACILITY, AT)
    poam = PlanOfActionAndMilestones.model_validate(poam_doc["plan-of-action-and-milestones"])
    assert [r.finding_uuid for i in poam.poam_items for r in i.related_findings or []] == [
        OPEN_FINDING
    ]

    assessment["actions"][0].update(status="done", done_at="2027-01-20T12:00:00.000000Z")
    poam_doc = oscal.plan_of_action([assessment], catalogue.controls, FACILITY, AT)
    poam = PlanOfActionAndMilestones.model_validate(poam_doc["plan-of-action-and-milestones"])
    [item] = poam.poam_items
    assert item.related_findings is None
    assert props(item)["placeholder"].value == "true"
    assert poam.findings is None


def test_the_register_is_observed_with_its_notifications(
    catalogue: Catalogue, provider_control: Control
) -> None:
    docs = build_all(catalogue, provider_control)
    ar = AssessmentResults.model_validate(docs["assessment-results"]["assessment-results"])
    [result] = ar.results
    by_title = {o.title: o for o in result.observations or []}
    suspension = by_title["Incident: Triage Tool suspended: tool TT-1"]
    found = props(suspension)
    assert found["incident-id"].value == INCIDENT
    assert found["incident-severity"].value == "high"
    assert found["incident-status"].value == "contained"
    assert found["notification-recipient"].value == "ssc"
    assert found["notification-recipient"].group == "notification-1"
    assert found["notification-deadline"].value == "2026-12-03T09:00:00Z"
    assert found["notified-at"].value == "2026-12-03T11:00:00Z"
    assert found["notification-reference"].value == "SSC-2026-17"
    assert found["notification-state"].value == "late"
    assert suspension.collected == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert "SSC-2026-17" in (suspension.remarks or "")

    vulnerability = props(by_title["Vulnerability: Outdated TLS library on the bench agent"])
    assert vulnerability["closed-at"].value == "2026-12-10T09:00:00Z"
    # closed with a justification: the missing notification is no longer overdue
    assert vulnerability["notification-state"].value == "not made (closed)"
    assert vulnerability["notification-overdue"].value == "false"
    remarks = by_title["Vulnerability: Outdated TLS library on the bench agent"].remarks or ""
    assert "The SSC said no notification was needed" in remarks

    # without a register there are only the evidence observations
    alone = oscal.assessment_results(make_assessment(), catalogue.controls, FACILITY, AT)[
        "assessment-results"
    ]["results"][0]
    assert len(alone["observations"]) == len(EVIDENCE)


# -- 3. trestle validate -----------------------------------------------------------------------


def test_trestle_validate_accepts_all_three(
    catalogue: Catalogue, provider_control: Control, tmp_path: Path
) -> None:
    root = trestle_workspace(tmp_path)
    for kind, doc in build_all(catalogue, provider_control).items():
        write(root, kind, "demo", doc)

    done = trestle(root, "validate", "-a")

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert output.count("VALID: Model") == 3, output
    assert "INVALID" not in output, output
    # every '#<uuid>' reference resolves to a back-matter resource, and every resource is used
    assert "not in resources" not in output, output
    assert "not referenced" not in output, output


# -- 4. validation can fail --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model", "breakage"),
    [
        ("catalog", Catalog, "unknown key"),
        ("assessment-results", AssessmentResults, "uuid v1"),
        ("plan-of-action-and-milestones", PlanOfActionAndMilestones, "not a uuid"),
        ("assessment-results", AssessmentResults, "naive time"),
    ],
)
def test_trestle_refuses_a_broken_document(
    catalogue: Catalogue,
    provider_control: Control,
    tmp_path: Path,
    kind: str,
    model: Any,
    breakage: str,
) -> None:
    doc = copy.deepcopy(build_all(catalogue, provider_control)[kind])
    body = doc[kind]
    if breakage == "unknown key":
        body["groups"][0]["controls"][0]["evidence"] = ["our own key, not OSCAL's"]
    elif breakage == "uuid v1":
        body["results"][0]["uuid"] = str(uuid.uuid1())
    elif breakage == "not a uuid":
        body["poam-items"][0]["uuid"] = "open-finding-1"
    else:
        body["results"][0]["start"] = "2026-12-01T00:00:00"

    with pytest.raises(ValidationError):
        model.model_validate(body)

    root = trestle_workspace(tmp_path)
    path = write(root, kind, "broken", doc)
    done = trestle(root, "validate", "-f", str(path.relative_to(root)))
    assert done.returncode != 0, done.stdout + done.stderr


# -- 5. determinism ----------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_bytes(
    catalogue: Catalogue, provider_control: Control
) -> None:
    first = build_all(catalogue, provider_control)
    again = build_all(catalogue, provider_control)
    later = build_all(catalogue, provider_control, datetime(2027, 1, 5, 12, tzinfo=UTC))

    for kind in first:
        assert dumps(first[kind]) == dumps(again[kind])
        assert dumps(first[kind]) != dumps(later[kind])
        first[kind][kind]["metadata"].pop("last-modified")
        later[kind][kind]["metadata"].pop("last-modified")
        assert dumps(first[kind]) == dumps(later[kind]), kind


def test_inputs_are_not_changed_and_naive_times_are_refused(catalogue: Catalogue) -> None:
    assessment = make_assessment()
    before = copy.deepcopy(assessment)
    oscal.assessment_results(assessment, catalogue.controls, FACILITY, AT)
    oscal.plan_of_action([assessment], catalogue.controls, FACILITY, AT)
    assert assessment == before

    with pytest.raises(ValueError, match="time zone"):
        oscal.assessment_results(assessment, catalogue.controls, FACILITY, datetime(2026, 12, 21))
    assessment["findings"][0]["raised_at"] = "2026-12-02T14:00:00"
    with pytest.raises(ValueError, match="time zone"):
        oscal.assessment_results(assessment, catalogue.controls, FACILITY, AT)


def test_stable_uuids_are_version_5_and_ids_are_tokens() -> None:
    made = uuid.UUID(oscal.stable_uuid("observation", ASSESSMENT_ID, EVIDENCE[0]))
    assert made.version == 5
    assert str(made) == oscal.stable_uuid("observation", ASSESSMENT_ID, EVIDENCE[0])
    assert oscal.stable_uuid("a", "bc") != oscal.stable_uuid("ab", "c")
    assert oscal.oscal_control_id("G3.1") == "g3-1"
    assert oscal.oscal_control_id("TD.2") == "td-2"
    assert oscal.oscal_control_id("P-ISO-1") == "p-iso-1"
