"""The projector writes a run of entries in fewer statements than one a write (issue 22): the
updates of one row joined, an update folded into its row's insert, updates left to wait past
the writes of other rows. The tables must come out as if every write were made in its place,
in a statement of its own: a replay made so agrees row by row with the live tables."""

from __future__ import annotations

import pytest

from tests.integration.conftest import CLEAN, Staffed
from triage.adapters import fastsql, projector
from triage.adapters.devices.simulated import SimulatedFleet
from triage.adapters.replay import replay_check
from triage.domain.lifecycle import JobState
from triage.services import intake, job_steps, security_log

DEVICES = [f"BC-33-AC-FF-FE-FA-59-0{i}" for i in range(1, 5)]


def _each_in_its_place(self: object, op: projector.Op) -> None:
    """The projector's writes as they were before any was joined or deferred: each at once."""
    conn = self._conn  # type: ignore[attr-defined]
    if isinstance(op, projector.Insert):
        fastsql.insert_rows(conn, op.table, [op.row])
    else:
        op.run(conn)


def test_the_tables_are_those_of_every_write_made_in_its_place(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = staffed.app
    staffed.manifest("C-1", DEVICES)
    fleet = SimulatedFleet(staffed.fleet_path)
    fleet.set_failure(DEVICES[1], fail_times=1)
    fleet.set_failure(DEVICES[2], half_fail_times=3)

    # Released with a seal; a failed reset then a verified one; verification failing until
    # the device is quarantined; a read order replaced by another, then inspected.
    released = staffed.receive(DEVICES[0])
    assert staffed.reset(released.id).state is JobState.VERIFIED
    job_steps.seal(app.uow, staffed.ben, released.id, "SL-0001")
    job_steps.release(app.uow, staffed.ben, released.id)
    retried = staffed.receive(DEVICES[1])
    assert staffed.reset(retried.id).state is JobState.RESET_FAILED
    assert staffed.reset(retried.id).state is JobState.VERIFIED
    failing = staffed.receive(DEVICES[2])
    for _ in range(3):
        job = staffed.reset(failing.id)
    assert job.state is JobState.QUARANTINED
    scanned = intake.scan_device(app.uow, staffed.ben, DEVICES[3]).job
    assert scanned is not None
    for _ in range(2):
        security_log.request_read(app.uow, staffed.ben, scanned.id, "BENCH-1", app.signer_key())
    staffed.record_log(scanned.id)
    job_steps.inspect(app.uow, staffed.ben, scanned.id, CLEAN)

    assert replay_check(app.database, app.facility.id).differences == []
    monkeypatch.setattr(projector._Writes, "add", _each_in_its_place)
    assert replay_check(app.database, app.facility.id).differences == []
