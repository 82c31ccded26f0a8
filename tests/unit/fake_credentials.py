"""The credentials' fake repository (uow.credentials): passwords and second factors,
activation and recovery codes, login attempts, web sessions (kept beside the ledger, written by
the port methods) and locks (the projection of ``auth.locked`` / ``auth.unlocked``).

What ``auth.login`` and ``auth.mfa_enrolled`` change on the operator is projected by the
operators' fake (``fake_operators``), which keeps the operators."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.unit.fake_operators import FakeOperatorRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.credentials import AccessLock, StoredCredential, WebSession
from triage.domain.people import Holder
from triage.errors import Conflict
from triage.ledger.entry import Entry


@dataclass
class Attempt:
    """One login attempt, numbered in the order it was made."""

    id: int
    operator_id: str | None
    source: str
    ok: bool
    at: datetime


@dataclass
class RecoveryCode:
    code_hash: bytes
    used_at: datetime | None = None


@dataclass
class ActivationCode:
    code_hash: bytes
    created_at: datetime
    expires_at: datetime


@area("credentials")
class FakeCredentialRepository(FakeTables):
    """``CredentialRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.credentials: dict[str, StoredCredential] = {}
        self.activation_codes: dict[str, ActivationCode] = {}
        self.recovery_codes: dict[str, list[RecoveryCode]] = {}
        self.attempts: list[Attempt] = []
        self.sessions: dict[bytes, WebSession] = {}
        self.locks_held: dict[tuple[str, str], AccessLock] = {}

    # -- password and second factor ------------------------------------------------------------
    def credential(self, operator_id: str, for_update: bool = False) -> StoredCredential | None:
        return self.credentials.get(operator_id)

    def _change(self, operator_id: str, **values: Any) -> None:
        # Changes the row, or adds one holding only ``values`` (as the SQL upsert does).
        found = self.credentials.get(operator_id) or StoredCredential(
            operator_id, None, None, None, None
        )
        self.credentials[operator_id] = dataclasses.replace(found, **values)

    def set_pending_credential(
        self, operator_id: str, password_hash: str, sealed_totp_secret: bytes, at: datetime
    ) -> None:
        self._change(
            operator_id,
            password_hash=password_hash,
            sealed_totp_secret=sealed_totp_secret,
            totp_confirmed_at=None,
            last_totp_step=None,
        )

    def confirm_totp(self, operator_id: str, step: int, at: datetime) -> None:
        self._change(operator_id, totp_confirmed_at=at, last_totp_step=step)

    def set_password(self, operator_id: str, password_hash: str, at: datetime) -> None:
        self._change(operator_id, password_hash=password_hash)

    def use_totp_step(self, operator_id: str, step: int) -> bool:
        found = self.credentials.get(operator_id)
        if found is None:
            return False
        if found.last_totp_step is not None and found.last_totp_step >= step:
            return False
        self.credentials[operator_id] = dataclasses.replace(found, last_totp_step=step)
        return True

    # -- activation and recovery codes ---------------------------------------------------------
    def set_activation_code(
        self, operator_id: str, code_hash: bytes, at: datetime, expires_at: datetime
    ) -> None:
        self.activation_codes[operator_id] = ActivationCode(code_hash, at, expires_at)

    def activation_code(self, operator_id: str) -> tuple[bytes, datetime] | None:
        found = self.activation_codes.get(operator_id)
        return None if found is None else (found.code_hash, found.expires_at)

    def delete_activation_code(self, operator_id: str) -> None:
        self.activation_codes.pop(operator_id, None)

    def replace_recovery_codes(self, operator_id: str, code_hashes: Sequence[bytes]) -> None:
        if len(set(code_hashes)) != len(code_hashes):
            raise Conflict("two recovery codes with one hash")  # the table's key refuses them
        self.recovery_codes[operator_id] = [RecoveryCode(h) for h in code_hashes]

    def use_recovery_code(self, operator_id: str, code_hash: bytes, at: datetime) -> bool:
        for code in self.recovery_codes.get(operator_id, []):
            if code.code_hash == code_hash and code.used_at is None:
                code.used_at = at
                return True
        return False

    def recovery_codes_left(self, operator_id: str) -> int:
        return sum(c.used_at is None for c in self.recovery_codes.get(operator_id, []))

    # -- login attempts ------------------------------------------------------------------------
    def add_attempt(self, operator_id: str | None, source: str, ok: bool, at: datetime) -> None:
        number = self.attempts[-1].id + 1 if self.attempts else 1
        self.attempts.append(Attempt(number, operator_id, source, ok, at))

    def _failures_since_success(self, operator_id: str) -> list[Attempt]:
        # In the order made, not by time: attempts within one clock tick keep their order.
        mine = [a for a in self.attempts if a.operator_id == operator_id]
        last_ok = max((a.id for a in mine if a.ok), default=0)
        return [a for a in mine if not a.ok and a.id > last_ok]

    def consecutive_failures(self, operator_id: str) -> tuple[int, datetime | None]:
        failures = self._failures_since_success(operator_id)
        return len(failures), max((a.at for a in failures), default=None)

    def consecutive_failures_from(self, operator_id: str, source: str) -> int:
        return sum(a.source == source for a in self._failures_since_success(operator_id))

    def source_failures(self, source: str, since: datetime) -> int:
        return sum(a.source == source and not a.ok and a.at >= since for a in self.attempts)

    def forget_failures(self, subject_kind: str, subject_id: str) -> None:
        def about(a: Attempt) -> bool:
            key = a.operator_id if subject_kind == "operator" else a.source
            return key == subject_id

        self.attempts = [a for a in self.attempts if a.ok or not about(a)]

    # -- locks ---------------------------------------------------------------------------------
    def lock(self, subject_kind: str, subject_id: str) -> AccessLock | None:
        return self.locks_held.get((subject_kind, subject_id))

    def holder(self, operator_id: str) -> Holder | None:
        found = self._database.repository("operators", FakeOperatorRepository).get(operator_id)
        if found is None:
            return None
        stored = self.credentials.get(operator_id)
        return Holder(
            found,
            ("operator", operator_id) in self.locks_held,
            None if stored is None else stored.totp_confirmed_at,
        )

    def locks(self) -> list[AccessLock]:
        return sorted(self.locks_held.values(), key=lambda k: (k.locked_at, k.subject_id))

    @projects("auth.locked")
    def _locked(self, entry: Entry, index: int) -> None:
        # The latest lock wins: locking what is already locked restates it.
        key = (entry.subject.kind, entry.subject.id)
        self.locks_held[key] = AccessLock(*key, reason=entry.data["reason"], locked_at=entry.at)

    @projects("auth.unlocked")
    def _unlocked(self, entry: Entry, index: int) -> None:
        self.locks_held.pop((entry.subject.kind, entry.subject.id), None)

    # -- web sessions --------------------------------------------------------------------------
    def add_session(self, session: WebSession) -> None:
        if session.id in self.sessions:
            raise Conflict("a session with this id exists")
        self.sessions[session.id] = session

    def session(self, session_id: bytes) -> WebSession | None:
        return self.sessions.get(session_id)

    def touch_session(self, session_id: bytes, at: datetime) -> None:
        found = self.sessions.get(session_id)
        if found is not None and found.ended_at is None:
            self.sessions[session_id] = dataclasses.replace(found, last_seen_at=at)

    def end_session(self, session_id: bytes, at: datetime) -> bool:
        found = self.sessions.get(session_id)
        if found is None or found.ended_at is not None:
            return False
        self.sessions[session_id] = dataclasses.replace(found, ended_at=at)
        return True

    def end_sessions(self, operator_id: str, at: datetime, keep: bytes | None = None) -> int:
        ending = [
            s
            for s in self.sessions.values()
            if s.operator_id == operator_id and s.ended_at is None and s.id != keep
        ]
        for found in ending:
            self.sessions[found.id] = dataclasses.replace(found, ended_at=at)
        return len(ending)
