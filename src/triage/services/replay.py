"""Replaying the ledger into fresh tables to check the live ones (the replay is a port)."""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.services.ports import ReplayCheck, ReplayResult


def check_replay(caller: Caller, replay: ReplayCheck) -> ReplayResult:
    """Replay the whole ledger and compare (whoever may read the ledger)."""
    caller.require(Permission.LEDGER_READ)
    return replay()
