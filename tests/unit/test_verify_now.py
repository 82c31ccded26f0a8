"""The auditor's "verify now" runs one verification at a time in the server: a second start
while one runs gives the running one (whoever started it), and a verification that stops says
why on the page rather than running for ever."""

from __future__ import annotations

import threading
import time

from triage.domain.assurance_records import Evidence
from triage.entrypoints.web.auditor import Run, Verifications
from triage.errors import PermissionDenied

WAIT = 10


def _finished(run: Run) -> None:
    deadline = time.monotonic() + WAIT
    while not run.finished:
        assert time.monotonic() < deadline, "the verification did not finish"
        time.sleep(0.01)


def test_a_second_start_while_one_runs_shows_the_running_one() -> None:
    verifications = Verifications()
    release = threading.Event()
    calls: list[str] = []

    def work(run: Run) -> list[Evidence]:
        calls.append(run.started_by)
        run.told("verify", 3, 10)
        assert release.wait(WAIT)
        return []

    first, started = verifications.start("audrey", work)
    second, started_again = verifications.start("alan", work)

    assert (started, started_again) == (True, False)
    assert second is first and second.started_by == "audrey"
    release.set()
    _finished(first)
    assert calls == ["audrey"]
    assert (first.checked, first.total, first.error) == (3, 10, None)
    # Once it is over, the next start is a new verification.
    third, started_third = verifications.start("alan", work)
    assert started_third and third is not first
    _finished(third)


def test_a_verification_that_stops_says_why() -> None:
    verifications = Verifications()

    def refused(run: Run) -> list[Evidence]:
        raise PermissionDenied("audrey may not assurance.read")

    def broken(run: Run) -> list[Evidence]:
        raise OSError("disk gone")

    run, _ = verifications.start("audrey", refused)
    _finished(run)
    assert run.error == "audrey may not assurance.read"
    run, _ = verifications.start("audrey", broken)
    _finished(run)
    assert run.error is not None and "OSError: disk gone" in run.error
