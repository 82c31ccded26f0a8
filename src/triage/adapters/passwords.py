"""Password hashing with Argon2id (argon2-cffi): the ``PasswordHasher`` port."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Passwords:
    """Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option, low memory)."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """An Argon2id hash of ``password`` in PHC string form (salt and parameters included)."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no hash, a dummy check keeps the timing alike."""
        try:
            matched = self._hasher.verify(stored_hash or self._dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than today's."""
        return self._hasher.check_needs_rehash(stored_hash)

    def _dummy_hash(self) -> str:
        # Checked against when the operator is unknown, so that a wrong id costs as long as a
        # wrong password. Made on first use, not at start: an Argon2id hash takes 64 MiB and
        # tens of milliseconds, which every process (every CLI command, every verification
        # worker) would otherwise pay.
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy
