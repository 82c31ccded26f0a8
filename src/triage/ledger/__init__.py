"""The tamper-evident triage ledger: RFC 6962 Merkle tree, C2SP tiles, checkpoints and signed notes.

This package is self-contained: it imports nothing else from ``triage`` so that an auditor's
verifier can rely on it alone.
"""

from triage.ledger.errors import LedgerStateError, VerificationError

__all__ = ["LedgerStateError", "VerificationError"]
