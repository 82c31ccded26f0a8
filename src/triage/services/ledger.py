"""Ledger use cases: status, checkpoints, proofs and full verification."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.errors import LedgerStateError, NotFound
from triage.ledger.audit import AuditReport, audit_log
from triage.ledger.export import export_lines
from triage.ledger.log import LogStorage, StoredCheckpoint, cached_consistency, cached_inclusion
from triage.services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class LedgerStatus:
    """Size, root and the latest signed checkpoint of a facility's ledger."""

    size: int
    root: bytes
    latest_checkpoint: StoredCheckpoint | None


def status(uow_factory: UnitOfWorkFactory) -> LedgerStatus:
    """The ledger as it stands."""
    with uow_factory(write=False) as uow:
        head = uow.ledger.log.head()
        return LedgerStatus(head.size, head.root, uow.ledger.log.latest_checkpoint())


def issue_checkpoint(
    uow_factory: UnitOfWorkFactory, origin: str, signer_key: str
) -> StoredCheckpoint:
    """Sign and store a checkpoint of the current head."""
    with uow_factory(write=True) as uow:
        stored = uow.ledger.log.issue_checkpoint(origin, signer_key)
        uow.commit()
        return stored


def issue_checkpoint_if_grown(
    uow_factory: UnitOfWorkFactory, origin: str, signer_key: str
) -> StoredCheckpoint | None:
    """Issue a checkpoint only when the log grew since the last one (for the periodic task)."""
    with uow_factory(write=False) as uow:
        latest = uow.ledger.log.latest_checkpoint()
        size = uow.ledger.log.head().size
    if latest is not None and latest.size == size:
        return None
    return issue_checkpoint(uow_factory, origin, signer_key)


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
    uow_factory: UnitOfWorkFactory, index: int, size: int | None = None
) -> InclusionProof:
    """Inclusion proof of one entry at a tree size (default: the current size)."""
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
    uow_factory: UnitOfWorkFactory, size1: int, size2: int | None = None
) -> ConsistencyProof:
    """Consistency proof between two tree sizes (default second size: the current size)."""
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
    verifier_key: str,
    origin: str,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> AuditReport:
    """Recompute the whole ledger from its entries and check every tile, head and checkpoint.

    ``workers`` > 1 spreads the entry hashing of a large ledger over that many processes.
    """
    with uow_factory(write=False) as uow:
        return audit_log(
            uow.ledger.storage,
            [verifier_key],
            origin,
            progress,
            opener=uow_factory.log_opener(),
            workers=workers,
        )


def export(
    uow_factory: UnitOfWorkFactory, caller: Caller, origin: str
) -> tuple[StoredCheckpoint, Iterator[bytes]]:
    """The whole ledger up to its latest signed checkpoint, as the lines of a ledger export
    (``triage.ledger.export``) that anyone with the verifier key can check offline.

    The lines are read as they are consumed, in a read transaction of their own: entries below
    a checkpoint's size never change, so a long download sees exactly the checkpointed log.
    """
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        latest = uow.ledger.log.latest_checkpoint()
    if latest is None:
        raise NotFound("the ledger has no signed checkpoint yet: issue one, then export")

    def entries(storage: LogStorage) -> Iterator[bytes]:
        expected = 0
        for batch in storage.read_entries(0, latest.size):
            for index, data in batch:
                if index != expected:
                    raise LedgerStateError(
                        f"entry {expected} is missing from the store; run 'triage ledger verify'"
                    )
                expected += 1
                yield data

    def lines() -> Iterator[bytes]:
        with uow_factory(write=False) as uow:
            yield from export_lines(origin, latest.note, latest.size, entries(uow.ledger.storage))

    return latest, lines()
