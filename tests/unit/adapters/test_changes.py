"""The change hub: a waiter is woken by a change to what it waits on, from any thread, even one
committed between its registration and its wait; not by other changes; all of them when the
hub closes; and beyond its caps a request may not wait at all."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from triage.adapters.changes import ChangeHub, ChangeWatcher, keys_of, keys_of_stored
from triage.ledger.entry import Entry, Ref

# Long enough for any wake-up to arrive: a waiter still asleep after it was not woken.
NOT_WOKEN = 0.2


def _entry(subject: Ref, **data: str) -> Entry:
    return Entry(
        type="test.noted",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        actor=Ref("operator", "ben"),
        facility="F-1",
        subject=subject,
        data=data,
    )


def test_an_entry_names_its_subject_and_the_job_tool_and_device_of_its_data() -> None:
    keys = keys_of(
        [
            _entry(Ref("device", "D-1"), job_id="J-1", state="eligible"),
            _entry(Ref("device", "D-2"), tool_id="T-1", work_order_id="W-1"),
            _entry(Ref("tool", "T-2"), device_id="D-3"),
        ]
    )

    assert keys == {
        ("device", "D-1"),
        ("job", "J-1"),
        ("device", "D-2"),
        ("tool", "T-1"),
        ("tool", "T-2"),
        ("device", "D-3"),
    }


def test_a_change_committed_between_registering_and_waiting_is_not_lost() -> None:
    hub = ChangeHub()

    async def wait() -> bool:
        with hub.wait_on([("job", "J-1")], "ben") as waiter:
            assert waiter is not None
            # The waiter reads now; meanwhile a worker thread commits and publishes.
            await asyncio.to_thread(hub.publish, {("job", "J-1")})
            return await waiter.woken(NOT_WOKEN)

    assert asyncio.run(wait()) is True


def test_a_change_during_a_read_wakes_the_next_wait_and_an_earlier_one_does_not() -> None:
    hub = ChangeHub()

    async def wait() -> list[bool]:
        with hub.wait_on([("job", "J-1")], "ben") as waiter:
            assert waiter is not None
            hub.publish({("job", "J-1")})
            await asyncio.sleep(0)  # the wake-up arrives
            waiter.rearm()  # read again: what woke it is in this read
            first = await waiter.woken(NOT_WOKEN)
            waiter.rearm()
            await asyncio.to_thread(hub.publish, {("job", "J-1")})  # during the next read
            return [first, await waiter.woken(NOT_WOKEN)]

    assert asyncio.run(wait()) == [False, True]


def test_only_a_change_to_what_a_waiter_waits_on_wakes_it() -> None:
    hub = ChangeHub()

    async def wait() -> list[bool]:
        with (
            hub.wait_on([("job", "J-1")], "ben") as job,
            hub.wait_on([("tool", "T-1")], "T-1") as tool,
        ):
            assert job is not None and tool is not None
            await asyncio.to_thread(hub.publish, {("job", "J-2"), ("tool", "T-1")})
            return [await job.woken(NOT_WOKEN), await tool.woken(NOT_WOKEN)]

    assert asyncio.run(wait()) == [False, True]


def test_closing_the_hub_releases_every_waiter_and_no_one_waits_afterwards() -> None:
    hub = ChangeHub()

    async def wait() -> tuple[list[bool], bool]:
        with (
            hub.wait_on([("job", "J-1")], "ben") as first,
            hub.wait_on([("tool", "T-1")], "T-1") as second,
        ):
            assert first is not None and second is not None
            closer = threading.Thread(target=hub.close)
            closer.start()
            woken = [await first.woken(NOT_WOKEN), await second.woken(NOT_WOKEN)]
            closer.join()
        with hub.wait_on([("job", "J-1")], "ben") as late:
            return woken, late is None

    assert asyncio.run(wait()) == ([True, True], True)
    assert hub.closed


def test_beyond_the_caps_a_request_may_not_wait() -> None:
    hub = ChangeHub(max_waiters=3, max_per_caller=2)

    async def wait() -> list[bool]:
        with (
            hub.wait_on([("job", "J-1")], "ben") as a,
            hub.wait_on([("job", "J-2")], "ben") as b,
            hub.wait_on([("job", "J-3")], "ben") as over_callers_cap,
            hub.wait_on([("job", "J-4")], "sue") as c,
            hub.wait_on([("job", "J-5")], "amy") as over_cap,
        ):
            allowed = [w is not None for w in (a, b, over_callers_cap, c, over_cap)]
        with hub.wait_on([("job", "J-1")], "ben") as again:
            return [*allowed, again is not None]

    assert asyncio.run(wait()) == [True, True, False, True, False, True]
    assert hub.waiting == 0


class Ledger:
    """What the watcher reads: a ledger other processes append to (``recorded_since``)."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.fail = False
        self.closed = False

    def add(self, entry: Entry) -> int:
        self.entries.append(entry.to_bytes())
        return len(self.entries) - 1

    def close(self) -> None:
        self.closed = True

    def __call__(
        self, size: int | None, most: int, skip: Callable[[int, int], bool]
    ) -> tuple[int, list[tuple[int, bytes]] | None]:
        if self.fail:
            raise OSError("database is away")
        now = len(self.entries)
        if size is None or now <= size or skip(size, now):
            return now, []
        if now - size > most:
            return now, None
        return now, list(enumerate(self.entries))[size:]


