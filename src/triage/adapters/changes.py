"""Who is waiting for what the facility records, in this process: the API's waiting reads
(``Prefer: wait``) register here, and the unit of work announces after each commit what its
entries were about, so that a waiting request is answered as soon as its answer can change.

A change is named by keys: ``(kind, id)`` pairs, the entry's subject and what its data names
(``job_id``, ``tool_id``, ``device_id``). A waiter is woken on its own event loop (commits
happen in worker threads); what woke it is never trusted as an answer, it only says "read
again".

Changes made by another process (the CLI, another worker of ``triage serve --workers N``) are
found by a ``ChangeWatcher``: while the server serves, it reads the ledger's size (each state
change appends at least one entry), every 10 ms while someone waits and other processes write,
backing off to every 100 ms while they do not; it reads the entries it has not seen and wakes
whoever waits on what they are about. The entries this process committed itself, already
announced at their commit, are skipped. A waiter also reads again at an interval of its own,
should the watcher fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from triage.ledger.entry import Entry

log = logging.getLogger(__name__)

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
        _add_keys(keys, entry.subject.kind, entry.subject.id, entry.data)
    return keys


def _add_keys(keys: set[Key], kind: str, id_: str, data: Mapping[str, Any]) -> None:
    keys.add((kind, id_))
    for field, named in _NAMED:
        value = data.get(field)
        if isinstance(value, str) and value:
            keys.add((named, value))


def keys_of_stored(entries: Iterable[bytes]) -> set[Key] | None:
    """``keys_of`` for entries as stored (canonical JSON); None when one cannot be read as an
    entry, so that whoever reads it wakes everyone rather than no one."""
    keys: set[Key] = set()
    try:
        for raw in entries:
            obj = json.loads(raw)
            subject = obj["subject"]
            _add_keys(keys, str(subject["kind"]), str(subject["id"]), obj.get("data") or {})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
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
        # The ledger indexes this process committed, while a ChangeWatcher runs (it skips them).
        self._own: set[int] = set()
        self.watched = False

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

    def wake_all(self) -> None:
        """Wake everyone who waits (what changed is not known)."""
        with self._lock:
            woken = set(self._waiters)
        for waiter in woken:
            waiter.wake()

    def committed(self, indexes: Iterable[int]) -> None:
        """Note the ledger indexes a commit of this process wrote, while a watcher runs: it
        does not announce them a second time."""
        if self.watched:
            with self._lock:
                self._own.update(indexes)

    def all_own(self, start: int, stop: int) -> bool:
        """Whether this process committed every index in [start, stop), or nobody waits: then
        there is nothing for the watcher to announce, and the indexes below ``stop`` are
        forgotten."""
        with self._lock:
            if self._waiters and not all(index in self._own for index in range(start, stop)):
                return False
            self._forget_below(stop)
            return True

    def others(self, indexes: Iterable[int], below: int) -> list[int]:
        """Of ``indexes`` (new in the ledger), those another process wrote; forgets this
        process's below ``below``."""
        with self._lock:
            found = [index for index in indexes if index not in self._own]
            self._forget_below(below)
        return found

    def _forget_below(self, stop: int) -> None:
        """Forget this process's indexes below ``stop`` (the hub's lock held)."""
        if self._own:
            self._own = {index for index in self._own if index >= stop}

    def close(self) -> None:
        """Release every waiter now and let nobody wait from now on (the server is stopping)."""
        with self._lock:
            self._closed = True
            woken = set(self._waiters)
        for waiter in woken:
            waiter.wake()


class RecordedSince(Protocol):
    """The ledger's size now and the entries from index ``size`` on, as (index, stored bytes),
    or None for them when there are more than ``most``; the size alone when ``size`` is None or
    ``skip(size, now)`` says the entries are not wanted (``SqlUnitOfWorkFactory.recorded_since``).
    """

    def __call__(
        self, size: int | None, most: int, skip: Callable[[int, int], bool]
    ) -> tuple[int, Sequence[tuple[int, bytes]] | None]: ...

    def close(self) -> None:
        """Let go of what it reads with (the watcher stops)."""
        ...


Runner = Callable[..., Awaitable[Any]]

# How often the watcher reads the ledger's size while someone waits, and while no one does.
WATCH_INTERVAL = 0.01
IDLE_INTERVAL = 0.1
# The most entries read at once; beyond them (an import, say) everyone waiting is woken.
MOST_ENTRIES = 2048


class ChangeWatcher:
    """Wakes this process's waiters for what other processes record (see the module)."""

    def __init__(
        self,
        hub: ChangeHub,
        since: RecordedSince,
        run: Runner,
        interval: float = WATCH_INTERVAL,
        idle_interval: float = IDLE_INTERVAL,
        most: int = MOST_ENTRIES,
    ) -> None:
        self._hub = hub
        self._since = since
        self._run = run
        self._interval = interval
        self._idle = idle_interval
        self._most = most
        self.seen: int | None = None

    async def watch(self) -> None:
        """Watch until the hub closes or the task is cancelled."""
        self._hub.watched = True
        failing = False
        pause = self._idle
        try:
            while not self._hub.closed:
                try:
                    others = await self.step()
                    failing = False
                except Exception as exc:  # the database away for a moment: try again later
                    if not failing:
                        log.warning("watching for changes by other processes failed: %s", exc)
                    failing = True
                    self.seen = None
                    self._hub.wake_all()  # what changed meanwhile is not known: read again
                    others = False
                # Often while other processes write, seldom while none does: each read costs a
                # wake-up of the event loop, a tenth of a millisecond, a hundred times a second.
                pause = self._interval if others else min(pause * 2, self._idle)
                await asyncio.sleep(pause if self._hub.waiting else self._idle)
        finally:
            self._hub.watched = False
            self._since.close()

    async def step(self) -> bool:
        """Read what was recorded since the last step and wake whoever waits on it; whether
        another process recorded anything."""
        size, entries = await self._run(self._since, self.seen, self._most, self._hub.all_own)
        seen, self.seen = self.seen, size
        if seen is None or size <= seen:
            return False
        if entries is None:
            self._hub.wake_all()
            return True
        others = set(self._hub.others([index for index, _ in entries], size))
        if not others:
            return False
        if self._hub.waiting:
            keys = keys_of_stored(data for index, data in entries if index in others)
            if keys is None:
                self._hub.wake_all()
            else:
                self._hub.publish(keys)
        return True
