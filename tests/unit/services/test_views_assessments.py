"""The security manager's assessment pages and the facility's settings page, against the fake
unit of work: what each shows, and who may see it."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import assurance_seed as seed
from tests.unit.services import security_seed
from tests.unit.services.assurance_seed import FakeFileStore
from tests.unit.services.callers import (
    administrator,
    auditor,
    bench_operator,
    security_manager,
    supervisor,
)
from triage.domain.assessment import Kind
from triage.errors import NotFound, PermissionDenied
from triage.services import anomaly, assessment, facility
from triage.services.views import assessments as views
from triage.services.views import facility_settings


def test_the_assessments_page_shows_the_one_in_progress_and_the_one_due_next(
    factory: FakeUnitOfWorkFactory,
) -> None:
    empty = views.assessments_planned(factory, security_manager())
    assert (empty.assessments, empty.in_progress) == ([], None)
    assert empty.next_assessment.schedule.kind is Kind.FUSA

    decided = seed.approved(factory)
    planned = seed.plan(factory, kind="VUSA", planned_at="2027-06-01")

    shown = views.assessments_planned(factory, security_manager())

    assert [a.id for a in shown.assessments] == [decided.id, planned.id]
    assert shown.in_progress is not None and shown.in_progress.id == planned.id


def test_an_assessment_is_shown_with_the_latest_evidence_not_yet_attached(
    factory: FakeUnitOfWorkFactory,
) -> None:
    store = FakeFileStore()
    planned = seed.plan(factory, controls=["G1"])
    first = seed.upload(factory, store, name="scope", content=b"%PDF scope")
    second = seed.upload(factory, store, name="policy", content=b"%PDF policy")
    assessment.attach_evidence(factory, security_manager(), planned.id, [first.id])

    shown = views.assessment_shown(factory, security_manager(), planned.id)

    assert shown.assessment.id == planned.id
    assert [e.id for e in shown.assessment.evidence] == [first.id]
    assert [e.id for e in shown.evidence] == [second.id]
    with pytest.raises(NotFound):
        views.assessment_shown(factory, security_manager(), "no-such-assessment")


def test_only_who_manages_assessments_sees_their_pages(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory)
    for who in (auditor(), supervisor(), bench_operator()):
        with pytest.raises(PermissionDenied):
            views.assessments_planned(factory, who)
        with pytest.raises(PermissionDenied):
            views.assessment_shown(factory, who, planned.id)
    assert views.assessments_planned(factory, administrator()).in_progress is not None


def test_the_settings_page_shows_the_recorded_settings_and_the_environments(
    factory: FakeUnitOfWorkFactory,
) -> None:
    security_seed.facility(factory)
    before = facility_settings.facility_settings(factory, administrator())
    assert before.working_hours is None
    assert before.time_zone == factory.settings.time_zone

    anomaly.set_working_hours(factory, security_manager(), "08:00", "18:00", None)
    facility.change_settings(factory, administrator(), max_reset_attempts=2)

    shown = facility_settings.facility_settings(factory, auditor())

    assert (shown.max_reset_attempts, shown.work_order_minutes) == (2, before.work_order_minutes)
    assert shown.working_hours is not None
    assert shown.working_hours.describe() == (
        f"08:00-18:00 {factory.settings.time_zone} on mon,tue,wed,thu,fri"
    )
    sources = {s.label: s.source for s in shown.read_only}
    assert sources["Time zone"].startswith("TRIAGE_TIME_ZONE")
    assert sources["Session ends after no request for"].startswith("built in")
    # The database's address may hold a password: only its kind is shown.
    assert all("://" not in s.value for s in shown.read_only)


def test_the_settings_page_is_not_for_the_bench(factory: FakeUnitOfWorkFactory) -> None:
    security_seed.facility(factory)
    for who in (bench_operator(), supervisor()):
        with pytest.raises(PermissionDenied):
            facility_settings.facility_settings(factory, who)
