"""Dispatches on both databases (issue 19 item 2): two dispatches racing to pack one device
(only one wins), and a whole dispatch through to acknowledgement that replay rebuilds exactly,
its note the same bytes whenever it is downloaded and valid with the facility's key alone."""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from alembic.config import Config

from tests.integration.conftest import Staffed
from tests.integration.test_races import N, one_wins, race
from triage.adapters import migrate
from triage.adapters.replay import replay_check
from triage.domain.caller import Caller
from triage.domain.dispatch import DispatchState, SealChecks
from triage.domain.roles import Role
from triage.errors import Conflict
from triage.ledger.entry import Ref
from triage.ledger.log import StoredCheckpoint
from triage.ledger.receipt import build_receipt, receipt_digest, verify_receipt
from triage.services import dispatches, job_steps

D1, D2 = "BC-33-AC-FF-FE-FA-57-01", "BC-33-AC-FF-FE-FA-57-02"
PASSED = SealChecks(True, True, True, True)


def _released(staffed: Staffed, *devices: str) -> None:
    staffed.manifest("C-D", list(devices))
    for n, device in enumerate(devices, start=1):
        job = staffed.reset(staffed.receive(device).id)
        job_steps.seal(staffed.app.uow, staffed.ben, job.id, f"SL-{n:04d}")
        job_steps.release(staffed.app.uow, staffed.ben, job.id)


def test_of_dispatches_racing_to_pack_one_device_only_one_wins(staffed: Staffed) -> None:
    _released(staffed, D1)
    uow = staffed.app.uow
    opened = [dispatches.create(uow, staffed.stores, "MAP-1", "asset_owner") for _ in range(N)]

    outcomes = race(
        lambda i: dispatches.pack(uow, staffed.stores, opened[i].id, D1, "SL-0001", PASSED)
    )

    one_wins(outcomes, Conflict, "already packed in dispatch")
    assert len(staffed.entries("dispatch.device_packed")) == 1


def test_a_dispatch_is_acknowledged_and_replay_rebuilds_it(staffed: Staffed) -> None:
    _released(staffed, D1, D2)
    app, stores = staffed.app, staffed.stores
    found = dispatches.create(app.uow, stores, "MAP-1", "asset_owner")
    dispatches.pack(app.uow, stores, found.id, D1, "SL-0001", PASSED)
    with pytest.raises(Conflict, match="twisted"):
        dispatches.pack(
            app.uow, stores, found.id, D2, "SL-0002", SealChecks(True, True, True, False)
        )
    dispatches.pack(app.uow, stores, found.id, D2, "SL-0002", PASSED)
    dispatches.unpack(app.uow, stores, found.id, D2)
    dispatches.pack(app.uow, stores, found.id, D2, "SL-0002", PASSED)
    dispatches.close(app.uow, stores, found.id, app.issuer(), app.documents)
    dispatches.hand_over(app.uow, stores, found.id, "Carrier Ltd", "AB12 CDE", "CS-1")
    owner = Caller.operator("ne", frozenset({Role.ASSET_OWNER}), asset_owner="MAP-1")
    note = dispatches.note(app.uow, owner, found.id)

    done = dispatches.acknowledge(app.uow, owner, found.id, [(D2, "missing", "not on pallet")])

    assert done.state is DispatchState.ACKNOWLEDGED
    assert [(d.device_id, d.kind.value) for d in done.discrepancies] == [(D2, "missing")]
    assert [r.device_id for r in done.refused] == [D2]
    assert dispatches.note(app.uow, staffed.auditor, found.id) == note
    signed = dispatches.verify_note(note, app.verifier_key())
    assert [d["device_id"] for d in signed.document["manifest"]["devices"]] == [D1, D2]
    assert len(app.documents.dispatch_note(note, app.verifier_key()).content) > 1000
    # An auditor rebuilds a device's receipt against the note's checkpoint: its digest and its
    # certificate's (rendered in reportlab's invariant mode) are the note's.
    item, checkpoint = (
        signed.document["manifest"]["devices"][0],
        signed.document["manifest"]["checkpoint"],
    )
    with app.uow(write=False) as uow:
        indexes = [i for i in uow.ledger.indexes_for("device", D1) if i < checkpoint["size"]]
        stored = StoredCheckpoint(checkpoint["size"], checkpoint["note"])
        receipt = build_receipt(uow.ledger.log, app.origin, Ref("device", D1), indexes, stored)
    verified = verify_receipt(receipt, [app.verifier_key()])
    assert receipt_digest(receipt, verified) == item["receipt_digest"]
    pdf = app.documents.certificate(D1, receipt, app.verifier_key(), app.facility.name)
    assert hashlib.sha256(pdf.content).hexdigest() == item["certificate_sha256"]
    assert replay_check(app.database, app.facility.id).differences == []
    # Rolled back to before asset owners and forward again, the database projects the entries
    # the newer code recorded (owners, dispatches, custody, retention) from the ledger again.
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
    migrate.upgrade(app.database)
    assert dispatches.dispatch(app.uow, owner, found.id) == done
    assert dispatches.note(app.uow, owner, found.id) == note
    assert replay_check(app.database, app.facility.id).differences == []
