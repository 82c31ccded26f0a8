"""In-memory rate limits on what unauthenticated callers may make the server do.

A burst of requests that cannot be verified (a forged agent signature, say) is answered 429
without touching the database: the ledger and the write lock are for requests that prove who
sent them. Kept in memory, per process, by the facility's unit-of-work factory (its
``throttles``): a restart forgets them, which costs an attacker nothing they could not get by
waiting.

A server of several processes (`triage serve --workers N`) keeps a count in each, and a client's
requests are shared out among them: each process then allows its share of the limit
(``share_among``), the limit divided by N and rounded up, so that together they never allow
more than one process did (rounding up adds at most N - 1), and a flood meets its 429 no later.
(What must hold across processes, such as an operator's lockout after failed sign-ins, is in the
database, not here.)
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

# Addresses remembered at most: past this, the least recently seen are forgotten, so that a
# flood from ever-new addresses cannot grow the memory without bound.
MAX_KEYS = 10_000

# How many processes answer requests side by side, each with its own counts (share_among).
_processes = 1


def share_among(processes: int) -> None:
    """Make the limits of every throttle created from now on in this process its share of the
    limit given: ``processes`` server processes count separately (see the module's text)."""
    global _processes
    if processes < 1:
        raise ValueError(f"processes must be at least 1, not {processes}")
    _processes = processes


def share_of(limit: int) -> int:
    """One process's share of ``limit``: at least 1, and the shares together at most
    ``limit`` plus one per process for rounding up."""
    return max(1, math.ceil(limit / _processes))


class Throttle:
    """At most ``limit`` events per key within ``window``; thread-safe."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, at: datetime) -> int | None:
        """Seconds until ``key`` may try again when it has used its ``limit``; else None."""
        with self._lock:
            events = self._events.get(key)
            if events is None:
                return None
            self._expire(events, at)
            if len(events) < self.limit:
                return None
            return max(1, math.ceil((events[0] + self.window - at).total_seconds()))

    def add(self, key: str, at: datetime) -> None:
        """Count one event for ``key`` at ``at``."""
        with self._lock:
            events = self._events.pop(key, None)
            if events is None:
                events = deque()
                if len(self._events) >= MAX_KEYS:
                    del self._events[next(iter(self._events))]
            self._expire(events, at)
            events.append(at)
            self._events[key] = events  # most recently seen last

    def _expire(self, events: deque[datetime], at: datetime) -> None:
        while events and at - events[0] >= self.window:
            events.popleft()


class Throttles:
    """One application's throttles by name, held by its unit-of-work factory: each
    application has its own, and they go with it."""

    def __init__(self) -> None:
        self._named: dict[str, Throttle] = {}
        self._guard = threading.Lock()

    def named(self, name: str, limit: int, window: timedelta) -> Throttle:
        """The throttle called ``name``, made with ``limit`` (this process's share of it:
        ``share_of``) and ``window`` the first time."""
        with self._guard:
            found = self._named.get(name)
            if found is None:
                found = self._named[name] = Throttle(share_of(limit), window)
            return found
