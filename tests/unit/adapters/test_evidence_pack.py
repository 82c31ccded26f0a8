"""The evidence pack of a security assessment: a PDF of the assessment and a zip of it, every
evidence file, a manifest of their SHA-256 digests and a README saying how to check them."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from pypdf import PdfReader

from triage.adapters.evidence_pack import (
    build_pack,
    pack_filename,
    render_assessment_pdf,
)
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.catalogue import EvidenceRecord, readiness
from triage.errors import InvalidInput

FACILITY = "Demo Triage Facility"
GENERATED = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
ASSESSMENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
FINDING_1 = "0f8fad5b-d9cb-469f-a165-70867728950e"
FINDING_2 = "a3bb189e-8bf9-3888-9912-ace4e6543002"
LEDGER = b'{"report": "ledger verified", "size": 601, "ok": true}\n'
PENTEST = b"%PDF-1.4 penetration test report (stand-in)\n"
POLICY = b"Information security policy, version 3.\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _evidence(
    evidence_id: str, kind: str, name: str, title: str, content: bytes, index: int | None
) -> dict[str, Any]:
    return {
        "id": evidence_id,
        "kind": kind,
        "name": name,
        "title": title,
        "sha256": _sha(content),
        "recorded_at": "2026-12-01T08:00:00.000000Z",
        "ledger_index": index,
    }


LEDGER_EV = _evidence(
    "11111111-1111-4111-8111-111111111111",
    "automatic",
    "ledger_verification",
    "Ledger verification report",
    LEDGER,
    120,
)
PENTEST_EV = _evidence(
    "22222222-2222-4222-8222-222222222222",
    "upload",
    "penetration-test",
    "Penetration test report",
    PENTEST,
    121,
)
POLICY_EV = _evidence(
    "33333333-3333-4333-8333-333333333333",
    "upload",
    "security-policy",
    "Information security policy",
    POLICY,
    None,
)


def _assessment(controls: Sequence[str]) -> dict[str, Any]:
    return {
        "id": ASSESSMENT_ID,
        "kind": "FUSA",
        "assessor": "Acme Assurance Ltd",
        "scope": "The triage facility at Leeds: bench, ledger, seals and access control. " * 12,
        "status": "reported",
        "planned_at": "2026-11-24",
        "fieldwork_start": "2026-12-01",
        "fieldwork_end": "2026-12-03",
        "controls": list(controls),
        "findings": [
            {
                "id": FINDING_1,
                "control_id": controls[0],
                "severity": "high",
                "description": "Bench workstation screens do not lock when left unattended.",
                "raised_at": "2026-12-03T10:00:00.000000Z",
                "response": {
                    "text": "Screen lock after five minutes, enforced by group policy.",
                    "due": "2027-01-15",
                    "responded_at": "2026-12-05T12:00:00.000000Z",
                    "by": "sam",
                },
                "status": "open",
            },
            {
                "id": FINDING_2,
                "control_id": controls[-1],
                "severity": "low",
                "description": "Seal <stock> records & reconciliation lag by a day " * 40,
                "raised_at": "2026-12-03T11:00:00.000000Z",
                "response": None,
                "status": "open",
            },
        ],
        "actions": [
            {
                "id": "9b2d3a1e-5f6c-4d7e-8f90-a1b2c3d4e5f6",
                "finding_id": FINDING_1,
                "description": "Roll out the screen-lock group policy to every bench PC.",
                "owner": "priyanka",
                "due": "2027-02-01",
                "status": "open",
                "done_at": None,
            },
            {
                "id": "c4d5e6f7-0a1b-4c2d-9e3f-405162738495",
                "finding_id": FINDING_2,
                "description": "Reconcile seal stock at each shift change.",
                "owner": "deshawn",
                "due": "2027-01-20",
                "status": "done",
                "done_at": "2027-01-10T16:00:00.000000Z",
            },
        ],
        "outcome": {
            "result": "approval_with_steps",
            "decided_at": "2026-12-09T15:00:00.000000Z",
            "steps": [
                {
                    "description": "Evidence the screen-lock roll-out.",
                    "due": "2027-03-01",
                    "done_at": None,
                }
            ],
        },
        "evidence": [LEDGER_EV, PENTEST_EV, POLICY_EV],
    }


def _readiness() -> list[dict[str, Any]]:
    """The shipped catalogue's readiness, with the ledger report and pen test on record."""
    controls = PackagedFiles().catalogue().controls
    records = [
        EvidenceRecord(LEDGER_EV["id"], "automatic", "ledger_verification", GENERATED),
        EvidenceRecord(PENTEST_EV["id"], "upload", "penetration-test", GENERATED),
    ]
    found = readiness(controls, {controls[-1].id: "no HAN devices triaged"}, records, GENERATED)
    return [row.to_json() for row in found]


