"""What the server does by itself while it runs: periodic checkpoints (each followed by a round
of witnessing: cosignatures gathered, the quorum alert checked), scheduled assurance evidence,
the sweep of expired work orders (and of overdue incident notifications), and warming the
ledger's tile cache at start.

Each round runs in a worker thread (the services are synchronous); a failed round is logged and
never stops the later ones.

A server of several processes (`triage serve --workers N`) does the periodic work once, not N
times: every process warms its own tile cache, but only the one holding the ``PeriodicLock``
(an exclusive lock on a file in the data directory, released by the kernel when the process
ends) runs the checkpoints, the evidence and the sweeps. The others try the lock again every
``TAKE_OVER_SECONDS``, so that when that process dies, the one that replaces it, or another,
takes the work over.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from triage.bootstrap import App
from triage.errors import IntegrityFailure
from triage.services import assurance, automatic_evidence, incidents, job_steps, witnessing
from triage.services import ledger as ledger_service

log = logging.getLogger(__name__)

# How often a server process without the periodic work tries to take it over.
TAKE_OVER_SECONDS = 10.0


@dataclass(frozen=True)
class Schedule:
    """How often each job runs, in seconds (0: never), and whether the cache is warmed."""

    checkpoint_interval: int = 0
    evidence_interval: int = 0
    sweep_interval: int = 0
    warm_cache: bool = False


class PeriodicLock:
    """Of the processes of one server, the one that does the periodic work: whichever holds an
    exclusive lock (``flock``) on ``path``, kept until it releases it or ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._held is not None

    def take(self) -> bool:
        """Take the lock if no other process holds it; whether this process now holds it."""
        if self._held is not None:
            return True
        file = self.path.open("ab")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        except BaseException:
            file.close()
            raise
        self._held = file
        return True

    def release(self) -> None:
        """Let another process take the lock (closing the file releases it)."""
        if self._held is not None:
            self._held.close()
            self._held = None


