"""The security manager's assessment pages: every assessment with the one due next, and one
assessment with what may be attached to it."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.assurance_records import Assessment, Evidence, NextAssessment
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.services import assessment
from triage.services.ports import UnitOfWorkFactory

# The latest pieces of evidence offered to attach to an assessment.
EVIDENCE_OFFERED = 50


@dataclass(frozen=True)
class AssessmentsPlanned:
    """Every assessment (oldest first) and the schedule's next one."""

    assessments: list[Assessment]
    next_assessment: NextAssessment

    @property
    def in_progress(self) -> Assessment | None:
        """The assessment without an outcome yet (at most one), which blocks planning another."""
        return next((a for a in self.assessments if a.result is None), None)


@dataclass(frozen=True)
class AssessmentShown:
    """One assessment, and the latest evidence not yet attached to it."""

    assessment: Assessment
    evidence: list[Evidence]


def assessments_planned(uow_factory: UnitOfWorkFactory, caller: Caller) -> AssessmentsPlanned:
    """The assessments and which is due next, for who manages them."""
    caller.require(Permission.ASSURANCE_MANAGE)
    return AssessmentsPlanned(
        assessment.list_all(uow_factory, caller), assessment.schedule(uow_factory, caller)
    )


def assessment_shown(
    uow_factory: UnitOfWorkFactory, caller: Caller, assessment_id: str
) -> AssessmentShown:
    """One assessment with the evidence that could be put in front of its assessor."""
    caller.require(Permission.ASSURANCE_MANAGE)
    found = assessment.get(uow_factory, caller, assessment_id)
    attached = {e.id for e in found.evidence}
    with uow_factory(write=False) as uow:
        _, total = uow.assurance.evidence_list(None, 0, 1)
        latest, _ = uow.assurance.evidence_list(
            None, max(0, total - EVIDENCE_OFFERED), EVIDENCE_OFFERED
        )
    return AssessmentShown(found, [e for e in reversed(latest) if e.id not in attached])
