"""What the hot paths cost the database, counted in statements (not timed).

Issue 16 made every request pay for its checks; these pin the price down so it cannot creep
back: a bearer token or a session is checked in two reads (the credential, then its holder with
their lock and second factor in one join); a writing transaction opens with one statement (the
facility's writer lock; the lock wait's bound is set once per connection); an agent's nonce is
taken in one statement that the primary key decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.sql.compiler import SQLCompiler

from tests.integration.conftest import CLEAN, Staffed
from tests.people import PASSWORD, SOURCE, enrol
from triage.adapters import fastsql
from triage.adapters.devices.simulated import SimulatedFleet
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.work_order import WorkOrder
from triage.ledger.entry import Entry
from triage.services import auth, intake, job_steps, security_log, tokens
from triage.services.ports import UnitOfWork

D1, D2 = "BC-33-AC-FF-FE-FA-58-01", "BC-33-AC-FF-FE-FA-58-02"


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The statements run on ``engine`` inside the block (transaction control aside), those
    SQLAlchemy runs and those fastsql runs on the raw cursor alike."""
    statements: list[str] = []

    def seen(statement: str) -> None:
        words = " ".join(statement.split())
        if words.split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(words)

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen(statement)

    event.listen(engine, "before_cursor_execute", before)
    fastsql.observers.append(seen)
    try:
        yield statements
    finally:
        fastsql.observers.remove(seen)
        event.remove(engine, "before_cursor_execute", before)


def test_a_bearer_token_and_a_session_are_each_checked_in_two_reads(staffed: Staffed) -> None:
    app = staffed.app
    sup = enrol(app, staffed.admin, "auditor-9", [Role.AUDITOR])
    with counted(app.database.engine) as statements:
        caller = tokens.authenticate_token(app.uow, sup.token)
    assert caller.id == "auditor-9"
    assert len(statements) == 2, statements

    session = auth.login(
        app.uow, "auditor-9", PASSWORD, sup.recovery_codes.pop(), SOURCE, None, box=app.secret_box()
    )
    with counted(app.database.engine) as statements:
        signed_in = auth.authenticate_session(app.uow, session.secret)
    assert signed_in.caller.id == "auditor-9"
    assert len(statements) == 2, statements


def test_a_writing_transaction_opens_with_the_writer_lock_alone(staffed: Staffed) -> None:
    app = staffed.app
    with counted(app.database.engine) as statements, app.uow(write=True):
        pass
    if app.database.dialect == "postgresql":
        assert len(statements) == 1 and "pg_advisory_xact_lock" in statements[0], statements
        # The wait for it is still bounded: set once, when the connection was made.
        with app.uow(write=True) as uow, app.database.engine.connect() as conn:
            assert uow.facility_id
            assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "30s"
    else:
        assert statements == [], statements  # BEGIN IMMEDIATE takes SQLite's write lock


def test_an_agent_nonce_is_taken_once_in_one_statement(staffed: Staffed) -> None:
    app, nonce = staffed.app, "0123456789abcdef0123456789abcdef"
    with app.uow(write=True) as uow:
        with counted(app.database.engine) as statements:
            assert uow.tools.use_agent_nonce("BENCH-1", nonce)
            assert not uow.tools.use_agent_nonce("BENCH-1", nonce)  # a replay
        uow.commit()
    assert len(statements) == 2, statements
    assert not any("SAVEPOINT" in s for s in statements), statements
    with app.uow(write=True) as uow:
        assert not uow.tools.use_agent_nonce("BENCH-1", nonce)  # remembered after commit
        assert uow.tools.use_agent_nonce("BENCH-2", nonce)  # another tool's is its own


def test_a_tool_s_claim_is_kept_by_one_savepoint_compiled_once(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed request of a tool claims its nonce first and keeps the claim by a savepoint
    (``first_write``): one statement, not compiled anew for each request (SQLAlchemy's own
    savepoint compiled its SAVEPOINT and RELEASE every time, which cost more than the claim)."""
    app = staffed.app
    compiled: list[str] = []
    compile_statement = SQLCompiler.__init__

    def compiling(self: SQLCompiler, *args: Any, **kwargs: Any) -> None:
        compile_statement(self, *args, **kwargs)
        compiled.append(self.string)

    for n in range(3):  # the first compiles what it runs once; the others nothing

        def claim(uow: UnitOfWork, nonce: str = f"{n:032x}") -> None:
            assert uow.tools.use_agent_nonce("BENCH-1", nonce)

        if n == 2:
            monkeypatch.setattr(SQLCompiler, "__init__", compiling)
        with (
            counted(app.database.engine) as statements,
            app.uow.first_write(claim)(write=True) as uow,
        ):
            uow.commit()
    assert compiled == []
    # The writer lock on PostgreSQL (SQLite's is taken outside the database), the claim, the
    # savepoint; the commit keeps the claim with the rest, no RELEASE needed.
    assert [s.split(" ", 1)[0] for s in statements if "advisory" not in s] == [
        "INSERT",
        "SAVEPOINT",
    ], statements


# Statements each step of a device's way through the bench may run, as the triage benchmark
# takes it (a read order for the device's security log, the tool's reading, then inspection,
# reset, seal, release), counted for a device after the first (which also puts the tamper
# policy in force and defines the bench's location). A step that needs more is a change to look
# at, not to wave through. Issue 22: a device was 158 statements, a third of them reads repeated
# in one transaction; then 145 (see docs/performance.md, "Where the time goes"); now each row
# is read once in a step, a row is written once, and the step answers with what it wrote.
# Counted on SQLite; PostgreSQL's writer lock is one statement more (pg_advisory_xact_lock).
DEVICE_STEP_BUDGET = {
    "scan": 17,
    "read order": 11,
    "record_reading": 13,
    "inspect": 15,
    "authorise_reset": 23,
    "record_tool_result": 14,
    "seal": 13,
    "release": 7,
}


def _tool_reading(staffed: Staffed, signed_order: str) -> str:
    """What the bench agent does with a read order: read the device's log, sign the reading."""
    order = WorkOrder.open(signed_order, staffed.app.verifier_key())
    device = staffed.connector.attach(order.device_id)
    raw = device.read_security_log()
    at = datetime.now(UTC)
    return SecurityLogReading(order.id, order.nonce, "BENCH-1", order.device_id, at, raw).sign(
        staffed.tool_key
    )


def _device_steps(staffed: Staffed, device_id: str, serial: str) -> dict[str, list[str]]:
    """Take one device through the bench; the statements of each step."""
    app = staffed.app
    used: dict[str, list[str]] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        with counted(app.database.engine) as statements:
            yield
        used[name] = statements

    with step("scan"):
        scanned = intake.scan_device(app.uow, staffed.ben, device_id)
    assert scanned.job is not None
    job_id = scanned.job.id
    with step("read order"):
        order = security_log.request_read(app.uow, staffed.ben, job_id, "BENCH-1", app.signer_key())
    reading = _tool_reading(staffed, order)
    with step("record_reading"):
        security_log.record_reading(app.uow, staffed.tool, app.evidence_store(), reading)
    with step("inspect"):
        job_steps.inspect(app.uow, staffed.ben, job_id, CLEAN)
    with step("authorise_reset"):
        signed = job_steps.authorise_reset(
            app.uow, staffed.ben, job_id, staffed.tool.id, app.signer_key()
        )
    result = staffed.carry_out(signed)
    with step("record_tool_result"):
        job = job_steps.record_tool_result(app.uow, staffed.tool, result)
    assert job.state is JobState.VERIFIED
    with step("seal"):
        job_steps.seal(app.uow, staffed.ben, job_id, serial)
    with step("release"):
        job = job_steps.release(app.uow, staffed.ben, job_id)
    assert job.state is JobState.RELEASED
    return used


def test_a_device_s_way_through_the_bench_stays_within_its_statement_budget(
    staffed: Staffed,
) -> None:
    staffed.manifest("C-1", [D1, D2])
    _device_steps(staffed, D1, "SL-0001")
    used = _device_steps(staffed, D2, "SL-0002")
    lock = 1 if staffed.app.database.dialect == "postgresql" else 0
    allowed = {step: budget + lock for step, budget in DEVICE_STEP_BUDGET.items()}
    over = {s: (len(n), allowed[s]) for s, n in used.items() if len(n) > allowed[s]}
    assert over == {}, f"statements used (and allowed): {over}; {used}"


def test_a_step_writes_out_only_the_entries_it_records(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every step reads back its device's latest entries to check the register against them
    (``check_recorded``); it reads what it needs of them (``glance``) without writing each one
    out again in canonical form to compare, which cost four fifths of the read (issue 22)."""
    staffed.manifest("C-1", [D1, D2])
    _device_steps(staffed, D1, "SL-0001")
    written: list[str] = []
    to_bytes = Entry.to_bytes

    def counting(entry: Entry) -> bytes:
        written.append(entry.type)
        return to_bytes(entry)

    monkeypatch.setattr(Entry, "to_bytes", counting)
    before = staffed.ledger_size()
    _device_steps(staffed, D2, "SL-0002")
    recorded = staffed.ledger_size() - before
    assert recorded >= 8
    assert len(written) == recorded, written


def test_each_step_answers_with_what_the_register_holds_after_it(staffed: Staffed) -> None:
    """The steps answer with what they wrote rather than reading it back (their budgets above):
    the answer is what anyone reads from the register afterwards."""
    app = staffed.app
    staffed.manifest("C-1", [D1, D2])
    SimulatedFleet(staffed.fleet_path).set_failure(D2, half_fail_times=3)

    def held(job_id: str) -> TriageJob:
        return staffed.job(job_id)

    scanned = intake.scan_device(app.uow, staffed.ben, D1)
    assert scanned.job is not None and scanned.job == held(scanned.job.id)
    job_id = scanned.job.id
    order = security_log.request_read(app.uow, staffed.ben, job_id, "BENCH-1", app.signer_key())
    record = security_log.record_reading(
        app.uow, staffed.tool, app.evidence_store(), _tool_reading(staffed, order)
    )
    with app.uow(write=False) as uow:
        assert [record] == uow.security_logs.for_job(job_id)
    job_steps.inspect(app.uow, staffed.ben, job_id, CLEAN)
    job = staffed.reset(job_id)
    assert job.state is JobState.VERIFIED and job == held(job_id)
    job = job_steps.seal(app.uow, staffed.ben, job_id, "SL-0003")
    assert job.seal_serial == "SL-0003" and job == held(job_id)
    job = job_steps.release(app.uow, staffed.ben, job_id)
    assert job.closed_at is not None and job == held(job_id)

    # Failed verifications, the last of them quarantining the device: three entries a result.
    failing = staffed.receive(D2)
    for state in (JobState.VERIFICATION_FAILED, JobState.VERIFICATION_FAILED):
        job = staffed.reset(failing.id)
        assert job.state is state and job == held(failing.id)
    job = staffed.reset(failing.id)
    assert job.state is JobState.QUARANTINED and job == held(failing.id)
