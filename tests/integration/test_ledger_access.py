"""Who may read, prove, verify and sign the ledger, checked by the ledger's services themselves:
the API, the web pages and the command line cannot disagree about it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.integration.conftest import Staffed
from triage.domain.roles import Permission
from triage.errors import PermissionDenied
from triage.services import ledger as ledger_service


def test_a_bench_operator_reads_and_proves_the_ledger_but_may_not_sign_it(staffed: Staffed) -> None:
    app = staffed.app
    with pytest.raises(PermissionDenied, match=r"may not ledger\.checkpoint"):
        ledger_service.issue_checkpoint(app.uow, staffed.ben, app.origin, app.signer_key())
    with pytest.raises(PermissionDenied, match=r"may not ledger\.checkpoint"):
        ledger_service.issue_checkpoint_if_grown(app.uow, staffed.ben, app.origin, app.signer_key())
    assert ledger_service.checkpoints(app.uow, staffed.ben) == []
    signed = ledger_service.issue_checkpoint(app.uow, staffed.admin, app.origin, app.signer_key())
    latest = ledger_service.status(app.uow, staffed.ben).latest_checkpoint
    assert latest is not None and latest.note == signed.note
    assert ledger_service.prove_inclusion(app.uow, staffed.ben, 0, signed.size).size == signed.size
    assert ledger_service.verify(app.uow, staffed.auditor, app.verifier_key(), app.origin).ok


def test_a_token_not_scoped_for_reading_the_ledger_reads_none_of_it(staffed: Staffed) -> None:
    app = staffed.app
    scoped = dataclasses.replace(staffed.auditor, scopes=frozenset({Permission.ASSURANCE_READ}))
    reads: list[Callable[[], object]] = [
        lambda: ledger_service.status(app.uow, scoped),
        lambda: ledger_service.checkpoints(app.uow, scoped),
        lambda: ledger_service.latest_refusal(app.uow, scoped),
        lambda: ledger_service.prove_inclusion(app.uow, scoped, 0),
        lambda: ledger_service.prove_consistency(app.uow, scoped, 1),
        lambda: ledger_service.verify(app.uow, scoped, app.verifier_key(), app.origin),
    ]
    for read in reads:
        with pytest.raises(PermissionDenied, match=r"not scoped for ledger\.read"):
            read()
