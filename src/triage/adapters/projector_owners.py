"""Projection handlers for asset owners (issue 19): the parties the devices belong to.

``asset_owner.registered`` carries the whole party; ``asset_owner.updated`` carries only what
changed (name, contact, verifier key, active).
"""

from __future__ import annotations

from triage.adapters.projector import Insert, Op, handles, set_values
from triage.adapters.tables import asset_owner, operator
from triage.ledger.entry import Entry

_CHANGEABLE = ("name", "contact", "verifier_key", "active")


@handles("asset_owner.registered")
def _registered(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": entry.subject.id,
        "name": data["name"],
        "contact": data["contact"],
        "verifier_key": data.get("verifier_key"),
        "active": True,
        "registered_at": entry.at,
        "updated_at": entry.at,
    }
    return [Insert(asset_owner, row)]


@handles("operator.created")
def _person_of_owner(entry: Entry) -> list[Op]:
    """The asset owner a person of an asset owner acts for (the operator's row is the main
    projector's; this area keeps its asset_owner column)."""
    owner = entry.data.get("asset_owner")
    if owner is None:
        return []
    return [set_values(operator, operator.c.id == entry.subject.id, asset_owner=owner)]


@handles("asset_owner.updated")
def _updated(entry: Entry) -> list[Op]:
    changed = {k: entry.data[k] for k in _CHANGEABLE if k in entry.data}
    return [
        set_values(
            asset_owner, asset_owner.c.id == entry.subject.id, **changed, updated_at=entry.at
        )
    ]
