"""Retention of evidence files as data: how long each kind is kept, legal holds, and purges.

A purge is decided and recorded first (``evidence.purged``, one entry a file, committed), and
only then are the files deleted. A crash in between leaves files recorded as purged but still
on disk: the next purge finds them and finishes the deletion (without recording them again).
The other order could delete a file whose purge is then rolled back, losing evidence the
ledger says is kept. The ledger's entries, and so every file's digest, are never deleted.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from triage.domain.caller import Caller
from triage.domain.retention import (
    KINDS,
    EvidenceKind,
    HoldScope,
    LegalHold,
    PurgeCandidate,
    Purged,
    RetentionRule,
    check_days,
    check_kind,
    check_reason,
    effective_rules,
    purge_candidates,
)
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Entry, Ref
from triage.services import intake
from triage.services.common import make_entry, record_and_reload
from triage.services.history import parse_device_id
from triage.services.ports import FileStore, PurgeableFileStore, UnitOfWork, UnitOfWorkFactory

RULE_SET = "retention.rule_set"
HOLD_PLACED = "legal_hold.placed"
HOLD_RELEASED = "legal_hold.released"
PURGED = "evidence.purged"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class KindRule:
    """A kind of evidence file and the rule it is kept under."""

    kind: EvidenceKind
    rule: RetentionRule

    @property
    def is_default(self) -> bool:
        return self.rule.set_by is None


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would do now: the files past their retention and not held, and the files
    recorded as purged that are still on disk (a purge interrupted before it deleted them)."""

    due: list[PurgeCandidate]
    unfinished: list[Purged]


@dataclass(frozen=True)
class PurgeRun:
    """What a purge did: the files it recorded as purged, and how many files it deleted."""

    purged: list[PurgeCandidate]
    deleted: int
    dry_run: bool


