"""A lock held by another thread of this process, for tests of what waits for it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def held_by_another_thread(
    lock: AbstractContextManager[object], within: float = 10
) -> Iterator[None]:
    """``lock`` taken by a thread of its own for the ``with`` block (each wait bounded by
    ``within`` seconds); let go, and the thread ended, when the block ends."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            done.wait(within)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(within), "the other thread did not take the lock"
        yield
    finally:
        done.set()
        holder.join(within)
