"""`triage ledger replay --check`: everything derived from the ledger, checked against it.

* Every projection is rebuilt from the entries in an empty in-memory database and compared
  with the live tables row by row (roles, bench assignments, tools and their keys, jobs...).
* Every job's recorded path is checked against the lifecycle (``lifecycle.check_path``): it
  opens with ``device.received``, takes only steps ``TRANSITIONS`` allows, is released only
  with a seal fitted, and only once. A projection edited and then moved on by a legitimate
  step agrees with its entries row by row; its path does not.
* The history index (``ledger_subject``) holds exactly one row per entry, naming the entry's
  type and subject: a deleted row would hide the entry from the subject's history and receipt.
* The credential tables, which are not rebuilt (they hold hashes of secrets, and entries never
  do), are checked against what the entries say: API tokens (who, label, scopes, expiry, bench,
  revocation, and the digest of the stored hash), passwords and TOTP secrets by the digest the
  entry that set them recorded, the TOTP confirmation, recovery codes and activation codes.
  Entries written before digests were recorded give a note, not a failure.

A damaged entry (not UTF-8, not JSON, not an entry) is a named failure, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, create_engine, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from triage.adapters import projector
from triage.adapters.database import Database
from triage.adapters.ledger_store import SqlLogStorage
from triage.adapters.tables import (
    PROJECTIONS,
    activation_code,
    api_token,
    facility,
    ledger_subject,
    metadata,
    operator_credential,
    recovery_code,
)
from triage.domain.digests import set_digest, stored_digest
from triage.domain.lifecycle import PathStep, check_path
from triage.ledger.entry import Entry, parse_time
from triage.ledger.errors import VerificationError

MAX_DIFFERENCES = 50
MAX_NOTES = 20
NO_SCOPES = ["role"]  # how a token entry says "everything the operator's roles allow"


@dataclass(frozen=True)
class Difference:
    """One way the live tables differ from what the entries say."""

    table: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


@dataclass(frozen=True)
class ReplayReport:
    """How many entries were replayed, how many rows compared, every difference, and notes
    that are not failures (such as credentials set before their digests were recorded)."""

    entries: int
    rows: int
    differences: list[Difference]
    notes: list[str] = field(default_factory=list)


def replay_check(
    database: Database, facility_id: str, progress: Callable[[int], None] | None = None
) -> ReplayReport:
    """Apply every entry to an empty in-memory database and compare it with the live tables;
    check every job's path, the history index and the credential tables against the entries."""
    scratch = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    metadata.create_all(scratch)
    replayed = 0
    differences: list[Difference] = []
    derived = _Derived()
    rows = 0
    try:
        with database.read() as live, scratch.begin() as rebuilt:
            applicable = True
            checked_to = -1  # the history index is checked up to this index
            for batch in SqlLogStorage(live, facility_id).read_entries(0, 2**63 - 1):
                entries: list[Entry] = []
                for index, data in batch:
                    entry = _entry(int(index), data, differences)
                    if entry is None:
                        derived.damaged.add(int(index))
                    else:
                        entries.append(entry)
                        derived.see(int(index), entry)
                if applicable:
                    applicable = _apply(rebuilt, entries, batch, differences)
                last = int(batch[-1][0])
                differences.extend(_index(live, facility_id, checked_to + 1, last, derived))
                derived.index.clear()
                checked_to = last
                replayed += len(batch)
                if progress is not None:
                    progress(replayed)
            differences.extend(_index(live, facility_id, checked_to + 1, None, derived))
            differences.extend(_foreign_index_rows(live, facility_id))
            differences.extend(derived.paths())
            if applicable:
                for table in (facility, *PROJECTIONS):
                    live_rows = _rows(live.execute(select(table)).mappings(), table)
                    rebuilt_rows = _rows(rebuilt.execute(select(table)).mappings(), table)
                    rows += len(live_rows)
                    differences.extend(_compare(table, live_rows, rebuilt_rows))
            rows += derived.check_credentials(live, differences)
    finally:
        scratch.dispose()
    return ReplayReport(replayed, rows, differences[:MAX_DIFFERENCES], derived.notes[:MAX_NOTES])


def _entry(index: int, data: Any, differences: list[Difference]) -> Entry | None:
    try:
        return Entry.from_bytes(bytes(data))
    except (VerificationError, ValueError, RecursionError) as exc:
        differences.append(Difference("entry", str(index), f"not a valid entry: {exc}"))
        return None


