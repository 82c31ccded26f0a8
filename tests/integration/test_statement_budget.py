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
from typing import Any

from sqlalchemy import Engine, event, text

from tests.integration.conftest import Staffed
from tests.people import PASSWORD, SOURCE, enrol
from triage.adapters import fastsql
from triage.domain.roles import Role
from triage.services import auth, tokens


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


# Statements each step of a device's way through the bench may run (issue 22: a device was
# 158 statements, a third of them reads repeated in one transaction; see docs/performance.md,
# "Where the time goes"). A step that needs more is a change to look at, not to wave through.
# Counted on SQLite; PostgreSQL's writer lock is one statement more (pg_advisory_xact_lock).
DEVICE_STEP_BUDGET = {
    "scan": 23,
    "inspect": 26,
    "authorise_reset": 35,
    "record_tool_result": 20,
    "seal": 21,
    "release": 8,
}


def test_a_device_s_way_through_the_bench_stays_within_its_statement_budget(
    staffed: Staffed,
) -> None:
    from tests.integration.conftest import CLEAN
    from tests.integration.test_triage_services import D1
    from triage.domain.lifecycle import JobState
    from triage.services import intake, job_steps

    app = staffed.app
    staffed.manifest("C-1", [D1])
    used: dict[str, int] = {}
    with counted(app.database.engine) as statements:
        scanned = intake.scan_device(app.uow, staffed.ben, D1)
    used["scan"] = len(statements)
    assert scanned.job is not None
    job_id = scanned.job.id
    staffed.record_log(job_id)
    with counted(app.database.engine) as statements:
        job_steps.inspect(app.uow, staffed.ben, job_id, CLEAN)
    used["inspect"] = len(statements)
    with counted(app.database.engine) as statements:
        signed = job_steps.authorise_reset(
            app.uow, staffed.ben, job_id, staffed.tool.id, app.signer_key()
        )
    used["authorise_reset"] = len(statements)
    result = staffed.carry_out(signed)
    with counted(app.database.engine) as statements:
        job = job_steps.record_tool_result(app.uow, staffed.tool, result)
    used["record_tool_result"] = len(statements)
    assert job.state is JobState.VERIFIED
    with counted(app.database.engine) as statements:
        job_steps.seal(app.uow, staffed.ben, job_id, "SL-0001")
    used["seal"] = len(statements)
    with counted(app.database.engine) as statements:
        job = job_steps.release(app.uow, staffed.ben, job_id)
    used["release"] = len(statements)
    assert job.state is JobState.RELEASED
    lock = 1 if app.database.dialect == "postgresql" else 0
    allowed = {step: budget + lock for step, budget in DEVICE_STEP_BUDGET.items()}
    over = {s: (n, allowed[s]) for s, n in used.items() if n > allowed[s]}
    assert over == {}, f"statements used (and allowed): {over}"
