"""Ledger use cases: status, checkpoints, proofs and full verification."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from triage.domain.caller import Caller
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.errors import (
    Conflict,
    IntegrityFailure,
    LedgerStateError,
    NotFound,
    TriageError,
    VerificationError,
)
from triage.ledger import note
from triage.ledger.audit import AuditReport, Problem, audit_log
from triage.ledger.entry import Entry, Ref, format_time
from triage.ledger.export import export_lines
from triage.ledger.log import LogStorage, StoredCheckpoint, cached_consistency, cached_inclusion
from triage.ledger.vouch import (
    Anchor,
    HistoryRewritten,
    Vouched,
    open_anchor,
    stored_leaf_hashes,
    vouch,
)
from triage.services import incidents, witnessing
from triage.services.common import make_entry
from triage.services.ports import CheckpointKeeper, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LedgerStatus:
    """Size, root and the latest signed checkpoint of a facility's ledger."""

    size: int
    root: bytes
    latest_checkpoint: StoredCheckpoint | None


def status(uow_factory: UnitOfWorkFactory, caller: Caller) -> LedgerStatus:
    """The ledger as it stands, its latest checkpoint as published (with the cosignatures
    gathered for it)."""
    caller.require(Permission.LEDGER_READ)
    # Imported here: witnessing builds on this module (checkpoints, proofs).
    from triage.services.witnessing import cosigned_note

    with uow_factory(write=False) as uow:
        head = uow.ledger.log.head()
        latest = uow.ledger.log.latest_checkpoint()
        if latest is not None:  # as published: with the witnesses' cosignatures
            latest = dataclasses.replace(latest, note=cosigned_note(uow, latest))
        return LedgerStatus(head.size, head.root, latest)