def _apply(
    rebuilt: Connection,
    entries: Sequence[Entry],
    batch: Sequence[tuple[int, Any]],
    differences: list[Difference],
) -> bool:
    """Apply a batch to the scratch tables; False (and a difference) if an entry cannot be."""
    try:
        projector.apply(rebuilt, entries)
    except (KeyError, TypeError, ValueError, SQLAlchemyError) as exc:
        first, last = int(batch[0][0]), int(batch[-1][0])
        differences.append(
            Difference(
                "entry",
                f"{first}-{last}",
                f"an entry of these cannot be applied to the tables ({type(exc).__name__}: "
                f"{str(exc)[:200]}); the tables were not compared",
            )
        )
        return False
    return True


# -- the history index ------------------------------------------------------------------------


def _index(
    live: Connection, facility_id: str, start: int, stop: int | None, derived: _Derived
) -> list[Difference]:
    """Differences between the index rows from ``start`` to ``stop`` (inclusive; None: to the
    end) and the entries there (``derived.index``: index -> (type, kind, id))."""
    query = select(
        ledger_subject.c.idx,
        ledger_subject.c.entry_type,
        ledger_subject.c.subject_kind,
        ledger_subject.c.subject_id,
    ).where(ledger_subject.c.log_id == facility_id, ledger_subject.c.idx >= start)
    if stop is not None:
        query = query.where(ledger_subject.c.idx <= stop)
    found = {int(idx): (t, k, i) for idx, t, k, i in live.execute(query)}
    out = []
    for idx in sorted(derived.index.keys() | found.keys()):
        expected, indexed = derived.index.get(idx), found.get(idx)
        if expected == indexed:
            continue
        if indexed is None:
            assert expected is not None
            out.append(
                Difference(
                    "ledger_subject",
                    str(idx),
                    f"the history index has no row for entry {idx} ({expected[0]} about "
                    f"{expected[1]} {expected[2]}): it is hidden from that history and its "
                    "receipts",
                )
            )
        elif expected is None:
            if idx in derived.damaged:
                continue  # a damaged entry: named as such already
            out.append(
                Difference(
                    "ledger_subject",
                    str(idx),
                    f"the history index has a row ({indexed[0]} about {indexed[1]} "
                    f"{indexed[2]}) for entry {idx}, which the ledger does not hold",
                )
            )
        else:
            out.append(
                Difference(
                    "ledger_subject",
                    str(idx),
                    f"the history index says {indexed[0]} about {indexed[1]} {indexed[2]}, "
                    f"but entry {idx} is {expected[0]} about {expected[1]} {expected[2]}",
                )
            )
    return out


def _foreign_index_rows(live: Connection, facility_id: str) -> list[Difference]:
    query = select(ledger_subject.c.log_id, ledger_subject.c.idx).where(
        or_(ledger_subject.c.log_id != facility_id, ledger_subject.c.idx < 0)
    )
    return [
        Difference(
            "ledger_subject",
            str(idx),
            f"the history index has a row for log {log_id!r} index {idx}, which is not an "
            "entry of this facility's ledger",
        )
        for log_id, idx in live.execute(query.limit(MAX_DIFFERENCES))
    ]


# -- what the entries say about jobs and credentials ------------------------------------------


@dataclass
class _Token:
    operator_id: str
    label: str
    created_at: datetime
    scopes: str
    expires_at: datetime | None
    bench: str | None
    digest: str | None
    index: int
    revoked_at: datetime | None = None


@dataclass
class _Set:
    """The last entry that set a credential value: its index and the digest it recorded."""

    index: int
    digest: str | None


@dataclass
class _Credential:
    activated: int  # the index of the latest auth.activated
    password: _Set
    totp: _Set
    totp_confirmed_at: datetime | None = None
    recovery: _Set | None = None