@contextlib.asynccontextmanager
async def running(
    application: App,
    schedule: Schedule,
    after_checkpoint: Callable[[], object] | None = None,
    lock: PeriodicLock | None = None,
) -> AsyncIterator[None]:
    """Run the scheduled jobs for as long as the context lasts (a server's lifespan);
    ``after_checkpoint`` is called after every checkpoint round, refused or not. With a
    ``lock`` (a server of several processes), the jobs run only while this process holds it,
    which it tries to take now and then every ``TAKE_OVER_SECONDS``; the tile cache is warmed
    in every process."""
    if schedule.warm_cache:
        threading.Thread(
            target=warm_tile_cache, args=(application,), name="tile-cache-warmer", daemon=True
        ).start()
    tasks: list[asyncio.Task[None]] = []

    def start() -> None:
        if schedule.checkpoint_interval > 0:
            tasks.append(
                asyncio.create_task(
                    _checkpoint_loop(application, schedule.checkpoint_interval, after_checkpoint)
                )
            )
        if schedule.evidence_interval > 0:
            tasks.append(
                asyncio.create_task(_evidence_loop(application, schedule.evidence_interval))
            )
        if schedule.sweep_interval > 0:
            tasks.append(asyncio.create_task(_sweep_loop(application, schedule.sweep_interval)))

    periodic = (
        schedule.checkpoint_interval > 0
        or schedule.evidence_interval > 0
        or schedule.sweep_interval > 0
    )
    if lock is None:
        start()
    elif periodic:
        tasks.append(asyncio.create_task(_when_holding(lock, start)))
    try:
        yield
    finally:
        for task in list(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if lock is not None:
            lock.release()


async def _when_holding(lock: PeriodicLock, start: Callable[[], None]) -> None:
    """Start the periodic jobs once this process holds ``lock``."""
    while not lock.take():
        await asyncio.sleep(TAKE_OVER_SECONDS)
    log.info("server process %d does the periodic work (checkpoints, sweeps)", os.getpid())
    start()


def warm_tile_cache(application: App) -> None:
    """Read the ledger's tiles into memory. Proofs work without it (a tile missing from memory
    is read on demand), so a failure here is only logged."""
    try:
        started = time.perf_counter()
        tiles = ledger_service.warm_tile_cache(application.uow)
        log.info("tile cache: %d tiles read in %.1f s", tiles, time.perf_counter() - started)
    except Exception:  # any failure leaves proofs reading tiles on demand
        log.exception("tile cache: warming failed; proofs will read tiles on demand")


def generate_scheduled_evidence(application: App) -> int:
    """One scheduled round of automatic evidence, by the system; returns how many were made."""
    made = automatic_evidence.generate(
        application.uow,
        assurance.ASSURANCE,
        application.issuer(),
        application.replay_check,
        application.evidence_store(),
    )
    return len(made)


def periodic_checkpoint(
    application: App, after_checkpoint: Callable[[], object] | None = None
) -> None:
    """One round of the periodic checkpoint: the ledger is vouched for, then signed if it grew.

    A ledger that is not the history last signed is refused (IntegrityFailure): the refusal is
    recorded with an alert, and ``after_checkpoint`` (the write hold's refresh) runs at once.
    """
    try:
        ledger_service.issue_checkpoint_if_grown(
            application.uow,
            ledger_service.LEDGER_ACTOR,
            application.origin,
            application.signer_key(),
        )
    except IntegrityFailure as exc:
        log.error("periodic checkpoint refused: %s", exc)
        raise
    finally:
        if after_checkpoint is not None:
            after_checkpoint()


def witness_round(application: App) -> list[witnessing.WitnessOutcome]:
    """One round of witnessing, after each periodic checkpoint: the witnesses that have not
    cosigned the latest checkpoint are asked (within the policy's bound; one that is down is an
    outcome, logged), then the quorum alert is raised if the log has stayed below quorum too
    long. Nothing happens without a witness policy."""
    outcomes = witnessing.gather(
        application.uow,
        ledger_service.LEDGER_ACTOR,
        application.uow.witness_client(),
        application.origin,
    )
    if outcomes:
        cosigned = [o.witness for o in outcomes if o.cosigned]
        log.info(
            "witnessing: checkpoint %d cosigned by %s",
            outcomes[0].size,
            ", ".join(cosigned) or "no witness",
        )
    alert = witnessing.sweep_quorum(application.uow)
    if alert is not None:
        log.error("witnessing: the checkpoint stayed below quorum: alert %s raised", alert)
    return outcomes


async def _checkpoint_loop(
    application: App, interval: int, after_checkpoint: Callable[[], object] | None
) -> None:
    while True:
        try:
            await asyncio.to_thread(periodic_checkpoint, application, after_checkpoint)
        except IntegrityFailure:
            pass  # logged, recorded and alerted; the next round checks again
        except Exception:  # a failed round must not stop later ones
            log.exception("periodic checkpoint failed")
        # Issue 21: in a worker thread, off every request's path: a witness that is down delays
        # only the next checkpoint round, by at most the policy's bound.
        try:
            await asyncio.to_thread(witness_round, application)
        except Exception:  # a failed round must not stop later ones
            log.exception("witnessing round failed")
        await asyncio.sleep(interval)


async def _evidence_loop(application: App, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)  # the first round after one interval, not at start
        try:
            made = await asyncio.to_thread(generate_scheduled_evidence, application)
            log.info("scheduled evidence: %d documents recorded", made)
        except Exception:  # a failed round must not stop later ones
            log.exception("scheduled evidence failed")


async def _sweep_loop(application: App, interval: int) -> None:
    while True:  # the first sweep at start: orders may have expired while the server was down
        try:
            moved = await asyncio.to_thread(job_steps.sweep_expired_orders, application.uow)
            if moved:
                log.warning("%d work orders expired without a result: %s", len(moved), moved)
        except Exception:  # a failed round must not stop later ones
            log.exception("work order sweep failed")
        try:  # issue 20: an alert for each incident notification past its deadline
            alerted = await asyncio.to_thread(incidents.sweep, application.uow)
            if alerted:
                log.warning("%d incident notifications overdue: alerts %s", len(alerted), alerted)
        except Exception:  # a failed round must not stop later ones
            log.exception("incident notification sweep failed")
        await asyncio.sleep(interval)
