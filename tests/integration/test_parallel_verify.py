"""Verification spread over worker processes finds exactly what the single-process pass finds."""

from __future__ import annotations

import pytest

from tests.integration.ledger_rows import entry_data, set_entry
from triage import bootstrap
from triage.ledger import audit
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
