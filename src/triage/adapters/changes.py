"""Who is waiting for what the facility records, in this process: the API's waiting reads
(``Prefer: wait``) register here, and the unit of work announces after each commit what its
entries were about, so that a waiting request is answered as soon as its answer can change.

A change is named by keys: ``(kind, id)`` pairs, the entry's subject and what its data names
(``job_id``, ``tool_id``, ``device_id``). A waiter is woken on its own event loop (commits
happen in worker threads); what woke it is never trusted as an answer, it only says "read
again". Changes made by another process (the CLI, another server worker) wake no one here: a
waiter reads again at an interval of its own as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable, Iterator

from triage.ledger.entry import Entry

Key = tuple[str, str]

# The data fields of an entry that name something a reader may wait on, and its kind.
_NAMED = (("job_id", "job"), ("tool_id", "tool"), ("device_id", "device"))

# The most requests waiting at once in one process, and for one caller: beyond them a waiting
# read is answered at once, as a plain read (each waiter holds a connection and a little memory).
MAX_WAITERS = 512
MAX_WAITERS_PER_CALLER = 8


def keys_of(entries: Iterable[Entry]) -> set[Key]:
    """What ``entries`` are about: each one's subject, and the job, tool and device its data
    names."""
    keys: set[Key] = set()
    for entry in entries:
        keys.add((entry.subject.kind, entry.subject.id))
        data = entry.data
        for field, kind in _NAMED:
            value = data.get(field)
            if isinstance(value, str) and value:
                keys.add((kind, value))
    return keys


class Waiter:
    """One waiting request: woken when something it waits on is recorded, or when the hub
    closes. Made by ``ChangeHub.waiting`` on the running event loop, and used on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, keys: frozenset[Key], caller: str) -> None:
        self.keys = keys
        self.caller = caller
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Wake the waiter; from any thread."""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there any more
            self._loop.call_soon_threadsafe(self._event.set)

    def rearm(self) -> None:
        """Forget the wake-ups so far: call it before reading again, so that a change recorded
        during the read wakes the next wait."""
        self._event.clear()

    async def woken(self, timeout: float) -> bool:
        """Wait until woken (True) or ``timeout`` seconds have passed (False)."""
        if timeout <= 0:
            return self._event.is_set()
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class ChangeHub:
    """The waiters of one process by key, woken by ``publish`` after a commit, all released by
    ``close`` when the server stops."""

    def __init__(
        self, max_waiters: int = MAX_WAITERS, max_per_caller: int = MAX_WAITERS_PER_CALLER
    ) -> None:
        self.max_waiters = max_waiters
        self.max_per_caller = max_per_caller
        self._lock = threading.Lock()
        self._by_key: dict[Key, set[Waiter]] = {}
        self._by_caller: dict[str, int] = {}
        self._waiters: set[Waiter] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the hub was closed: nobody waits any more."""
        return self._closed

    @property
    def waiting(self) -> int:
        """How many requests wait now."""
        return len(self._waiters)

    @contextlib.contextmanager
    def wait_on(self, keys: Iterable[Key], caller: str) -> Iterator[Waiter | None]:
        """A waiter registered on ``keys`` for ``caller`` (on the running event loop) for the
        block, or None when it may not wait: the hub is closed, or too many wait already (in
        all, or for this caller). Register first, then read: a change committed after the
        registration wakes it, so none is lost between the read and the wait."""
        waiter = self._join(frozenset(keys), caller)
        try:
            yield waiter
        finally:
            if waiter is not None:
                self._leave(waiter)

    def _join(self, keys: frozenset[Key], caller: str) -> Waiter | None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if (
                self._closed
                or len(self._waiters) >= self.max_waiters
                or self._by_caller.get(caller, 0) >= self.max_per_caller
            ):
                return None
            waiter = Waiter(loop, keys, caller)
            for key in keys:
                self._by_key.setdefault(key, set()).add(waiter)
            self._by_caller[caller] = self._by_caller.get(caller, 0) + 1
            self._waiters.add(waiter)
            return waiter

    def _leave(self, waiter: Waiter) -> None:
        with self._lock:
            for key in waiter.keys:
                waiters = self._by_key.get(key)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._by_key[key]
            left = self._by_caller[waiter.caller] - 1
            if left:
                self._by_caller[waiter.caller] = left
            else:
                del self._by_caller[waiter.caller]
            self._waiters.discard(waiter)

    def publish(self, keys: Iterable[Key]) -> None:
        """Wake everyone waiting on any of ``keys``; from any thread, after the commit."""
        if not self._waiters:  # the usual case: nobody waits (a waiter registers before it reads)
            return
        with self._lock:
            woken = {waiter for key in keys for waiter in self._by_key.get(key, ())}
        for waiter in woken:
            waiter.wake()

    def close(self) -> None:
        """Release every waiter now and let nobody wait from now on (the server is stopping)."""
        with self._lock:
            self._closed = True
            woken = set(self._waiters)
        for waiter in woken:
            waiter.wake()
