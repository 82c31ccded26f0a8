"""How hashes, proofs and verification reports look outside the process."""

from __future__ import annotations

import base64

from triage.ledger.audit import AuditReport, Problem
from triage.services.ledger import InclusionProof
from triage.services.proof_encoding import b64, inclusion_json, verification_json


def test_proofs_and_reports_are_standard_base64() -> None:
    proof = InclusionProof(2, 5, b"\x00" * 32, b"\xff" * 32, [b"\x01" * 32, b"\x02" * 32])

    encoded = inclusion_json(proof)

    assert encoded == {
        "index": 2,
        "size": 5,
        "leaf_hash": b64(b"\x00" * 32),
        "root": b64(b"\xff" * 32),
        "proof": [b64(b"\x01" * 32), b64(b"\x02" * 32)],
    }
    assert base64.b64decode(encoded["root"]) == b"\xff" * 32
    assert b64(b"\xfb\xff") == "+/8="  # standard alphabet with padding, not URL-safe


def test_a_verification_report_names_each_problem() -> None:
    report = AuditReport(
        size=3,
        root=b"\x07" * 32,
        entries_checked=3,
        checkpoints_checked=1,
        problems=[Problem(1, "entry hash differs", 1), Problem(None, "kept file missing", 3)],
    )

    assert verification_json(report) == {
        "ok": False,
        "size": 3,
        "root": b64(b"\x07" * 32),
        "entries_checked": 3,
        "checkpoints_checked": 1,
        "problems": [
            {"index": 1, "message": "entry hash differs"},
            {"index": None, "message": "kept file missing"},
        ],
    }
