"""A server of several processes: one of them does the periodic work (a lock on a file that the
kernel releases when its holder ends), and each keeps its share of an in-memory rate limit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from triage.entrypoints import scheduler
from triage.entrypoints.scheduler import PeriodicLock

HOLD_UNTIL_KILLED = """
import fcntl, sys, time
f = open(sys.argv[1], "ab")
fcntl.flock(f.fileno(), fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(600)
"""


def test_the_periodic_lock_is_held_by_one_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "serve-periodic.lock"
    first, second = PeriodicLock(path), PeriodicLock(path)
    assert first.take() and first.held
    assert first.take()  # taking it again changes nothing
    assert not second.take() and not second.held
    first.release()
    assert second.take()


def test_a_process_that_dies_holding_the_lock_lets_another_take_it(tmp_path: Path) -> None:
    path = tmp_path / "serve-periodic.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_KILLED, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = PeriodicLock(path)
        assert not lock.take()
        holder.kill()  # no chance to release it: the kernel does
        holder.wait(timeout=30)
        assert lock.take()
        lock.release()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_the_periodic_work_starts_only_once_the_lock_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "TAKE_OVER_SECONDS", 0.01)
    path = tmp_path / "serve-periodic.lock"
    other = PeriodicLock(path)
    assert other.take()
    started: list[str] = []

    async def scenario() -> None:
        waiting = asyncio.create_task(
            scheduler._when_holding(PeriodicLock(path), lambda: started.append("started"))
        )
        for _ in range(20):  # several attempts while the other process holds it
            await asyncio.sleep(0.01)
        assert started == []
        other.release()  # the process doing the work ended
        await asyncio.wait_for(waiting, timeout=30)

    asyncio.run(scenario())
    assert started == ["started"]
