"""How ledger status, consistency proofs and tokens look outside the process: times as RFC 3339
UTC with a 'Z' (as entries spell them), hashes in standard base64 (as in C2SP documents). The
proof and report encoders the services share are in ``triage.services.proof_encoding``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triage.domain.token import StoredToken
from triage.ledger.entry import format_time
from triage.services.ledger import ConsistencyProof, LedgerStatus
from triage.services.proof_encoding import b64


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
