"""The change hub: a waiter is woken by a change to what it waits on, from any thread, even one
committed between its registration and its wait; not by other changes; all of them when the
hub closes; and beyond its caps a request may not wait at all."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from triage.adapters.changes import ChangeHub, keys_of
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
