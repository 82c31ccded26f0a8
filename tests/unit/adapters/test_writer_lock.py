"""The writer lock of a SQLite database: the writers of every process queue on it, not only those
of one process; it is re-entrant within a thread, bounded in its wait, and refuses to be taken
by work declared a read."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.threads import held_by_another_thread
from triage.adapters.database import Database, WriterLock
from triage.errors import DatabaseUnavailable

# A process that holds the lock of the file named in argv[1] until its standard input closes.
HOLDER = """
import sys
from pathlib import Path
from triage.adapters.database import WriterLock
lock = WriterLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
lock.release()
"""


@contextmanager
def held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield child
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(30)


def test_a_database_file_has_a_lock_file_beside_it_and_a_database_in_memory_none(
    tmp_path: Path,
) -> None:
    on_file = Database(f"sqlite:///{tmp_path / 'triage.db'}")
    in_memory = Database("sqlite://")
    try:
        assert on_file.write_lock.path == tmp_path / "triage.db.writers"
        assert in_memory.write_lock.path is None
        with on_file.write_lock:
            mode = stat.S_IMODE((tmp_path / "triage.db.writers").stat().st_mode)
        assert mode == 0o600
    finally:
        on_file.dispose()
        in_memory.dispose()


def test_another_process_holding_the_lock_keeps_this_one_out_until_it_lets_go(
    tmp_path: Path,
) -> None:
    path = tmp_path / "triage.db.writers"
    lock = WriterLock(path, timeout=30)
    with held_by_another_process(path) as child:
        assert lock.acquire(blocking=False) is False
        taken, done = threading.Event(), threading.Event()

        def wait_for_it() -> None:
            lock.acquire()
            taken.set()
            done.wait(30)
            lock.release()

        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        assert not taken.wait(0.3), "taken while another process held it"
        assert child.stdin is not None
        child.stdin.close()  # the other process lets go
        assert taken.wait(30)
        # Held by this process's thread now: another open of the file (another process) waits.
        assert WriterLock(path).acquire(blocking=False) is False
        done.set()
        waiter.join(30)
    assert lock.acquire(blocking=False)
    lock.release()


def test_the_wait_for_another_process_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "triage.db.writers"
    lock = WriterLock(path, timeout=0.2)
    with held_by_another_process(path), pytest.raises(DatabaseUnavailable, match="writer lock"):
        lock.acquire()
    assert lock.acquire(blocking=False)  # and nothing was left held by the failed wait
    lock.release()


def test_taking_it_soon_awaits_another_process_for_a_while_then_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "triage.db.writers"
    lock = WriterLock(path)
    with held_by_another_process(path) as child:
        assert asyncio.run(lock.take_soon(0.05)) is None  # still held: the caller goes elsewhere

        async def take_when_let_go() -> bool | None:
            assert child.stdin is not None
            child.stdin.close()  # the other process lets go while this one awaits
            return await lock.take_soon(30)

        assert asyncio.run(take_when_let_go()) is True
    lock.release()


def test_taking_it_soon_does_not_wait_for_a_thread_of_this_process() -> None:
    lock = WriterLock()
    with held_by_another_thread(lock, within=30):
        assert asyncio.run(lock.take_soon(30)) is False


def test_the_lock_is_reentrant_in_a_thread_and_held_until_the_last_release(
    tmp_path: Path,
) -> None:
    path = tmp_path / "triage.db.writers"
    lock, other = WriterLock(path), WriterLock(path)  # two opens of the file: two processes
    lock.acquire()
    lock.acquire()
    lock.release()
    assert other.acquire(blocking=False) is False
    lock.release()
    assert other.acquire(blocking=False) is True
    other.release()


def test_work_declared_a_read_may_not_take_the_lock() -> None:
    lock = WriterLock()
    with lock.reading(), pytest.raises(RuntimeError, match="declared a read"):
        lock.acquire()
    assert lock.acquire(blocking=False)  # outside the read, as before
    lock.release()
