"""Projection handlers for the provider, commissioning mode and security assessments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Delete, delete

from triage.adapters.projector import Insert, Op, Run, canonical, handles, set_values
from triage.adapters.tables import (
    approval_step,
    assessment,
    commissioning,
    finding,
    remedial_action,
    sec_party,
)
from triage.ledger.entry import Entry, parse_time


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _clear(statement: Delete) -> Run:
    def run(conn: Connection) -> None:
        conn.execute(statement)

    return Run(run)


@handles("provider.party_recorded")
def _party(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "party_id": data["party_id"],
        "name": data["name"],
        "roles": canonical(data["roles"]),
        "recorded_by": entry.actor.id,
        "recorded_at": entry.at,
    }
    # One provider per database: a new record replaces the old.
    return [_clear(delete(sec_party)), Insert(sec_party, row)]


@handles("facility.commissioning_started", "facility.commissioning_ended")
def _commissioning(entry: Entry) -> list[Op]:
    ops: list[Op] = [
        _clear(delete(commissioning).where(commissioning.c.facility_id == entry.facility))
    ]
    if entry.type == "facility.commissioning_started":
        row = {
            "facility_id": entry.facility,
            "until": parse_time(entry.data["until"]),
            "reason": entry.data["reason"],
            "started_by": entry.actor.id,
            "started_at": entry.at,
        }
        ops.append(Insert(commissioning, row))
    return ops


@handles("assessment.planned")
def _planned(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": data["assessment_id"],
        "kind": data["kind"],
        "assessor": data["assessor"],
        "scope": data["scope"],
        "status": "planned",
        "planned_at": _day(data["planned_at"]),
        "fieldwork_start": None,
        "fieldwork_end": None,
        "controls": canonical(data["controls"]),
        "evidence_ids": canonical([]),
        "result": None,
        "decided_at": None,
        "created_by": entry.actor.id,
        "created_at": entry.at,
    }
    return [Insert(assessment, row)]


@handles("assessment.fieldwork_recorded")
def _fieldwork(entry: Entry) -> list[Op]:
    data = entry.data
    return [
        set_values(
            assessment,
            assessment.c.id == data["assessment_id"],
            fieldwork_start=_day(data["start"]),
            fieldwork_end=_day(data["end"]),
            status="fieldwork",
        )
    ]


@handles("assessment.evidence_attached")
def _evidence(entry: Entry) -> list[Op]:
    data = entry.data
    return [
        set_values(
            assessment,
            assessment.c.id == data["assessment_id"],
            evidence_ids=canonical(data["evidence_ids"]),
        )
    ]


@handles("assessment.finding_raised")
def _finding(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": data["finding_id"],
        "assessment_id": data["assessment_id"],
        "control_id": data["control_id"],
        "severity": data["severity"],
        "description": data["description"],
        "status": "open",
        "raised_at": entry.at,
        "response": None,
        "response_due": None,
        "responded_by": None,
        "responded_at": None,
        "closed_at": None,
        "closure": None,
    }
    return [Insert(finding, row)]


@handles("assessment.finding_responded")
def _response(entry: Entry) -> list[Op]:
    data = entry.data
    return [
        set_values(
            finding,
            finding.c.id == data["finding_id"],
            response=data["text"],
            response_due=_day(data["due"]),
            responded_by=entry.actor.id,
            responded_at=entry.at,
        )
    ]


@handles("assessment.finding_closed")
def _closed(entry: Entry) -> list[Op]:
    data = entry.data
    return [
        set_values(
            finding,
            finding.c.id == data["finding_id"],
            status="closed",
            closed_at=entry.at,
            closure=data["reason"],
        )
    ]


@handles("assessment.action_planned")
def _action(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": data["action_id"],
        "finding_id": data["finding_id"],
        "description": data["description"],
        "owner": data["owner"],
        "due": _day(data["due"]),
        "status": "open",
        "done_at": None,
    }
    return [Insert(remedial_action, row)]


@handles("assessment.action_done")
def _action_done(entry: Entry) -> list[Op]:
    return [
        set_values(
            remedial_action,
            remedial_action.c.id == entry.data["action_id"],
            status="done",
            done_at=entry.at,
        )
    ]


@handles("assessment.outcome_recorded")
def _outcome(entry: Entry) -> list[Op]:
    data = entry.data
    ops: list[Op] = [
        set_values(
            assessment,
            assessment.c.id == data["assessment_id"],
            result=data["result"],
            decided_at=entry.at,
            status="decided",
        )
    ]
    ops += [
        Insert(
            approval_step,
            {
                "id": step["step_id"],
                "assessment_id": data["assessment_id"],
                "description": step["description"],
                "due": _day(step["due"]),
                "done_at": None,
            },
        )
        for step in data["steps"]
    ]
    return ops


@handles("assessment.step_done")
def _step_done(entry: Entry) -> list[Op]:
    return [
        set_values(approval_step, approval_step.c.id == entry.data["step_id"], done_at=entry.at)
    ]