def _many_controls(count: int) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        rows.append(
            {
                "control": {
                    "id": f"X{n:02d}",
                    "clause": f"X{n}",
                    "group": "Synthetic",
                    "title": f"Synthetic control number {n} with a title long enough to wrap " * 2,
                    "requirement": "Something is done.",
                    "evidence": [],
                    "produced_by_system": "some",
                    "provider": False,
                },
                "status": ("ready", "stale", "missing")[n % 3],
                "reason": None,
                "evidence": [
                    {
                        "kind": "automatic",
                        "name": "ledger_verification",
                        "title": "Ledger verification report",
                        "state": "fresh",
                        "evidence_id": LEDGER_EV["id"],
                        "recorded_at": GENERATED - timedelta(days=n),
                    },
                    {
                        "kind": "upload",
                        "name": "penetration-test",
                        "title": "Penetration test report",
                        "state": "missing",
                        "evidence_id": None,
                        "recorded_at": None,
                    },
                ],
            }
        )
    return rows


def _files() -> list[tuple[Mapping[str, Any], bytes]]:
    return [
        (LEDGER_EV | {"media_type": "application/json"}, LEDGER),
        (PENTEST_EV | {"filename": "pen-test 2026.pdf", "media_type": "application/pdf"}, PENTEST),
        (POLICY_EV | {"filename": "policy.txt", "media_type": "text/plain"}, POLICY),
    ]


PROOF = {
    "index": 120,
    "size": 601,
    "leaf_hash": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
    "root": "UZ2BEc10pVR4rAUD7e55+vvljGVP3wVrPTSPnJt5730=",
    "proof": ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="],
}


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def rows() -> list[dict[str, Any]]:
    return _readiness()


