"""The demo facility: demo staff, their seals, commissioning mode and their own tokens."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import people_seed
from tests.unit.services.callers import auditor
from triage.errors import PermissionDenied
from triage.services import assessment, demo, seals
from triage.services.operators import operator_caller


def test_the_demo_enrols_its_staff_who_sign_in_for_their_own_tokens(
    factory: FakeUnitOfWorkFactory,
) -> None:
    made = demo.set_up_demo(factory, people_seed.BOX, 30, "127.0.0.1")

    staff = {operator_id for operator_id, _, _ in demo.DEMO_STAFF}
    assert set(made.tokens) == staff and set(made.logins) == staff
    assert made.seals == demo.DEMO_SEALS
    assert factory.entry_types().count("operator.created") == len(staff)
    assert assessment.status(factory, auditor()).may_triage
    bench = operator_caller(factory, "demo-bench")
    held, _ = seals.list_seals(factory, bench, holder="demo-bench")
    assert len(held) == 20


def test_no_demo_staff_beside_real_people(factory: FakeUnitOfWorkFactory) -> None:
    people_seed.add_operator(factory, "alice")
    before = factory.entry_types()

    with pytest.raises(PermissionDenied, match="real operators \\(alice\\)"):
        demo.set_up_demo(factory, people_seed.BOX, 30, "127.0.0.1")
    assert factory.entry_types() == before
