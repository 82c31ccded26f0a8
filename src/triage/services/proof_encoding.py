"""How hashes and proofs look outside the process: standard base64, as in C2SP documents."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Protocol

from triage.ledger.audit import AuditReport
from triage.services.ledger import InclusionProof


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def inclusion_json(proof: InclusionProof) -> dict[str, Any]:
    """An inclusion proof as JSON."""
    return {
        "index": proof.index,
        "size": proof.size,
        "leaf_hash": b64(proof.leaf_hash),
        "root": b64(proof.root),
        "proof": [b64(h) for h in proof.hashes],
    }


# The two reports below are JSON documents (command output and assurance evidence): plain
# JSON objects, not records.
def verification_json(report: AuditReport) -> dict[str, Any]:
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


def replay_json(report: Replayed) -> dict[str, Any]:
    """A replay check as the command line and the assurance evidence report it."""
    return {
        "ok": not report.differences,
        "entries": report.entries,
        "rows": report.rows,
        "differences": [str(d) for d in report.differences],
    }
