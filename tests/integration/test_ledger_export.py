"""The ledger export on both databases: only for who may audit, only up to a signed checkpoint,
checkable offline with the verifier key, and refusing to paper over a missing entry."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import delete

from tests.integration.conftest import CLEAN, Staffed
from triage.adapters.tables import ledger_entry
from triage.errors import Conflict, NotFound, PermissionDenied
from triage.ledger.export import verify_export
from triage.services import ledger as ledger_service

DEVICES = ["BC-33-AC-FF-FE-FA-55-3D", "BC-33-AC-FF-FE-FA-55-3E", "BC-33-AC-FF-FE-FA-55-3F"]


def test_an_auditor_exports_the_ledger_up_to_the_latest_checkpoint(staffed: Staffed) -> None:
    app = staffed.app
    with pytest.raises(PermissionDenied):
        ledger_service.export(app.uow, staffed.ben, app.origin)
    with pytest.raises(NotFound, match="no signed checkpoint"):
        ledger_service.export(app.uow, staffed.auditor, app.origin)
    staffed.manifest("C-1", DEVICES)
    staffed.receive("BC-33-AC-FF-FE-FA-55-3D", CLEAN)
    kept = ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    staffed.receive("BC-33-AC-FF-FE-FA-55-3E", CLEAN)  # after the checkpoint: not exported
    latest = ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    assert latest.size > kept.size

    checkpoint, lines = ledger_service.export(app.uow, staffed.auditor, app.origin)
    data = b"".join(lines)
    assert checkpoint == latest and data.count(b"\n") == latest.size + 1
    verified = verify_export(io.BytesIO(data), [app.verifier_key()], [kept.note])
    assert verified.checkpoint.size == latest.size and verified.held == [kept.size]
    assert verified.types["device.received"] == 2

    # The ledger grows after the export: the export stays what the checkpoint covers.
    staffed.receive("BC-33-AC-FF-FE-FA-55-3F", CLEAN)
    assert staffed.ledger_size() > latest.size
    again = b"".join(ledger_service.export(app.uow, staffed.auditor, app.origin)[1])
    assert again == data


def test_an_entry_missing_from_the_store_stops_the_export(staffed: Staffed) -> None:
    app = staffed.app
    staffed.manifest("C-1", DEVICES[:1])
    staffed.receive("BC-33-AC-FF-FE-FA-55-3D", CLEAN)
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    with app.database.engine.begin() as conn:
        conn.execute(delete(ledger_entry).where(ledger_entry.c.idx == 3))
    _, lines = ledger_service.export(app.uow, staffed.auditor, app.origin)
    with pytest.raises(Conflict, match="entry 3 is missing"):
        b"".join(lines)
