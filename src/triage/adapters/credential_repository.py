"""SQL implementation of ``CredentialRepository`` (credential tables, sessions, locks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from triage.adapters.fastsql import Statement
from triage.adapters.rows import operator_from_row
from triage.adapters.tables import (
    access_lock,
    activation_code,
    login_attempt,
    operator,
    operator_credential,
    recovery_code,
    web_session,
)
from triage.domain.credentials import AccessLock, StoredCredential, WebSession
from triage.domain.people import Holder

# The operator with what every credential of theirs depends on: when their second factor was
# confirmed, and whether their account is locked.
_HOLDER = Statement(
    select(
        operator,
        operator_credential.c.totp_confirmed_at.label("second_factor_since"),
        access_lock.c.subject_id.label("locked"),
    )
    .outerjoin(operator_credential, operator_credential.c.operator_id == operator.c.id)
    .outerjoin(
        access_lock,
        and_(access_lock.c.subject_kind == "operator", access_lock.c.subject_id == operator.c.id),
    )
    .where(operator.c.id == bindparam("operator_id"))
)


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _maybe(value: datetime | None) -> datetime | None:
    return None if value is None else _aware(value)


class SqlCredentialRepository:
    """Reads and writes of the credential tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- password and second factor -----------------------------------------------------------
    def credential(self, operator_id: str, for_update: bool = False) -> StoredCredential | None:
        query = select(operator_credential).where(operator_credential.c.operator_id == operator_id)
        if for_update:
            # PostgreSQL: logins of one operator queue here, so parallel guesses cannot all
            # pass the delay check before the first failure is counted (SQLite has one writer).
            query = query.with_for_update()
        row = self._conn.execute(query).mappings().first()
        if row is None:
            return None
        return StoredCredential(
            operator_id=row["operator_id"],
            password_hash=row["password_hash"],
            sealed_totp_secret=row["totp_secret"],
            totp_confirmed_at=_maybe(row["totp_confirmed_at"]),
            last_totp_step=row["last_totp_step"],
        )

    def _upsert(self, operator_id: str, at: datetime, **values: Any) -> None:
        changed = self._conn.execute(
            update(operator_credential)
            .where(operator_credential.c.operator_id == operator_id)
            .values(updated_at=at, **values)
        )
        if changed.rowcount == 0:
            self._conn.execute(
                insert(operator_credential).values(operator_id=operator_id, updated_at=at, **values)
            )

    def set_pending_credential(
        self, operator_id: str, password_hash: str, sealed_totp_secret: bytes, at: datetime
    ) -> None:
        self._upsert(
            operator_id,
            at,
            password_hash=password_hash,
            totp_secret=sealed_totp_secret,
            totp_confirmed_at=None,
            last_totp_step=None,
        )

    def confirm_totp(self, operator_id: str, step: int, at: datetime) -> None:
        self._upsert(operator_id, at, totp_confirmed_at=at, last_totp_step=step)

    def set_password(self, operator_id: str, password_hash: str, at: datetime) -> None:
        self._upsert(operator_id, at, password_hash=password_hash)

    def use_totp_step(self, operator_id: str, step: int) -> bool:
        # One conditional update: two logins racing with the same code cannot both win.
        changed = self._conn.execute(
            update(operator_credential)
            .where(
                operator_credential.c.operator_id == operator_id,
                or_(
                    operator_credential.c.last_totp_step.is_(None),
                    operator_credential.c.last_totp_step < step,
                ),
            )
            .values(last_totp_step=step)
        )
        return changed.rowcount == 1

    # -- activation and recovery codes --------------------------------------------------------
    def set_activation_code(
        self, operator_id: str, code_hash: bytes, at: datetime, expires_at: datetime
    ) -> None:
        self.delete_activation_code(operator_id)
        self._conn.execute(
            insert(activation_code).values(
                operator_id=operator_id, code_hash=code_hash, created_at=at, expires_at=expires_at
            )
        )

    def activation_code(self, operator_id: str) -> tuple[bytes, datetime] | None:
        row = self._conn.execute(
            select(activation_code.c.code_hash, activation_code.c.expires_at).where(
                activation_code.c.operator_id == operator_id
            )
        ).first()
        return None if row is None else (bytes(row[0]), _aware(row[1]))

    def delete_activation_code(self, operator_id: str) -> None:
        self._conn.execute(
            delete(activation_code).where(activation_code.c.operator_id == operator_id)
        )

    def replace_recovery_codes(self, operator_id: str, code_hashes: Sequence[bytes]) -> None:
        self._conn.execute(delete(recovery_code).where(recovery_code.c.operator_id == operator_id))
        self._conn.execute(
            insert(recovery_code),
            [{"operator_id": operator_id, "code_hash": h, "used_at": None} for h in code_hashes],
        )

    def use_recovery_code(self, operator_id: str, code_hash: bytes, at: datetime) -> bool:
        changed = self._conn.execute(
            update(recovery_code)
            .where(
                recovery_code.c.operator_id == operator_id,
                recovery_code.c.code_hash == code_hash,
                recovery_code.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return changed.rowcount == 1

    def recovery_codes_left(self, operator_id: str) -> int:
        count = self._conn.execute(
            select(func.count()).where(
                recovery_code.c.operator_id == operator_id, recovery_code.c.used_at.is_(None)
            )
        ).scalar_one()
        return int(count)

    # -- login attempts -----------------------------------------------------------------------
    def add_attempt(self, operator_id: str | None, source: str, ok: bool, at: datetime) -> None:
        self._conn.execute(
            insert(login_attempt).values(operator_id=operator_id, source=source, ok=ok, at=at)
        )

    def consecutive_failures(self, operator_id: str) -> tuple[int, datetime | None]:
        # By id, not time: attempts within one clock tick keep their order.
        last_ok = (
            select(func.coalesce(func.max(login_attempt.c.id), 0))
            .where(login_attempt.c.operator_id == operator_id, login_attempt.c.ok.is_(True))
            .scalar_subquery()
        )
        row = self._conn.execute(
            select(func.count(), func.max(login_attempt.c.at)).where(
                login_attempt.c.operator_id == operator_id,
                login_attempt.c.ok.is_(False),
                login_attempt.c.id > last_ok,
            )
        ).one()
        return int(row[0]), _maybe(row[1])

    def consecutive_failures_from(self, operator_id: str, source: str) -> int:
        last_ok = (
            select(func.coalesce(func.max(login_attempt.c.id), 0))
            .where(login_attempt.c.operator_id == operator_id, login_attempt.c.ok.is_(True))
            .scalar_subquery()
        )
        count = self._conn.execute(
            select(func.count()).where(
                login_attempt.c.operator_id == operator_id,
                login_attempt.c.source == source,
                login_attempt.c.ok.is_(False),
                login_attempt.c.id > last_ok,
            )
        ).scalar_one()
        return int(count)

    def source_failures(self, source: str, since: datetime) -> int:
        count = self._conn.execute(
            select(func.count()).where(
                login_attempt.c.source == source,
                login_attempt.c.ok.is_(False),
                login_attempt.c.at >= since,
            )
        ).scalar_one()
        return int(count)

    def forget_failures(self, subject_kind: str, subject_id: str) -> None:
        column = (
            login_attempt.c.operator_id if subject_kind == "operator" else login_attempt.c.source
        )
        self._conn.execute(
            delete(login_attempt).where(column == subject_id, login_attempt.c.ok.is_(False))
        )

    # -- locks (a projection of auth.locked / auth.unlocked) ----------------------------------
    def lock(self, subject_kind: str, subject_id: str) -> AccessLock | None:
        row = (
            self._conn.execute(
                select(access_lock).where(
                    access_lock.c.subject_kind == subject_kind,
                    access_lock.c.subject_id == subject_id,
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _lock(row)

    def holder(self, operator_id: str) -> Holder | None:
        # Asked on every authenticated request (with the token or session it follows): one
        # statement built once (``fastsql``), not rebuilt and keyed by SQLAlchemy each time.
        row = _HOLDER.first_mapping(self._conn, operator_id=operator_id)
        if row is None:
            return None
        # A dict by column name: all that operator_from_row reads of a row.
        return Holder(
            operator_from_row(cast(RowMapping, row)),
            row["locked"] is not None,
            _maybe(row["second_factor_since"]),
        )

    def locks(self) -> list[AccessLock]:
        rows = self._conn.execute(
            select(access_lock).order_by(access_lock.c.locked_at, access_lock.c.subject_id)
        ).mappings()
        return [_lock(row) for row in rows]

    # -- web sessions -------------------------------------------------------------------------
    def add_session(self, session: WebSession) -> None:
        self._conn.execute(
            insert(web_session).values(
                id=session.id,
                operator_id=session.operator_id,
                csrf_token=session.csrf_token,
                bench=session.bench,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
            )
        )

    def session(self, session_id: bytes) -> WebSession | None:
        row = (
            self._conn.execute(select(web_session).where(web_session.c.id == session_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return WebSession(
            id=bytes(row["id"]),
            operator_id=row["operator_id"],
            csrf_token=row["csrf_token"],
            bench=row["bench"],
            created_at=_aware(row["created_at"]),
            last_seen_at=_aware(row["last_seen_at"]),
            expires_at=_aware(row["expires_at"]),
            ended_at=_maybe(row["ended_at"]),
        )

    def touch_session(self, session_id: bytes, at: datetime) -> None:
        self._conn.execute(
            update(web_session)
            .where(web_session.c.id == session_id, web_session.c.ended_at.is_(None))
            .values(last_seen_at=at)
        )

    def end_session(self, session_id: bytes, at: datetime) -> bool:
        changed = self._conn.execute(
            update(web_session)
            .where(web_session.c.id == session_id, web_session.c.ended_at.is_(None))
            .values(ended_at=at)
        )
        return changed.rowcount == 1

    def end_sessions(self, operator_id: str, at: datetime, keep: bytes | None = None) -> int:
        where = and_(web_session.c.operator_id == operator_id, web_session.c.ended_at.is_(None))
        if keep is not None:
            where = and_(where, web_session.c.id != keep)
        return int(
            self._conn.execute(update(web_session).where(where).values(ended_at=at)).rowcount
        )


def _lock(row: Any) -> AccessLock:
    return AccessLock(
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        reason=row["reason"],
        locked_at=_aware(row["locked_at"]),
    )
