"""What the authentication use cases need from storage (``uow.credentials``), the key box, the
password hasher and the TOTP codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from triage.domain.credentials import AccessLock, StoredCredential, WebSession
from triage.domain.people import Holder


class PasswordHasher(Protocol):
    """Hashes passwords for keeping (``triage.adapters.passwords``)."""

    def hash(self, password: str) -> str:
        """A salted hash of ``password`` with its parameters, as kept."""
        ...

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; None takes as long and is False."""
        ...

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than today's."""
        ...


class TotpCodes(Protocol):
    """Computes an authenticator's time-based codes (``triage.adapters.totp``)."""

    def new_secret(self) -> str: ...

    def provisioning_uri(self, secret: str, operator_id: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app reads from a QR code."""
        ...

    def code(self, secret: str, step: int) -> str:
        """The code of ``secret`` for TOTP time step ``step``."""
        ...


class SecretSealer(Protocol):
    """Encrypts secrets the server must read back (``App.secret_box()``)."""

    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


class CredentialRepository(Protocol):
    """Passwords, second factors, recovery codes, login attempts, web sessions and locks."""

    def credential(self, operator_id: str, for_update: bool = False) -> StoredCredential | None:
        """The operator's credential; ``for_update`` holds it until the transaction ends."""
        ...

    def set_pending_credential(
        self, operator_id: str, password_hash: str, sealed_totp_secret: bytes, at: datetime
    ) -> None:
        """A new password and a TOTP secret not yet confirmed (it cannot be used to log in)."""
        ...

    def confirm_totp(self, operator_id: str, step: int, at: datetime) -> None: ...

    def set_password(self, operator_id: str, password_hash: str, at: datetime) -> None: ...

    def use_totp_step(self, operator_id: str, step: int) -> bool:
        """Record ``step`` as used; False when it or a later step already was."""
        ...

    def set_activation_code(
        self, operator_id: str, code_hash: bytes, at: datetime, expires_at: datetime
    ) -> None: ...

    def activation_code(self, operator_id: str) -> tuple[bytes, datetime] | None:
        """The hash and expiry of the operator's outstanding activation code."""
        ...

    def delete_activation_code(self, operator_id: str) -> None: ...

    def replace_recovery_codes(self, operator_id: str, code_hashes: Sequence[bytes]) -> None: ...

    def use_recovery_code(self, operator_id: str, code_hash: bytes, at: datetime) -> bool:
        """Mark an unused code used; False when there is no such unused code."""
        ...

    def recovery_codes_left(self, operator_id: str) -> int: ...

    def add_attempt(self, operator_id: str | None, source: str, ok: bool, at: datetime) -> None:
        """Remember one login attempt (``operator_id`` None: not counted against an account)."""
        ...

    def consecutive_failures(self, operator_id: str) -> tuple[int, datetime | None]:
        """Failed attempts since the last success or unlock, and when the last one was."""
        ...

    def consecutive_failures_from(self, operator_id: str, source: str) -> int:
        """Of the failed attempts since the operator's last success or unlock, those from
        ``source``."""
        ...

    def source_failures(self, source: str, since: datetime) -> int: ...

    def forget_failures(self, subject_kind: str, subject_id: str) -> None:
        """Reset the failure count of an operator or a source (after an unlock)."""
        ...

    def lock(self, subject_kind: str, subject_id: str) -> AccessLock | None: ...

    def holder(self, operator_id: str) -> Holder | None:
        """The operator, their lock and their second factor, in one read (None: no operator)."""
        ...

    def locks(self) -> list[AccessLock]: ...

    def add_session(self, session: WebSession) -> None: ...

    def session(self, session_id: bytes) -> WebSession | None: ...

    def touch_session(self, session_id: bytes, at: datetime) -> None: ...

    def end_session(self, session_id: bytes, at: datetime) -> bool:
        """End a live session; False when it had already ended."""
        ...

    def end_sessions(self, operator_id: str, at: datetime, keep: bytes | None = None) -> int:
        """End the operator's live sessions but ``keep``; returns how many ended."""
        ...