@pytest.fixture
def assessment(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _assessment([r["control"]["id"] for r in rows])


@pytest.fixture
def pdf(assessment: dict[str, Any], rows: list[dict[str, Any]]) -> bytes:
    return render_assessment_pdf(assessment, rows, FACILITY, "SEC triage 2026.11.1", GENERATED)


def _pack(
    assessment: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    pdf: bytes,
    files: Sequence[tuple[Mapping[str, Any], bytes]] | None = None,
    proofs: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes:
    return build_pack(
        assessment,
        rows,
        _files() if files is None else files,
        {LEDGER_EV["id"]: PROOF} if proofs is None else proofs,
        pdf,
        GENERATED,
    )


# -- the PDF ----------------------------------------------------------------------------------


def test_pdf_states_the_assessment_controls_findings_actions_and_outcome(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "Full User Security Assessment" in text
    assert "Acme Assurance Ltd" in text
    assert FACILITY in text
    assert "Approval with steps" in text
    assert "Evidence the screen-lock roll-out." in text
    for row in rows:
        assert row["control"]["id"] in text, row["control"]["id"]
    for finding in assessment["findings"]:
        # The long description wraps over lines (and pages) and keeps its escaped characters.
        assert " ".join(finding["description"].split()) in text
    assert "Screen lock after five minutes, enforced by group policy." in text
    for action in assessment["actions"]:
        assert action["owner"] in text
        assert action["due"] in text
    assert PENTEST_EV["sha256"][:12] in text  # the short digest of evidence a control shows
    assert "not applicable" in text and "no HAN devices triaged" in text


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("VUSA", "Verification User Security Assessment"),
        ("USSA", "User Security Self-Assessment"),
    ],
)
def test_pdf_spells_out_each_kind(
    assessment: dict[str, Any], rows: list[dict[str, Any]], kind: str, name: str
) -> None:
    pdf = render_assessment_pdf(assessment | {"kind": kind}, rows, FACILITY, "cat", GENERATED)
    assert name in _text(pdf)


def test_an_assessment_not_yet_decided_says_so(
    assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    planned = assessment | {"outcome": None, "fieldwork_start": None, "fieldwork_end": None}
    planned |= {"findings": [], "actions": [], "status": "planned"}
    text = _text(render_assessment_pdf(planned, rows, FACILITY, "cat", GENERATED))
    assert "not yet decided" in text
    assert "No findings were raised." in text
    assert "No remedial actions were set." in text


def test_sixty_controls_flow_onto_several_pages(assessment: dict[str, Any]) -> None:
    many = _many_controls(60)
    few = render_assessment_pdf(assessment, many[:3], FACILITY, "cat", GENERATED)
    pdf = render_assessment_pdf(assessment, many, FACILITY, "cat", GENERATED)
    assert _pages(pdf) >= _pages(few) + 2
    text = _text(pdf)
    for row in many:
        assert row["control"]["id"] in text


def test_an_unknown_kind_is_refused(assessment: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidInput, match="FUSA, VUSA, USSA"):
        render_assessment_pdf(assessment | {"kind": "XUSA"}, rows, FACILITY, "cat", GENERATED)


# -- the zip ----------------------------------------------------------------------------------


def test_the_pack_holds_the_pdf_evidence_manifest_and_readme(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_pack(assessment, rows, pdf)))
    manifest = json.loads(archive.read("manifest.json"))
    pdf_path = f"assessment-{ASSESSMENT_ID}.pdf"
    evidence_paths = {f["path"] for f in manifest["files"]}
    assert sorted(archive.namelist()) == sorted(
        {pdf_path, "manifest.json", "README.txt"} | evidence_paths
    )
    assert len(evidence_paths) == 3
    assert archive.read(pdf_path) == pdf
    assert manifest["pdf"] == {"path": pdf_path, "sha256": _sha(pdf), "size": len(pdf)}
    for entry in manifest["files"]:
        content = archive.read(entry["path"])
        assert _sha(content) == entry["sha256"]
        assert entry["size"] == len(content)
        assert entry["path"].startswith(f"evidence/{entry['sha256']}-")
    by_id = {f["evidence_id"]: f for f in manifest["files"]}
    assert by_id[LEDGER_EV["id"]]["inclusion_proof"] == PROOF
    assert by_id[PENTEST_EV["id"]]["inclusion_proof"] is None
    assert by_id[PENTEST_EV["id"]]["path"] == f"evidence/{PENTEST_EV['sha256']}-pen-test_2026.pdf"
    assert by_id[LEDGER_EV["id"]]["path"].endswith("-ledger_verification.json")
    for evidence in (LEDGER_EV, PENTEST_EV, POLICY_EV):
        entry = by_id[evidence["id"]]
        for key in ("name", "title", "kind", "sha256", "recorded_at", "ledger_index"):
            assert entry[key] == evidence[key], key
    assert manifest["evidence_not_included"] == []
    readme = archive.read("README.txt").decode()
    assert "SHA-256" in readme and "manifest.json" in readme
    assert "inclusion proof" in readme and "verifier key" in readme


def test_the_readme_check_passes_on_the_unpacked_pack_and_fails_on_a_changed_file(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_pack(assessment, rows, pdf)))
    archive.extractall(tmp_path)
    readme = archive.read("README.txt").decode()
    command = next(line.strip() for line in readme.splitlines() if "python3 -c" in line)
    run = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("ok ") == 4 and "BAD" not in run.stdout
    changed = tmp_path / json.loads(archive.read("manifest.json"))["files"][0]["path"]
    changed.write_bytes(changed.read_bytes() + b"x")
    run = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True)
    assert run.stdout.count("BAD") == 1


def test_a_file_that_does_not_match_its_digest_is_refused(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    files = _files()
    files[1] = (files[1][0], PENTEST + b" quietly edited")
    with pytest.raises(InvalidInput, match=PENTEST_EV["id"]) as refused:
        _pack(assessment, rows, pdf, files)
    assert "penetration-test" in str(refused.value)
    assert "restore" in str(refused.value)


def test_a_record_that_disagrees_with_the_assessment_is_refused(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    other = b"another document"
    files = [(PENTEST_EV | {"sha256": _sha(other)}, other)]
    with pytest.raises(InvalidInput, match=PENTEST_EV["id"]):
        _pack(assessment, rows, pdf, files)


def test_a_proof_of_another_entry_is_refused(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    with pytest.raises(InvalidInput, match="entry 121"):
        _pack(assessment, rows, pdf, proofs={PENTEST_EV["id"]: PROOF})


@pytest.mark.parametrize(
    "filename", ["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\passwd", "./../passwd"]
)
def test_a_path_in_a_filename_becomes_a_plain_name_under_evidence(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]], filename: str
) -> None:
    files = [(POLICY_EV | {"filename": filename}, POLICY)]
    archive = zipfile.ZipFile(io.BytesIO(_pack(assessment, rows, pdf, files, {})))
    (path,) = [n for n in archive.namelist() if n.startswith("evidence/")]
    assert path == f"evidence/{POLICY_EV['sha256']}-passwd"
    parts = PurePosixPath(path).parts
    assert len(parts) == 2 and ".." not in path and "\\" not in path
    assert archive.read(path) == POLICY
    manifest = json.loads(archive.read("manifest.json"))
    assert {f["evidence_id"] for f in manifest["evidence_not_included"]} == {
        LEDGER_EV["id"],
        PENTEST_EV["id"],
    }


def test_a_filename_of_only_dots_falls_back_to_the_evidence_name(
    pdf: bytes, assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    files = [(POLICY_EV | {"filename": "../..", "media_type": "text/plain"}, POLICY)]
    archive = zipfile.ZipFile(io.BytesIO(_pack(assessment, rows, pdf, files, {})))
    assert f"evidence/{POLICY_EV['sha256']}-security-policy.txt" in archive.namelist()


def test_the_same_inputs_give_the_same_bytes(
    assessment: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    def build() -> bytes:
        a, r = copy.deepcopy(assessment), copy.deepcopy(rows)
        pdf = render_assessment_pdf(a, r, FACILITY, "SEC triage 2026.11.1", GENERATED)
        return _pack(a, r, pdf)

    first = build()
    assert build() == first
    reversed_files = list(reversed(_files()))
    pdf = render_assessment_pdf(assessment, rows, FACILITY, "SEC triage 2026.11.1", GENERATED)
    assert _pack(assessment, rows, pdf, reversed_files) == first  # order of files is irrelevant
    for info in zipfile.ZipFile(io.BytesIO(first)).infolist():
        assert info.date_time == (2026, 12, 10, 9, 30, 0)
    later = render_assessment_pdf(
        assessment, rows, FACILITY, "SEC triage 2026.11.1", GENERATED + timedelta(days=1)
    )
    assert later != pdf  # the generation time is on the page: the bytes follow the inputs


def test_pack_filename_is_safe() -> None:
    assert pack_filename({"id": ASSESSMENT_ID, "kind": "FUSA"}) == "evidence-pack-FUSA-7c9e6679.zip"
    assert pack_filename({"id": "../../x/y", "kind": "U/SSA"}) == "evidence-pack-U_SSA-______x_.zip"
