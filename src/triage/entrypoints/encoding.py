"""How hashes and proofs look outside the process: standard base64, as in C2SP documents."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from triage.domain.token import StoredToken
from triage.ledger.entry import format_time
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


def token_json(stored: StoredToken, at: datetime) -> dict[str, Any]:
    """A token as the CLI and the API show it (never its secret); its state as of ``at``."""
    return {
        "id": stored.id,
        "operator_id": stored.operator_id,
        "label": stored.label,
        "scopes": sorted(p.value for p in stored.scopes) if stored.scopes else ["role"],
        "bench": stored.bench,
        "created_at": format_time(stored.created_at),
        "expires_at": format_time(stored.expires_at),
        "state": stored.state(at),
    }
