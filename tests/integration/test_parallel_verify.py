"""Verification spread over worker processes finds exactly what the single-process pass finds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.ledger_rows import entry_data, set_entry
from triage import bootstrap
from triage.adapters.ledger_store import SqlLogOpener
from triage.ledger import audit
from triage.ledger.log import LogStorage
from triage.services import ledger as ledger_service


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a small log take the parallel path, in chunks of two tiles."""
    monkeypatch.setattr(audit, "PARALLEL_FROM", 0)
    monkeypatch.setattr(audit, "CHUNK_TILES", 2)


def _reports(app: bootstrap.App) -> tuple[audit.AuditReport, audit.AuditReport]:
    args = (app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin)
    return ledger_service.verify(*args, workers=1), ledger_service.verify(*args, workers=2)


@pytest.mark.usefixtures("small_chunks")
def test_parallel_and_single_process_agree(app: bootstrap.App) -> None:
    for stop in (700, 1500, 2600):
        with app.uow(write=True) as uow:
            size = uow.ledger.log.head().size
            uow.ledger.log.append([f"entry {i}".encode() for i in range(size, stop)])
            uow.commit()
        ledger_service.issue_checkpoint(
            app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
        )
    single, parallel = _reports(app)
    assert single.ok and parallel.ok, (single.problems, parallel.problems)
    assert parallel.entries_checked == single.entries_checked == 2600
    assert parallel.checkpoints_checked == 3

    with app.database.engine.begin() as conn:
        set_entry(conn, 1300, entry_data(conn, 1300) + b" ")
    single, parallel = _reports(app)
    assert not parallel.ok
    assert parallel.problems == single.problems
    first = parallel.first_problem()
    assert first is not None
    assert first.index == 1300
    assert "entry 1300" in first.message


def _grow(app: bootstrap.App, stop: int) -> None:
    with app.uow(write=True) as uow:
        size = uow.ledger.log.head().size
        uow.ledger.log.append([f"entry {i}".encode() for i in range(size, stop)])
        uow.commit()
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )


@pytest.mark.usefixtures("small_chunks")
def test_an_altered_entry_in_a_workers_share_is_named_as_in_one_process(
    app: bootstrap.App,
) -> None:
    _grow(app, 2600)
    with app.database.engine.begin() as conn:  # chunk 1 of 2-tile chunks: a worker's
        set_entry(conn, 700, entry_data(conn, 700) + b" ")
    single, parallel = _reports(app)
    assert not parallel.ok
    assert parallel.problems == single.problems
    first = parallel.first_problem()
    assert first is not None
    assert first.index == 700


@pytest.mark.usefixtures("small_chunks")
def test_a_worker_that_cannot_read_the_log_changes_only_who_checks(
    app: bootstrap.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grow(app, 2600)
    unreadable = {
        "module": "triage.adapters.scan_worker",
        "driver": "sqlite3",
        "database": "file:/nonexistent/triage.db?mode=ro",
        "log_id": "none",
        "rows_sql": "",
        "tiles_sql": "",
        "bundles_sql": "",
    }
    monkeypatch.setattr(SqlLogOpener, "worker_job", lambda self: unreadable)
    single, parallel = _reports(app)
    assert single.ok and parallel.ok, (single.problems, parallel.problems)
    assert parallel.entries_checked == single.entries_checked == 2600


@pytest.mark.usefixtures("small_chunks")
def test_workers_check_their_share_of_a_sound_log(
    app: bootstrap.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a silent fallback: with two workers, every other chunk is answered by the worker
    process, on both databases, and no chunk is read again entry by entry."""
    _grow(app, 2600)  # ten full tiles: five chunks of two
    here: list[int] = []
    reread: list[int] = []
    scan, scan_chunk = audit._scan, audit._scan_chunk

    def counted_scan(storage: LogStorage, first: int, end: int, cuts: list[int]) -> Any:
        here.append(first)
        return scan(storage, first, end, cuts)

    def counted_rescan(storage: LogStorage, first: int, end: int, cuts: list[int]) -> Any:
        reread.append(first)
        return scan_chunk(storage, first, end, cuts)

    monkeypatch.setattr(audit, "_scan", counted_scan)
    monkeypatch.setattr(audit, "_scan_chunk", counted_rescan)
    args = (app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin)
    report = ledger_service.verify(*args, workers=2)
    assert report.ok, report.problems
    assert report.entries_checked == 2600
    assert here == [0, 4, 8]  # this process: chunks 0, 2 and 4; the worker: 1 and 3
    assert reread == []
