"""How hashes and proofs look outside the process: standard base64, as in C2SP documents."""

from __future__ import annotations

import base64
from typing import Any

from triage.services.ledger import ConsistencyProof, InclusionProof, LedgerStatus


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def status_json(status: LedgerStatus, origin: str) -> dict[str, Any]:
    """Ledger status as JSON."""
    return {
        "origin": origin,
        "size": status.size,
        "root": b64(status.root),
        "checkpoint": None if status.latest_checkpoint is None else status.latest_checkpoint.note,
        "checkpoint_size": None
        if status.latest_checkpoint is None
        else status.latest_checkpoint.size,
    }


def inclusion_json(proof: InclusionProof) -> dict[str, Any]:
    """An inclusion proof as JSON."""
    return {
        "index": proof.index,
        "size": proof.size,
        "leaf_hash": b64(proof.leaf_hash),
        "root": b64(proof.root),
        "proof": [b64(h) for h in proof.hashes],
    }


def consistency_json(proof: ConsistencyProof) -> dict[str, Any]:
    """A consistency proof as JSON."""
    return {
        "size1": proof.size1,
        "size2": proof.size2,
        "root1": b64(proof.root1),
        "root2": b64(proof.root2),
        "proof": [b64(h) for h in proof.hashes],
    }