def rules(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[KindRule]:
    """Every kind of evidence file with the rule it is kept under (set, or the default)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        found = effective_rules(uow.retention.rules())
    return [KindRule(KINDS[name], found[name]) for name in KINDS]


def set_rule(uow_factory: UnitOfWorkFactory, caller: Caller, kind: str, days: int) -> KindRule:
    """Keep files of ``kind`` for ``days`` days (after their case closes or their upload, as the
    kind counts); applies to files kept now as well as later ones."""
    caller.require(Permission.RETENTION_MANAGE)
    found = check_kind(kind)
    days = check_days(days)
    with uow_factory(write=True) as uow:
        current = effective_rules(uow.retention.rules())[found.name]
        if current.days == days:
            raise InvalidInput(f"days: files of {found.name} are kept {days} days already")
        data = {"kind": found.name, "days": days, "counted_from": found.counted_from.value}
        entry = make_entry(uow, caller, RULE_SET, Ref("retention_rule", found.name), data)
        rule = record_and_reload(
            uow,
            [entry],
            lambda: next((r for r in uow.retention.rules() if r.kind == found.name), None),
        )
    return KindRule(found, rule)


def holds(
    uow_factory: UnitOfWorkFactory, caller: Caller, include_released: bool = False
) -> list[LegalHold]:
    """Legal holds, oldest first: those in force, or every one ever placed."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.retention.holds(active_only=not include_released)


def place_hold(
    uow_factory: UnitOfWorkFactory, caller: Caller, scope: str, target: str, reason: str
) -> LegalHold:
    """Hold the evidence of a device, of a consignment's devices, or one file (by SHA-256): no
    file it covers is purged until the hold is released."""
    caller.require(Permission.RETENTION_MANAGE)
    try:
        held = HoldScope(scope.strip())
    except ValueError:
        raise InvalidInput("scope: device, consignment or file", field="scope") from None
    why = check_reason(reason)
    with uow_factory(write=True) as uow:
        named = _hold_target(uow, held, target)
        if any(h.scope is held and h.target == named for h in uow.retention.holds(True)):
            raise Conflict(f"{held.value} {named} is held already")
        hold_id = str(uuid.uuid4())
        data = {"hold_id": hold_id, "scope": held.value, "target": named, "reason": why}
        entry = make_entry(uow, caller, HOLD_PLACED, Ref("legal_hold", hold_id), data)
        return record_and_reload(uow, [entry], lambda: uow.retention.hold(hold_id))


def _hold_target(uow: UnitOfWork, scope: HoldScope, target: str) -> str:
    if scope is HoldScope.DEVICE:
        device_id = parse_device_id(target)
        if not uow.ledger.indexes_for("device", device_id):
            raise NotFound(f"the ledger has nothing about device {device_id}")
        return device_id
    if scope is HoldScope.CONSIGNMENT:
        return intake.find_consignment(uow, target).id
    sha256 = target.strip().lower()
    if not _DIGEST.match(sha256):
        raise InvalidInput("target: the file's SHA-256, 64 hex digits", field="target")
    if not uow.retention.files(sha256):
        raise NotFound(f"no evidence file {sha256} is recorded")
    return sha256


def release_hold(
    uow_factory: UnitOfWorkFactory, caller: Caller, hold_id: str, reason: str
) -> LegalHold:
    """Release a legal hold: its files are purged again when past their retention."""
    caller.require(Permission.RETENTION_MANAGE)
    why = check_reason(reason)
    with uow_factory(write=True) as uow:
        found = uow.retention.hold(hold_id.strip())
        if found is None:
            raise NotFound(f"no legal hold {hold_id.strip()[:40]!r}")
        if not found.active:
            raise Conflict(f"legal hold {found.id} was released already")
        data = {"hold_id": found.id, "reason": why}
        entry = make_entry(uow, caller, HOLD_RELEASED, Ref("legal_hold", found.id), data)
        return record_and_reload(uow, [entry], lambda: uow.retention.hold(found.id))


def purge_plan(uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore) -> PurgePlan:
    """What the next purge would delete (nothing is recorded or deleted)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return PurgePlan(_due(uow), _unfinished(uow, store))


def purge_history(uow_factory: UnitOfWorkFactory, caller: Caller, limit: int = 200) -> list[Purged]:
    """The files purged, newest first (up to ``limit``)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.retention.purges(limit=limit)


@dataclass(frozen=True)
class RetentionOverview:
    """The retention page: the rule of each kind, the holds in force, what the next purge would
    delete and the files purged lately, read in one transaction."""

    rules: list[KindRule]
    holds: list[LegalHold]
    plan: PurgePlan
    history: list[Purged]


def overview(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, limit: int = 200
) -> RetentionOverview:
    """Rules, holds in force, the purge plan and the latest purges (the facility's readers)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        found = effective_rules(uow.retention.rules())
        return RetentionOverview(
            [KindRule(KINDS[name], found[name]) for name in KINDS],
            uow.retention.holds(active_only=True),
            PurgePlan(_due(uow), _unfinished(uow, store)),
            uow.retention.purges(limit=limit),
        )


def purge(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: PurgeableFileStore,
    dry_run: bool = False,
) -> PurgeRun:
    """Purge the evidence files past their retention and not held: record each purge, then
    delete the files (and finish the deletions an interrupted purge left)."""
    caller.require(Permission.RETENTION_MANAGE)
    if dry_run:
        with uow_factory(write=False) as uow:
            return PurgeRun(_due(uow), 0, dry_run=True)
    with uow_factory(write=True) as uow:
        due = _due(uow)
        if due:
            uow.ledger.record([_purged_entry(uow, caller, c) for c in due])
            uow.commit()
    with uow_factory(write=False) as uow:
        to_delete = _unfinished(uow, store)
    deleted = sum(1 for p in to_delete if store.delete(p.sha256))
    return PurgeRun(due, deleted, dry_run=False)


def _purged_entry(uow: UnitOfWork, caller: Caller, candidate: PurgeCandidate) -> Entry:
    file, rule = candidate.file, candidate.rule
    data = {
        "sha256": candidate.sha256,
        "kind": file.kind,
        "name": file.name,
        "size": file.size,
        "rule": {"kind": rule.kind, "days": rule.days, "counted_from": rule.counted_from.value},
        "purged_at": uow.clock.now().isoformat(),
    }
    return make_entry(uow, caller, PURGED, Ref("evidence_file", candidate.sha256), data)


def _due(uow: UnitOfWork) -> list[PurgeCandidate]:
    purged: dict[str, datetime] = {}
    for p in uow.retention.purges():
        purged.setdefault(p.sha256, p.purged_at)
    return purge_candidates(
        uow.retention.files(),
        effective_rules(uow.retention.rules()),
        uow.retention.holds(active_only=True),
        purged,
        uow.clock.now(),
    )


def _unfinished(uow: UnitOfWork, store: FileStore) -> list[Purged]:
    """The files whose latest purge came after their latest record and that are still there."""
    latest: dict[str, Purged] = {}
    for p in uow.retention.purges():
        latest.setdefault(p.sha256, p)
    recorded: dict[str, datetime] = {}
    for f in uow.retention.files():
        recorded[f.sha256] = max(f.recorded_at, recorded.get(f.sha256, f.recorded_at))
    return [
        p
        for sha256, p in latest.items()
        if recorded.get(sha256, p.purged_at) <= p.purged_at and store.check(sha256) != "missing"
    ]


def purged_notice(uow_factory: UnitOfWorkFactory, sha256: str) -> str | None:
    """Why an evidence file is gone, when a purge deleted it: for a download to say so instead
    of a bare 'not found'. None when it was never purged."""
    with uow_factory(write=False) as uow:
        found = uow.retention.purges(sha256)
    if not found:
        return None
    last = found[0]
    return (
        f"the file {sha256} was purged on {last.purged_at:%Y-%m-%d} under the retention rule "
        f"for {last.kind} ({last.rule_days} days); its SHA-256 stays in the ledger"
    )
