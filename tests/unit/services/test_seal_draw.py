"""Seals issued at random: with the setting on, the operator draws a seal from those issued to
them, and only that seal may be fitted; with it off, nothing changes."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed, seals_seed
from tests.unit.services.workflow_seed import Bench, at_the_bench, issued_seal, verified
from triage.errors import Conflict, InvalidInput, PermissionDenied
from triage.services import custody, job_steps, seal_draw
from triage.services.facility import create_facility

STORES = callers.stores()


@pytest.fixture
def bench(factory: FakeUnitOfWorkFactory) -> Bench:
    create_facility(factory, factory.facility_id, "Unit Facility", "triage.test/unit")
    return at_the_bench(factory)


def random_issue(factory: FakeUnitOfWorkFactory) -> None:
    custody.change_settings(factory, STORES, random_seal_issue=True)


def test_the_drawn_seal_is_one_of_the_operator_s_unused_seals_and_the_only_one_fitted(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    random_issue(factory)
    seals_seed.receive(factory, "SL-000100", "SL-000109")
    mine = ["SL-000101", "SL-000104", "SL-000107"]
    seals_seed.issue(factory, "op", *mine)
    people_seed.add_operator(factory, "other")
    seals_seed.issue(factory, "other", "SL-000102")
    job_id = verified(factory, bench, 1)
    drawn = seal_draw.draw(factory, bench.operator, job_id)
    assert drawn.serial in mine
    entry = factory.entries()[-1]
    assert (entry.type, entry.data) == ("seal.drawn", {"job_id": job_id, "serial": drawn.serial})
    # Asked again, the same seal: drawing again must not let the operator choose.
    assert seal_draw.draw(factory, bench.operator, job_id).serial == drawn.serial
    assert factory.entry_types().count("seal.drawn") == 1
    other = next(s for s in mine if s != drawn.serial)
    with pytest.raises(InvalidInput) as refused:
        job_steps.seal(factory, bench.operator, job_id, other)
    assert refused.value.field == "serial"
    assert drawn.serial in str(refused.value)
    sealed = job_steps.seal(factory, bench.operator, job_id, drawn.serial)
    assert sealed.seal_serial == drawn.serial


def test_every_draw_comes_from_the_operator_s_issued_seals(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    random_issue(factory)
    seals_seed.receive(factory, "SL-000100", "SL-000119")
    mine = {f"SL-0001{n:02d}" for n in range(0, 20, 2)}
    seals_seed.issue(factory, "op", *sorted(mine))
    seen = set()
    for n in range(1, 13):
        job_id = verified(factory, bench, n)
        drawn = seal_draw.draw(factory, bench.operator, job_id)
        assert drawn.serial in mine
        job_steps.seal(factory, bench.operator, job_id, drawn.serial)
        seen.add(drawn.serial)
        mine.discard(drawn.serial)
        if not mine:
            break
    assert len(seen) == 10


def test_fitting_without_a_draw_is_refused_when_seals_are_issued_at_random(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    serial = issued_seal(factory, "op", "SL-000200")
    job_id = verified(factory, bench, 1)
    random_issue(factory)
    with pytest.raises(Conflict, match="draw a seal"):
        job_steps.seal(factory, bench.operator, job_id, serial)
    with pytest.raises(PermissionDenied):
        seal_draw.draw(factory, callers.bench_operator("op", bench=None), job_id)
    with pytest.raises(PermissionDenied):
        custody.change_settings(factory, bench.operator, random_seal_issue=False)


def test_with_the_setting_off_there_is_no_draw_and_fitting_is_as_before(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    serial = issued_seal(factory, "op", "SL-000300")
    job_id = verified(factory, bench, 1)
    with pytest.raises(Conflict, match="not issued at random"):
        seal_draw.draw(factory, bench.operator, job_id)
    assert job_steps.seal(factory, bench.operator, job_id, serial).seal_serial == serial


def test_an_operator_holding_no_seals_is_told_to_ask_stores(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    random_issue(factory)
    job_id = verified(factory, bench, 1)
    with pytest.raises(Conflict, match="ask stores"):
        seal_draw.draw(factory, bench.operator, job_id)
    assert "seal.drawn" not in factory.entry_types()
