"""The controls, an assessment and the open findings handed to the OSCAL builder, against the
fake unit of work (the builder's own tests, in tests/unit/adapters, check the OSCAL)."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import assurance_seed as seed
from tests.unit.services.assurance_seed import FACILITY, OWN, FakeOscal
from tests.unit.services.callers import administrator, auditor, nobody
from triage.errors import NotFound, PermissionDenied
from triage.services import assurance, oscal_export

REASON = "No seals are kept at this facility"


@pytest.fixture
def tailored(factory: FakeUnitOfWorkFactory) -> FakeUnitOfWorkFactory:
    """The packaged catalogue with a control of the provider's own and one not applicable."""
    assurance.add_control(factory, administrator(), OWN)
    assurance.set_applicable(factory, administrator(), "TD.3", False, REASON)
    return factory


def test_the_catalog_is_the_catalogue_in_force_with_the_providers_controls(
    tailored: FakeUnitOfWorkFactory,
) -> None:
    document = oscal_export.catalog(tailored, auditor(), FakeOscal())

    assert document == {
        "catalog": "sec-triage",
        "own": ["P-1"],
        "not_applicable": {"TD.3": REASON},
        "at": tailored.clock.now(),
    }


def test_assessment_results_name_every_control_the_assessment_may_cite(
    tailored: FakeUnitOfWorkFactory,
) -> None:
    planned = seed.plan(tailored, controls=["G1", "P-1"])

    document = oscal_export.assessment_results(
        tailored, auditor(), planned.id, FakeOscal(), FACILITY
    )

    every = [c.id for c in tailored.packaged.catalogue().controls]
    assert document == {
        "assessment": planned.id,
        "controls": [*every, "P-1"],
        "facility": FACILITY.id,
        "at": tailored.clock.now(),
        "register": [],
    }
    with pytest.raises(NotFound, match="no assessment 'nope'"):
        oscal_export.assessment_results(tailored, auditor(), "nope", FakeOscal(), FACILITY)


def test_the_plan_of_action_covers_every_assessment(factory: FakeUnitOfWorkFactory) -> None:
    first = seed.approved(factory)
    second = seed.plan(factory, kind="VUSA", controls=["G1"], planned_at="2027-06-01")

    document = oscal_export.plan_of_action(factory, auditor(), FakeOscal(), FACILITY)

    assert document["assessments"] == [first.id, second.id]
    assert document["facility"] == FACILITY.id


def test_every_document_is_named_by_the_file_it_is_written_to(
    factory: FakeUnitOfWorkFactory,
) -> None:
    first = seed.approved(factory)
    second = seed.plan(factory, kind="VUSA", controls=["G1"], planned_at="2027-06-01")

    documents = oscal_export.all_documents(factory, auditor(), FakeOscal(), FACILITY)

    assert sorted(documents) == sorted(
        [
            "catalog.json",
            "plan-of-action-and-milestones.json",
            f"assessment-results-{first.id}.json",
            f"assessment-results-{second.id}.json",
        ]
    )
    assert documents[f"assessment-results-{second.id}.json"]["assessment"] == second.id


def test_the_exports_need_the_assurance_read_permission(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])
    builder = FakeOscal()
    with pytest.raises(PermissionDenied):
        oscal_export.catalog(factory, nobody(), builder)
    with pytest.raises(PermissionDenied):
        oscal_export.assessment_results(factory, nobody(), planned.id, builder, FACILITY)
    with pytest.raises(PermissionDenied):
        oscal_export.plan_of_action(factory, nobody(), builder, FACILITY)
    with pytest.raises(PermissionDenied):
        oscal_export.all_documents(factory, nobody(), builder, FACILITY)
