"""The replay check behind its port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from tests.unit.services.callers import auditor, nobody
from triage.errors import PermissionDenied
from triage.services import replay
from triage.services.proof_encoding import replay_json


@dataclass
class FakeReplay:
    """A ``ReplayCheck`` that answers what it was told, and counts how often it was run."""

    entries: int = 4
    rows: int = 9
    differences: Sequence[object] = ()
    notes: Sequence[str] = field(default_factory=list)
    runs: int = 0

    def __call__(self) -> FakeReplay:
        self.runs += 1
        return self


def test_whoever_reads_the_ledger_runs_the_replay() -> None:
    fake = FakeReplay(differences=["operator op: name differs"])

    found = replay.check_replay(auditor(), fake)

    assert found is fake and fake.runs == 1
    assert replay_json(found) == {
        "ok": False,
        "entries": 4,
        "rows": 9,
        "differences": ["operator op: name differs"],
    }


def test_the_replay_is_not_run_for_a_caller_without_the_permission() -> None:
    fake = FakeReplay()

    with pytest.raises(PermissionDenied):
        replay.check_replay(nobody(), fake)
    assert fake.runs == 0


def test_a_replay_without_differences_is_ok() -> None:
    assert replay_json(FakeReplay())["ok"] is True
