"""Projection handlers for assurance: the catalogue in force, the provider's controls, which
controls apply, and the evidence recorded."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from triage.adapters.projector import Insert, Op, Run, canonical, handles
from triage.adapters.tables import (
    control_applicability,
    control_catalogue,
    evidence,
    provider_control,
)
from triage.ledger.entry import Entry


@handles("assurance.catalogue_adopted")
def _catalogue_adopted(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "sha256": data["sha256"],
        "name": data["name"],
        "version": data["version"],
        "text": data["text"],
        "adopted_by": entry.actor.id,
        "adopted_at": entry.at,
    }

    def run(conn: Connection) -> None:
        # Adopting a catalogue that was in force before makes it the latest again.
        conn.execute(delete(control_catalogue).where(control_catalogue.c.sha256 == row["sha256"]))

    return [Run(run), Insert(control_catalogue, row)]


@handles("assurance.control_added")
def _control_added(entry: Entry) -> list[Op]:
    control = entry.data["control"]
    row = {
        "id": control["id"],
        "definition": canonical(control),
        "added_by": entry.actor.id,
        "added_at": entry.at,
    }
    return [Insert(provider_control, row)]


@handles("assurance.control_not_applicable", "assurance.control_applicable")
def _applicability(entry: Entry) -> list[Op]:
    control_id = entry.data["control_id"]
    row = {
        "control_id": control_id,
        "applicable": entry.type == "assurance.control_applicable",
        "reason": entry.data["reason"],
        "decided_by": entry.actor.id,
        "decided_at": entry.at,
    }

    def run(conn: Connection) -> None:
        conn.execute(
            delete(control_applicability).where(control_applicability.c.control_id == control_id)
        )

    return [Run(run), Insert(control_applicability, row)]


@handles("assurance.evidence_generated", "assurance.evidence_uploaded")
def _evidence(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": data["evidence_id"],
        "kind": "automatic" if entry.type == "assurance.evidence_generated" else "upload",
        "name": data["name"],
        "title": data["title"],
        "sha256": data["sha256"],
        "size": data["size"],
        "media_type": data["media_type"],
        "filename": data.get("filename"),
        "control_ids": canonical(data.get("control_ids", [])),
        "summary": canonical(data.get("summary", {})),
        "recorded_by": entry.actor.id,
        "recorded_at": entry.at,
    }
    return [Insert(evidence, row)]