def checkpoints(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[StoredCheckpoint]:
    """Every stored signed checkpoint, oldest (smallest) first."""
    caller.require(Permission.LEDGER_READ)
    with uow_factory(write=False) as uow:
        return uow.ledger.storage.read_checkpoints()


def issue_checkpoint(
    uow_factory: UnitOfWorkFactory, caller: Caller, origin: str, signer_key: str
) -> StoredCheckpoint:
    """Vouch for the ledger, then sign and store a checkpoint of it and keep it outside the
    database too.

    IntegrityFailure (naming the first bad entry where it can) when the ledger is not the
    history last signed: nothing is signed, the refusal is recorded and an alert raised.
    """
    caller.require(Permission.LEDGER_CHECKPOINT)
    keeper = uow_factory.checkpoint_keeper()
    verifier = note.verifier_key_from_signer(signer_key)
    try:
        with keeper.lock() if keeper is not None else nullcontext():
            with uow_factory(write=True) as uow:
                vouched = _vouch(uow, keeper, origin, verifier)
                stored = uow.ledger.log.sign_vouched(vouched, origin, signer_key)
                first, hashes = _hashes_to_keep(uow, keeper, vouched)
                uow.commit()
            if keeper is not None:
                keeper.keep(stored.note, stored.size, first, hashes)
    except IntegrityFailure as exc:
        record_refusal(uow_factory, exc)
        raise
    return stored


def issue_checkpoint_if_grown(
    uow_factory: UnitOfWorkFactory, caller: Caller, origin: str, signer_key: str
) -> StoredCheckpoint | None:
    """Issue a checkpoint only when the log grew since the last one (for the periodic task);
    when it did not, still check that it is the history last signed (IntegrityFailure)."""
    caller.require(Permission.LEDGER_CHECKPOINT)
    with uow_factory(write=False) as uow:
        latest = uow.ledger.log.latest_checkpoint()
        size = uow.ledger.log.head().size
    if latest is not None and latest.size == size:
        check(uow_factory, origin, note.verifier_key_from_signer(signer_key))
        return None
    return issue_checkpoint(uow_factory, caller, origin, signer_key)


def check(uow_factory: UnitOfWorkFactory, origin: str, verifier_key: str) -> Vouched:
    """Check, without signing, that the ledger is the history last signed and agrees with
    itself since (what is done before every checkpoint); IntegrityFailure, recorded, if not."""
    keeper = uow_factory.checkpoint_keeper()
    try:
        with uow_factory(write=False) as uow:
            return _vouch(uow, keeper, origin, verifier_key)
    except IntegrityFailure as exc:
        record_refusal(uow_factory, exc)
        raise


def _vouch(uow: UnitOfWork, keeper: CheckpointKeeper | None, origin: str, verifier: str) -> Vouched:
    """The ledger vouched for against the last signed checkpoint: the larger of the one kept
    outside the database and the database's latest, both verified, and the kept one still in
    the database."""
    storage = uow.ledger.storage
    stored = storage.read_checkpoints()
    kept: Anchor | None = None
    if keeper is not None:
        try:
            text = keeper.read()
            kept = None if text is None else open_anchor(text, [verifier], origin)
        except VerificationError as exc:
            raise IntegrityFailure(
                f"the checkpoint kept in {keeper.path} does not verify: {exc}"
            ) from exc
    latest: Anchor | None = None
    if stored:
        try:
            latest = open_anchor(stored[-1].note, [verifier], origin)
        except VerificationError as exc:
            raise IntegrityFailure(
                f"the latest stored checkpoint (size {stored[-1].size}) does not verify: {exc}"
            ) from exc
    if kept is not None and keeper is not None:
        problem = missing_checkpoint(kept, stored, verifier, origin, keeper.path)
        if problem is not None:
            raise IntegrityFailure(problem)
    anchor = max((a for a in (kept, latest) if a is not None), key=_size, default=None)

    def signed() -> list[Anchor]:
        found = []
        for checkpoint in stored:
            with suppress(VerificationError):
                found.append(open_anchor(checkpoint.note, [verifier], origin))
        return found

    try:
        return vouch(storage, anchor, keeper, signed)
    except HistoryRewritten as exc:
        raise IntegrityFailure(str(exc), exc.index) from exc


def _size(anchor: Anchor) -> int:
    return anchor.size


def missing_checkpoint(
    kept: Anchor, stored: list[StoredCheckpoint], verifier: str, origin: str, where: Path
) -> str | None:
    """Why the database's checkpoints lack the one kept outside it, or None if they hold it."""
    same = next((c for c in stored if c.size == kept.size), None)
    if same is None:
        held = f"its latest is size {stored[-1].size}" if stored else "it holds none"
        return (
            f"the checkpoint table lacks the checkpoint at size {kept.size} the facility "
            f"signed (kept in {where}); {held}: checkpoints were deleted or rolled back"
        )
    try:
        root = open_anchor(same.note, [verifier], origin).root
    except VerificationError as exc:
        return f"the stored checkpoint at size {kept.size} does not verify: {exc}"
    if root != kept.root:
        return (
            f"the stored checkpoint at size {kept.size} signs another root than the one kept "
            f"in {where}"
        )
    return None


def _hashes_to_keep(
    uow: UnitOfWork, keeper: CheckpointKeeper | None, vouched: Vouched
) -> tuple[int, list[bytes]]:
    """(first index, leaf hashes) to add to the kept hashes: those just checked, and those
    the keeper lacks before them (a new or upgraded installation), from the stored tiles."""
    start = 0 if vouched.anchor is None else vouched.anchor.size
    if keeper is None:
        return start, list(vouched.new_leaf_hashes)
    held = min(keeper.hashes_count(), start)
    before = stored_leaf_hashes(uow.ledger.storage, held, start)
    return held, [*before, *vouched.new_leaf_hashes]


# -- the write hold: a refused checkpoint holds writes until an administrator acknowledges it

# The facility acting on its ledger by itself: the periodic checkpoint, refusals, and the reads
# and checkpoints other use cases make after checking their own caller (a receipt, a backup).
LEDGER_ACTOR = Caller.system("ledger")
INTEGRITY_METRIC = "ledger_integrity"
REFUSED = "ledger.checkpoint_refused"
ACKNOWLEDGED = "ledger.refusal_acknowledged"


class RefusalJson(TypedDict):
    """A refusal to sign the ledger, as the API and the CLI show it."""

    alert_id: str
    first_bad_index: int | None
    reason: str
    refused_at: str
    acknowledged: bool
    writes_held: bool


@dataclass(frozen=True)
class Refusal:
    """The latest recorded refusal to sign the ledger, and whether it was acknowledged."""

    alert_id: str
    index: int | None
    reason: str
    at: datetime
    acknowledged: bool

    def to_json(self) -> RefusalJson:
        """As the API and the CLI show it."""
        return {
            "alert_id": self.alert_id,
            "first_bad_index": self.index,
            "reason": self.reason,
            "refused_at": format_time(self.at),
            "acknowledged": self.acknowledged,
            "writes_held": not self.acknowledged,
        }


def latest_refusal(uow_factory: UnitOfWorkFactory, caller: Caller) -> Refusal | None:
    """The latest refusal to sign the ledger on record, if any (writes are held while it is
    not acknowledged)."""
    caller.require(Permission.LEDGER_READ)
    with uow_factory(write=False) as uow:
        return _latest_refusal(uow)


def writes_held(uow_factory: UnitOfWorkFactory) -> str | None:
    """Why writes are held, or None when they are not."""
    with uow_factory(write=False) as uow:
        found = _latest_refusal(uow)
    if found is None or found.acknowledged:
        return None
    where = f" (first bad index {found.index})" if found.index is not None else ""
    return (
        f"writes are suspended: the facility refused to sign its ledger{where}: {found.reason}. "
        "An administrator must acknowledge it (POST /api/v1/ledger/integrity/acknowledge or "
        "'triage ledger acknowledge') before changes are accepted again; reads still work"
    )


def _latest_refusal(uow: UnitOfWork) -> Refusal | None:
    indexes = uow.ledger.indexes_for("ledger", uow.facility_id)
    acknowledged: set[str] = set()
    for index in reversed(indexes):
        entry = Entry.from_bytes(uow.ledger.log.entry(index))
        if entry.type == ACKNOWLEDGED:
            acknowledged.add(str(entry.data["alert_id"]))
        elif entry.type == REFUSED:
            alert_id = str(entry.data["alert_id"])
            found_index = entry.data.get("index")
            return Refusal(
                alert_id,
                found_index if isinstance(found_index, int) else None,
                str(entry.data["reason"]),
                entry.at,
                alert_id in acknowledged,
            )
    return None


def record_refusal(uow_factory: UnitOfWorkFactory, failure: IntegrityFailure) -> str | None:
    """Record a refusal to sign the ledger and raise a security alert, which holds writes
    until acknowledged, and an incident in the register (source "checkpoint_refused"); returns
    the alert's id. A finding already on record (held or
    acknowledged) is not recorded again: the periodic check would repeat it every round."""
    reason = str(failure)[:2000]
    try:
        with uow_factory(write=True) as uow:
            latest = _latest_refusal(uow)
            if latest is not None and latest.reason == reason:
                return None
            alert_id = str(uuid.uuid4())
            subject = Ref("ledger", uow.facility_id)
            raised = make_entry(
                uow,
                LEDGER_ACTOR,
                "alert.raised",
                subject,
                {
                    "alert_id": alert_id,
                    "metric": INTEGRITY_METRIC,
                    "count": 1,
                    "max_count": 0,
                    "window_minutes": 0,
                    "action": "writes_held",
                    "detail": reason,
                },
            )
            refused = make_entry(
                uow,
                LEDGER_ACTOR,
                REFUSED,
                subject,
                {"alert_id": alert_id, "index": failure.index, "reason": reason},
            )
            uow.ledger.record([raised, refused])
            incidents.raise_automatic(
                uow,
                "checkpoint_refused",
                subject,
                f"The facility refused to sign a checkpoint of its ledger: {reason}",
                {"alert_id": alert_id, "index": failure.index},
            )
            uow.commit()
    except (TriageError, VerificationError, LedgerStateError):
        # The ledger may be too damaged to append to: the refusal itself still stands.
        log.exception("the refusal to sign the ledger could not be recorded")
        return None
    log.error("ledger integrity failure, writes held (alert %s): %s", alert_id, reason)
    return alert_id


def acknowledge_refusal(uow_factory: UnitOfWorkFactory, caller: Caller, reason: str) -> Refusal:
    """An administrator acknowledges the refusal holding writes, with a reason (recorded, and
    the alert resolved with it): writes resume. Checkpoints stay refused while the ledger still
    fails the check."""
    caller.require(Permission.FACILITY_MANAGE)
    text = Reason.parse(reason, what="what was found and what is done").text
    with uow_factory(write=True) as uow:
        latest = _latest_refusal(uow)
        if latest is None or latest.acknowledged:
            raise Conflict("no refusal to sign the ledger is waiting for acknowledgement")
        subject = Ref("ledger", uow.facility_id)
        entries = [
            make_entry(
                uow, caller, ACKNOWLEDGED, subject, {"alert_id": latest.alert_id, "reason": text}
            )
        ]
        found = uow.security.alert(latest.alert_id)
        if found is not None and found.status == "open":
            entries.append(
                make_entry(
                    uow,
                    caller,
                    "alert.resolved",
                    subject,
                    {"alert_id": latest.alert_id, "resolution": text},
                )
            )
        uow.ledger.record(entries)
        uow.commit()
    return dataclasses.replace(latest, acknowledged=True)


@dataclass(frozen=True)
class InclusionProof:
    """Entry ``index`` is in the tree of ``size`` entries whose root is ``root``."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``size1`` entries is a prefix of the tree of ``size2``."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    hashes: list[bytes]


def warm_tile_cache(uow_factory: UnitOfWorkFactory) -> int:
    """Read the log's tiles into this process's tile cache (as many as it holds), so that
    proofs are answered from memory; returns how many tiles were read."""
    with uow_factory(write=False) as uow:
        return uow.ledger.log.warm_cache()


def prove_inclusion(
    uow_factory: UnitOfWorkFactory, caller: Caller, index: int, size: int | None = None
) -> InclusionProof:
    """Inclusion proof of one entry at a tree size (default: the current size)."""
    caller.require(Permission.LEDGER_READ)
    if size is not None:
        cached = cached_inclusion(uow_factory.tile_cache(), index, size)
        if cached is not None:
            return InclusionProof(index, size, cached[0], cached[2], cached[1])
    with uow_factory(write=False) as uow:
        try:
            size, leaf, hashes, root = uow.ledger.log.inclusion_bundle(index, size)
        except LedgerStateError as exc:
            raise NotFound(str(exc)) from exc
        return InclusionProof(index, size, leaf, root, hashes)


def prove_consistency(
    uow_factory: UnitOfWorkFactory, caller: Caller, size1: int, size2: int | None = None
) -> ConsistencyProof:
    """Consistency proof between two tree sizes (default second size: the current size)."""
    caller.require(Permission.LEDGER_READ)
    if size2 is not None:
        cached = cached_consistency(uow_factory.tile_cache(), size1, size2)
        if cached is not None:
            return ConsistencyProof(size1, size2, cached[1], cached[2], cached[0])
    with uow_factory(write=False) as uow:
        try:
            size2, hashes, root1, root2 = uow.ledger.log.consistency_bundle(size1, size2)
        except LedgerStateError as exc:
            raise NotFound(str(exc)) from exc
        return ConsistencyProof(size1, size2, root1, root2, hashes)


def verify(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    verifier_key: str,
    origin: str,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> AuditReport:
    """Recompute the whole ledger from its entries and check every tile, head and checkpoint,
    and the checkpoint kept outside the database against them all.

    ``workers`` > 1 spreads the entry hashing of a large ledger over that many processes.
    ``progress`` is called with how many entries are checked and how many there are.
    """
    caller.require(Permission.LEDGER_READ)
    keeper = uow_factory.checkpoint_keeper()
    kept: str | None = None
    unreadable: str | None = None
    if keeper is not None:
        try:
            kept = keeper.read()
        except VerificationError as exc:
            unreadable = str(exc)
    with uow_factory(write=False) as uow:
        size = uow.ledger.log.head().size
        report = audit_log(
            uow.ledger.storage,
            [verifier_key],
            origin,
            None if progress is None else lambda done: progress(done, size),
            opener=uow_factory.log_opener(),
            workers=workers,
            kept=[] if kept is None else [kept],
        )
        stored = uow.ledger.storage.read_checkpoints()
    if keeper is not None:
        _check_kept(report, keeper, kept, unreadable, stored, verifier_key, origin)
    return report


def _check_kept(
    report: AuditReport,
    keeper: CheckpointKeeper,
    kept: str | None,
    unreadable: str | None,
    stored: list[StoredCheckpoint],
    verifier: str,
    origin: str,
) -> None:
    """What the checkpoint kept outside the database says about the stored checkpoints."""
    if unreadable is not None:
        report.problems.append(Problem(None, unreadable, 3))
        return
    if kept is None:
        if not stored:
            return
        if keeper.tracked():
            report.problems.append(
                Problem(
                    None,
                    f"the checkpoint file {keeper.path} is missing, though the ledger has "
                    f"{len(stored)} checkpoint(s): it was removed; restore it from a backup",
                    3,
                )
            )
        else:
            report.warnings.append(
                f"no checkpoint is kept outside the database yet (an installation from before "
                f"it was kept): the next checkpoint writes {keeper.path}"
            )
        return
    try:
        anchor = open_anchor(kept, [verifier], origin)
    except VerificationError:
        return  # reported by audit_log
    problem = missing_checkpoint(anchor, stored, verifier, origin, keeper.path)
    if problem is not None:
        report.problems.append(Problem(None, problem, 3))
    elif stored and stored[-1].size > anchor.size:
        report.warnings.append(
            f"the checkpoint kept in {keeper.path} (size {anchor.size}) is older than the "
            f"latest stored one (size {stored[-1].size}); the next checkpoint brings it up to date"
        )


def export(
    uow_factory: UnitOfWorkFactory, caller: Caller, origin: str, verifier_key: str | None = None
) -> tuple[StoredCheckpoint, Iterator[bytes]]:
    """The whole ledger up to its latest signed checkpoint, as the lines of a ledger export
    (``triage.ledger.export``) that anyone with the verifier key can check offline; the
    checkpoint in its header carries the witnesses' cosignatures gathered for it.

    With the ``verifier_key``, the ledger is first checked against the history last signed
    (as before a checkpoint): IntegrityFailure, recorded, if it is not.

    The lines are read as they are consumed, in a read transaction of their own: entries below
    a checkpoint's size never change, so a long download sees exactly the checkpointed log.
    """
    caller.require(Permission.ASSURANCE_READ)
    if verifier_key is not None:
        check(uow_factory, origin, verifier_key)
    with uow_factory(write=False) as uow:
        stored = uow.ledger.log.latest_checkpoint()
        # The header carries the cosignatures gathered for it (issue 21): with a witness
        # policy, a reader who kept no checkpoint of their own can still trust it.
        latest = (
            None
            if stored is None
            else StoredCheckpoint(stored.size, witnessing.cosigned_note(uow, stored))
        )
    if latest is None:
        raise NotFound("the ledger has no signed checkpoint yet: issue one, then export")

    def entries(storage: LogStorage) -> Iterator[bytes]:
        expected = 0
        for batch in storage.read_entries(0, latest.size):
            for index, data in batch:
                if index != expected:
                    raise Conflict(
                        f"entry {expected} is missing from the store: the ledger cannot be "
                        "exported; run 'triage ledger verify'"
                    )
                try:  # a damaged entry is named, not exported for the reader to trip on
                    Entry.from_bytes(bytes(data))
                except (VerificationError, RecursionError) as exc:
                    raise Conflict(
                        f"entry {index}: {exc}: the ledger cannot be exported; run "
                        "'triage ledger verify'"
                    ) from exc
                expected += 1
                yield data

    def lines() -> Iterator[bytes]:
        with uow_factory(write=False) as uow:
            yield from export_lines(origin, latest.note, latest.size, entries(uow.ledger.storage))

    return latest, lines()
