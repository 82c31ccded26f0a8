"""Growing a facility's ledger for the tile API's tests: entries through a real use case, and
checkpoints signed as the facility signs them."""

from __future__ import annotations

import itertools

from tests.e2e.conftest import Triage
from triage.domain.caller import Caller
from triage.ledger.log import StoredCheckpoint
from triage.services import anomaly
from triage.services import ledger as ledger_service

SYSTEM = Caller.system("tlog-test")
_counts = itertools.count(1)


def grow_and_sign(triage: Triage, at_least: int) -> StoredCheckpoint:
    """Grow the facility's ledger to ``at_least`` entries (the facility's reset threshold set
    again and again, in this process) and sign a checkpoint of it."""
    with triage.opened() as app:
        while ledger_service.status(app.uow, SYSTEM).size < at_least:
            anomaly.set_threshold(app.uow, SYSTEM, "facility", None, "resets", next(_counts), 60)
        return ledger_service.issue_checkpoint(app.uow, SYSTEM, app.origin, app.signer_key())