@dataclass
class _Derived:
    """What the entries say about job paths, the index, and the credential tables."""

    jobs: dict[str, list[PathStep]] = field(default_factory=dict)
    index: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    damaged: set[int] = field(default_factory=set)
    tokens: dict[str, _Token] = field(default_factory=dict)
    credentials: dict[str, _Credential] = field(default_factory=dict)
    activations: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def see(self, index: int, entry: Entry) -> None:
        self.index[index] = (entry.type, entry.subject.kind, entry.subject.id)
        data = entry.data
        if "job_id" in data and "state" in data:
            self.jobs.setdefault(str(data["job_id"]), []).append(
                PathStep(index, entry.type, str(data["state"]), entry.subject.id)
            )
        handler = _CREDENTIAL_ENTRIES.get(entry.type)
        if handler is not None:
            handler(self, index, entry)

    def paths(self) -> list[Difference]:
        out = []
        for job_id, steps in self.jobs.items():
            problem = check_path(steps)
            if problem is not None:
                out.append(Difference("job", job_id, f"(device {steps[0].subject}) {problem}"))
        return out

    # -- entries that set credentials ---------------------------------------------------------

    def _token_issued(self, index: int, entry: Entry) -> None:
        data = entry.data
        scopes = data.get("scopes") or NO_SCOPES
        expires = data.get("expires_at")
        self.tokens[str(data["token_id"])] = _Token(
            operator_id=entry.subject.id,
            label=str(data.get("label", "")),
            created_at=entry.at,
            scopes="" if scopes == NO_SCOPES else ",".join(sorted(str(s) for s in scopes)),
            expires_at=parse_time(str(expires)) if expires else None,
            bench=None if data.get("bench") is None else str(data["bench"]),
            digest=_digest(data.get("token_digest")),
            index=index,
        )

    def _token_revoked(self, index: int, entry: Entry) -> None:
        token = self.tokens.get(str(entry.data.get("token_id")))
        if token is not None and token.revoked_at is None:
            token.revoked_at = entry.at

    def _activated(self, index: int, entry: Entry) -> None:
        before = self.credentials.get(entry.subject.id)
        self.credentials[entry.subject.id] = _Credential(
            activated=index,
            password=_Set(index, _digest(entry.data.get("password_digest"))),
            totp=_Set(index, _digest(entry.data.get("totp_digest"))),
            # A new activation leaves the recovery codes until the new second factor is
            # confirmed (auth.mfa_enrolled replaces them).
            recovery=None if before is None else before.recovery,
        )

    def _mfa_enrolled(self, index: int, entry: Entry) -> None:
        found = self.credentials.get(entry.subject.id)
        if found is not None:
            found.totp_confirmed_at = entry.at
            found.recovery = _Set(index, _digest(entry.data.get("recovery_digest")))

    def _password_set(self, index: int, entry: Entry) -> None:
        found = self.credentials.get(entry.subject.id)
        # A login records a digest only when it re-hashed the password.
        if found is not None and (entry.type != "auth.login" or "password_digest" in entry.data):
            found.password = _Set(index, _digest(entry.data.get("password_digest")))

    def _activation_issued(self, index: int, entry: Entry) -> None:
        self.activations[entry.subject.id] = (index, _digest(entry.data.get("code_digest")))

    # -- the comparison -----------------------------------------------------------------------

    def check_credentials(self, live: Connection, differences: list[Difference]) -> int:
        """Compare the credential tables with the entries; returns the rows compared."""
        rows = 0
        for row in live.execute(select(api_token)).mappings():
            rows += 1
            differences.extend(self._check_token(row))
        for token_id in sorted(self.tokens.keys() - self._ids(live, api_token.c.id)):
            differences.append(
                Difference(
                    "api_token",
                    token_id,
                    f"entry {self.tokens[token_id].index} issued this token but its row is missing",
                )
            )
        recovery: dict[str, list[bytes]] = {}
        for operator_id, code in live.execute(
            select(recovery_code.c.operator_id, recovery_code.c.code_hash)
        ):
            recovery.setdefault(operator_id, []).append(bytes(code))
        stored = set()
        for row in live.execute(select(operator_credential)).mappings():
            rows += 1
            stored.add(row["operator_id"])
            differences.extend(self._check_credential(row, recovery.get(row["operator_id"], [])))
        for operator_id in sorted(recovery.keys() - stored):
            differences.append(
                Difference(
                    "recovery_code",
                    operator_id,
                    "recovery codes are stored for an operator without a credential",
                )
            )
        for operator_id in sorted(self.credentials.keys() - stored):
            differences.append(
                Difference(
                    "operator_credential",
                    operator_id,
                    f"entry {self.credentials[operator_id].activated} set a password but the "
                    "credential row is missing",
                )
            )
        for row in live.execute(select(activation_code)).mappings():
            rows += 1
            differences.extend(self._check_activation(row))
        return rows

    @staticmethod
    def _ids(live: Connection, column: Any) -> set[str]:
        return {str(value) for (value,) in live.execute(select(column))}

    def _check_token(self, row: RowMapping) -> list[Difference]:
        key = str(row["id"])
        token = self.tokens.get(key)
        if token is None:
            return [
                Difference(
                    "api_token",
                    key,
                    "token row exists but no operator.token_issued entry issues it",
                )
            ]
        expected = {
            "operator_id": token.operator_id,
            "label": token.label,
            "created_at": token.created_at,
            "scopes": token.scopes,
            "expires_at": token.expires_at,
            "revoked_at": token.revoked_at,
            "bench": token.bench,
        }
        out = [
            Difference(
                "api_token",
                key,
                f"{column} is {_normal(row[column])!r} but the entries give {_normal(value)!r}",
            )
            for column, value in expected.items()
            if _normal(row[column]) != _normal(value)
        ]
        out.extend(
            self._check_digest(
                "api_token", key, "token_hash", row["token_hash"], token.index, token.digest
            )
        )
        return out

    def _check_credential(self, row: RowMapping, recovery: Sequence[bytes]) -> list[Difference]:
        key = str(row["operator_id"])
        found = self.credentials.get(key)
        if found is None:
            return [
                Difference(
                    "operator_credential",
                    key,
                    "a credential is stored but no auth.activated entry sets one",
                )
            ]
        out = []
        if row["password_hash"] is not None:
            out += self._check_digest(
                "operator_credential",
                key,
                "password_hash",
                row["password_hash"],
                found.password.index,
                found.password.digest,
            )
        if row["totp_secret"] is not None:
            out += self._check_digest(
                "operator_credential",
                key,
                "totp_secret",
                row["totp_secret"],
                found.totp.index,
                found.totp.digest,
            )
        confirmed = _normal(row["totp_confirmed_at"])
        if confirmed != _normal(found.totp_confirmed_at):
            out.append(
                Difference(
                    "operator_credential",
                    key,
                    f"totp_confirmed_at is {confirmed!r} but the entries give "
                    f"{_normal(found.totp_confirmed_at)!r}",
                )
            )
        if recovery and found.recovery is None:
            out.append(
                Difference(
                    "recovery_code", key, "recovery codes are stored but no entry enrolled them"
                )
            )
        elif found.recovery is not None:
            out += self._check_digest(
                "recovery_code",
                key,
                "the recovery codes",
                None,
                found.recovery.index,
                found.recovery.digest,
                set_digest(recovery),
            )
        return out

    def _check_activation(self, row: RowMapping) -> list[Difference]:
        key = str(row["operator_id"])
        issued = self.activations.get(key)
        if issued is None:
            return [
                Difference(
                    "activation_code",
                    key,
                    "an activation code is stored but no auth.activation_issued entry issues it",
                )
            ]
        return self._check_digest(
            "activation_code", key, "code_hash", row["code_hash"], issued[0], issued[1]
        )

    def _check_digest(
        self,
        table: str,
        key: str,
        column: str,
        value: Any,
        index: int,
        digest: str | None,
        actual: str | None = None,
    ) -> list[Difference]:
        """Whether ``value`` as stored (or its ``actual`` digest) is what entry ``index``
        recorded; a note when that entry recorded no digest."""
        if digest is None:
            self.notes.append(
                f"{table} {key}: no digest recorded for {column} (entry {index} was written "
                "before digests were recorded); not checked"
            )
            return []
        if (actual if actual is not None else stored_digest(value)) != digest:
            return [
                Difference(
                    table,
                    key,
                    f"{column} is not the value entry {index} recorded (its digest differs): "
                    "it was changed behind the ledger's back",
                )
            ]
        return []


