"""The controls, an assessment (with the incident register as observations), and the open
findings as OSCAL documents (JSON objects as OSCAL defines them, built by an ``OscalBuilder``)."""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.facility import Facility
from triage.services import assessment, assurance, incident_reports
from triage.services.ports import OscalBuilder, OscalDocument, UnitOfWorkFactory


def catalog(uow_factory: UnitOfWorkFactory, caller: Caller, builder: OscalBuilder) -> OscalDocument:
    """The controls in force as an OSCAL catalog."""
    catalogue, own, not_applicable = assurance.catalogue_parts(uow_factory, caller)
    at = uow_factory.clock.now()
    return builder.catalog(catalogue, own, not_applicable, at)


def assessment_results(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    assessment_id: str,
    builder: OscalBuilder,
    facility: Facility,
) -> OscalDocument:
    """One assessment as OSCAL assessment-results, with the incident register's incidents,
    vulnerabilities and notifications as observations (those raised by the time the outcome
    was decided; all of them while it is undecided; their notifications as they stand now)."""
    catalogue, own, _ = assurance.catalogue_parts(uow_factory, caller)
    found = assessment.get(uow_factory, caller, assessment_id)
    with uow_factory(write=False) as uow:
        register = incident_reports.read_register(uow, until=found.decided_at)
    at = uow_factory.clock.now()
    return builder.assessment_results(
        found, [*catalogue.controls, *own], facility, at, register.rows()
    )


def plan_of_action(
    uow_factory: UnitOfWorkFactory, caller: Caller, builder: OscalBuilder, facility: Facility
) -> OscalDocument:
    """Open findings and remedial actions as an OSCAL plan-of-action-and-milestones."""
    catalogue, own, _ = assurance.catalogue_parts(uow_factory, caller)
    found = assessment.list_all(uow_factory, caller)
    at = uow_factory.clock.now()
    return builder.plan_of_action(found, [*catalogue.controls, *own], facility, at)


def all_documents(
    uow_factory: UnitOfWorkFactory, caller: Caller, builder: OscalBuilder, facility: Facility
) -> dict[str, OscalDocument]:
    """The catalog, the plan-of-action-and-milestones and every assessment's results, by the
    file name each is written to."""
    documents = {
        "catalog.json": catalog(uow_factory, caller, builder),
        "plan-of-action-and-milestones.json": plan_of_action(
            uow_factory, caller, builder, facility
        ),
    }
    for found in assessment.list_all(uow_factory, caller):
        documents[f"assessment-results-{found.id}.json"] = assessment_results(
            uow_factory, caller, found.id, builder, facility
        )
    return documents