async def _inline(func, *args):  # type: ignore[no-untyped-def]
    return func(*args)


def _watched(most: int = 100) -> tuple[ChangeHub, Ledger, ChangeWatcher]:
    hub, ledger = ChangeHub(), Ledger()
    hub.watched = True
    return hub, ledger, ChangeWatcher(hub, ledger, _inline, most=most)


def test_stored_entries_name_what_their_parsed_entries_name() -> None:
    entries = [
        _entry(Ref("device", "D-1"), job_id="J-1", state="eligible"),
        _entry(Ref("tool", "T-2"), device_id="D-3"),
    ]
    assert keys_of_stored(e.to_bytes() for e in entries) == keys_of(entries)
    assert keys_of_stored([b"not an entry"]) is None


def test_the_watcher_wakes_a_waiter_for_what_another_process_recorded() -> None:
    hub, ledger, watcher = _watched()
    ledger.add(_entry(Ref("device", "D-0"), job_id="J-0"))  # before the watcher started

    async def wait() -> list[bool]:
        await watcher.step()  # where the ledger is now: nothing announced
        with (
            hub.wait_on([("job", "J-0")], "ben") as old,
            hub.wait_on([("job", "J-1")], "ben") as job,
            hub.wait_on([("tool", "T-1")], "T-1") as tool,
        ):
            assert old is not None and job is not None and tool is not None
            ledger.add(_entry(Ref("device", "D-1"), job_id="J-1"))  # by another process
            await watcher.step()
            return [
                await old.woken(NOT_WOKEN),
                await job.woken(NOT_WOKEN),
                await tool.woken(NOT_WOKEN),
            ]

    assert asyncio.run(wait()) == [False, True, False]
    assert watcher.seen == 2


def test_what_this_process_committed_is_not_announced_again() -> None:
    hub, ledger, watcher = _watched()

    async def wait() -> bool:
        await watcher.step()
        with hub.wait_on([("job", "J-1")], "ben") as job:
            assert job is not None
            hub.committed([ledger.add(_entry(Ref("device", "D-1"), job_id="J-1"))])
            await watcher.step()
            return await job.woken(NOT_WOKEN)

    assert asyncio.run(wait()) is False
    assert not hub._own  # what it no longer needs is forgotten, waiting or not


def test_the_watcher_forgets_this_process_indexes_while_nobody_waits() -> None:
    hub, ledger, watcher = _watched()
    asyncio.run(watcher.step())
    for n in range(5):
        hub.committed([ledger.add(_entry(Ref("device", f"D-{n}"), job_id=f"J-{n}"))])
    asyncio.run(watcher.step())
    assert watcher.seen == 5
    assert not hub._own


def test_more_entries_than_it_reads_at_once_or_a_failed_read_wake_everyone() -> None:
    hub, ledger, watcher = _watched(most=2)

    async def wait() -> list[bool]:
        await watcher.step()
        woken = []
        with hub.wait_on([("job", "J-9")], "ben") as job:
            assert job is not None
            for n in range(3):  # an import, say, by another process
                ledger.add(_entry(Ref("device", f"D-{n}"), job_id=f"J-{n}"))
            await watcher.step()
            woken.append(await job.woken(NOT_WOKEN))
            job.rearm()
            ledger.fail = True
            task = asyncio.create_task(watcher.watch())
            woken.append(await job.woken(NOT_WOKEN))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return woken

    assert asyncio.run(wait()) == [True, True]
    assert ledger.closed  # the watcher let go of its connection when it stopped
    assert watcher.seen is None  # read again from where the ledger is, once it answers
