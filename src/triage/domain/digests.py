"""Digests of stored credentials, recorded in the ledger so that replay can check the tables.

Credential tables (password hashes, sealed TOTP secrets, token hashes, activation and recovery
codes) are not rebuilt from entries: entries are forever and never hold a secret. Instead the
entry that sets one records the SHA-256 of the value as STORED (the Argon2 hash string, the
sealed TOTP blob, the token's SHA-256, the code hashes), never of the secret itself; replay
compares the digest of what is stored now with the last one recorded. Each stored value is
already a hash of a secret with at least 100 bits of entropy, or a salted Argon2 hash, or an
encrypted blob, so its digest tells a reader of the ledger nothing they could use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def token_hash(secret: str) -> bytes:
    """How an API token is stored: the SHA-256 of its secret (the secret is shown once)."""
    return hashlib.sha256(secret.encode()).digest()


def stored_digest(value: str | bytes | memoryview) -> str:
    """The digest of a stored credential value, as entries record it ("sha256:" + hex)."""
    raw = value.encode() if isinstance(value, str) else bytes(value)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def set_digest(values: Iterable[bytes | memoryview]) -> str:
    """The digest of a set of stored hashes (recovery codes), whatever their order."""
    combined = hashlib.sha256()
    for value in sorted(bytes(v) for v in values):
        combined.update(hashlib.sha256(value).digest())
    return "sha256:" + combined.hexdigest()
