"""How hashes and proofs look outside the process: standard base64, as in C2SP documents."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Protocol, TypedDict

from triage.ledger.audit import AuditReport
from triage.services.ledger import InclusionProof


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


class InclusionJson(TypedDict):
    """An inclusion proof as JSON: hashes in base64."""

    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


def inclusion_json(proof: InclusionProof) -> InclusionJson:
    """An inclusion proof as JSON."""
    return {
        "index": proof.index,
        "size": proof.size,
        "leaf_hash": b64(proof.leaf_hash),
        "root": b64(proof.root),
        "proof": [b64(h) for h in proof.hashes],
    }


# The two reports below are JSON documents (command output and assurance evidence), each with
# one fixed shape.
class ProblemJson(TypedDict):
    """One problem a verification found, at the entry it names."""

    index: int | None
    message: str


class VerificationJson(TypedDict):
    """A whole-ledger verification as JSON."""

    ok: bool
    size: int
    root: str
    entries_checked: int
    checkpoints_checked: int
    problems: list[ProblemJson]


def verification_json(report: AuditReport) -> VerificationJson:
    """A whole-ledger verification as the command line and the assurance evidence report it."""
    return {
        "ok": report.ok,
        "size": report.size,
        "root": b64(report.root),
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "problems": [{"index": p.index, "message": p.message} for p in report.problems],
    }


class Replayed(Protocol):
    """What a replay of the ledger found: entries replayed, rows compared, differences."""

    @property
    def entries(self) -> int: ...

    @property
    def rows(self) -> int: ...

    @property
    def differences(self) -> Sequence[object]: ...


class ReplayJson(TypedDict):
    """A replay check as JSON: the differences in words."""

    ok: bool
    entries: int
    rows: int
    differences: list[str]


def replay_json(report: Replayed) -> ReplayJson:
    """A replay check as the command line and the assurance evidence report it."""
    return {
        "ok": not report.differences,
        "entries": report.entries,
        "rows": report.rows,
        "differences": [str(d) for d in report.differences],
    }