_Handler = Callable[[_Derived, int, Entry], None]
_CREDENTIAL_ENTRIES: dict[str, _Handler] = {
    "operator.token_issued": _Derived._token_issued,
    "operator.token_revoked": _Derived._token_revoked,
    "auth.activated": _Derived._activated,
    "auth.mfa_enrolled": _Derived._mfa_enrolled,
    "auth.password_changed": _Derived._password_set,
    "auth.login": _Derived._password_set,
    "auth.activation_issued": _Derived._activation_issued,
}


def _digest(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# -- table comparison -------------------------------------------------------------------------


def _rows(result: Iterable[Any], table: Table) -> dict[str, dict[str, Any]]:
    keys = [c.name for c in table.primary_key.columns]
    out = {}
    for row in result:
        normal = {name: _normal(value) for name, value in row.items()}
        out["/".join(str(normal[k]) for k in keys)] = normal
    return out


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _compare(
    table: Table, live: dict[str, dict[str, Any]], rebuilt: dict[str, dict[str, Any]]
) -> list[Difference]:
    found = []
    for key in sorted(live.keys() - rebuilt.keys()):
        found.append(Difference(table.name, key, "row exists but no entry creates it"))
    for key in sorted(rebuilt.keys() - live.keys()):
        found.append(Difference(table.name, key, "the entries create this row but it is missing"))
    for key in sorted(live.keys() & rebuilt.keys()):
        for column, value in live[key].items():
            if rebuilt[key].get(column) != value:
                found.append(
                    Difference(
                        table.name,
                        key,
                        f"{column} is {value!r} but the entries give {rebuilt[key].get(column)!r}",
                    )
                )
    return found
