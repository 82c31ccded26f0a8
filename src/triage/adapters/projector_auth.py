"""Projection handlers for authentication entries (``auth.*``): locks, MFA state, last login."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, and_, delete, insert

from triage.adapters.projector import Op, Run, handles, set_values
from triage.adapters.tables import access_lock, operator
from triage.ledger.entry import Entry


def _where_lock(entry: Entry) -> ColumnElement[bool]:
    return and_(
        access_lock.c.subject_kind == entry.subject.kind,
        access_lock.c.subject_id == entry.subject.id,
    )


@handles("auth.locked")
def _locked(entry: Entry) -> list[Op]:
    where = _where_lock(entry)

    def run(conn: Connection) -> None:
        # The latest lock wins: locking what is already locked restates it, never fails.
        conn.execute(delete(access_lock).where(where))
        conn.execute(
            insert(access_lock).values(
                subject_kind=entry.subject.kind,
                subject_id=entry.subject.id,
                reason=entry.data["reason"],
                locked_at=entry.at,
            )
        )

    return [Run(run)]


@handles("auth.unlocked")
def _unlocked(entry: Entry) -> list[Op]:
    where = _where_lock(entry)

    def run(conn: Connection) -> None:
        conn.execute(delete(access_lock).where(where))

    return [Run(run)]


@handles("auth.mfa_enrolled")
def _mfa_enrolled(entry: Entry) -> list[Op]:
    return [set_values(operator, operator.c.id == entry.subject.id, mfa_enrolled=True)]


@handles("auth.login")
def _login(entry: Entry) -> list[Op]:
    return [set_values(operator, operator.c.id == entry.subject.id, last_login_at=entry.at)]
