"""Issue 19 (B): the fake repository of dispatches, their packed devices, handovers and
acknowledgements (uow.dispatches).
"""

from __future__ import annotations

import dataclasses

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.dispatch import (
    NOTE_KIND,
    Acknowledgement,
    Destination,
    Discrepancy,
    DiscrepancyKind,
    Dispatch,
    DispatchState,
    DispatchSummary,
    Handover,
    PackedDevice,
    RefusedPacking,
    SealChecks,
)
from triage.domain.signed_document import SignedDocument
from triage.ledger.entry import Entry


@area("dispatches")
class FakeDispatchRepository(FakeTables):
    """``DispatchRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.dispatches: dict[str, Dispatch] = {}
        self.notes: dict[str, bytes] = {}

    # -- the port ------------------------------------------------------------------------------
    def get(self, dispatch_id: str) -> Dispatch | None:
        return self.dispatches.get(dispatch_id)

    def page(
        self, owner: str | None, state: DispatchState | None, offset: int, limit: int
    ) -> tuple[list[DispatchSummary], int]:
        found = [
            d
            for d in self.dispatches.values()
            if (owner is None or d.asset_owner == owner) and (state is None or d.state is state)
        ]
        found.sort(key=lambda d: d.id)
        found.sort(key=lambda d: d.created_at, reverse=True)
        return [
            DispatchSummary(
                d.id,
                d.asset_owner,
                d.destination,
                d.reference,
                d.state,
                d.created_at,
                len(d.devices),
            )
            for d in found[offset : offset + limit]
        ], len(found)

    def holding(self, job_id: str) -> str | None:
        for d in self.dispatches.values():
            if d.state is not DispatchState.CANCELLED and any(
                p.job_id == job_id for p in d.devices
            ):
                return d.id
        return None

    def note(self, dispatch_id: str) -> bytes | None:
        return self.notes.get(dispatch_id)

    # -- projections ---------------------------------------------------------------------------
    def _change(self, entry: Entry, **changes: object) -> None:
        found = self.dispatches[entry.subject.id]
        self.dispatches[entry.subject.id] = dataclasses.replace(found, **changes)  # type: ignore[arg-type]

    @projects("dispatch.created")
    def _created(self, entry: Entry, index: int) -> None:
        self.dispatches[entry.subject.id] = Dispatch(
            entry.subject.id,
            entry.data["asset_owner"],
            Destination(entry.data["destination"]),
            entry.data.get("reference"),
            DispatchState.OPEN,
            entry.actor.id,
            entry.at,
        )

    @projects("dispatch.device_packed")
    def _packed(self, entry: Entry, index: int) -> None:
        data = entry.data
        packed = PackedDevice(
            data["device_id"],
            data["job_id"],
            data.get("seal_serial"),
            SealChecks.from_json(data["checks"]),
            entry.actor.id,
            entry.at,
        )
        devices = self.dispatches[entry.subject.id].devices
        self._change(entry, devices=(*devices, packed))

    @projects("dispatch.device_unpacked")
    def _unpacked(self, entry: Entry, index: int) -> None:
        devices = self.dispatches[entry.subject.id].devices
        kept = tuple(d for d in devices if d.device_id != entry.data["device_id"])
        self._change(entry, devices=kept)

    @projects("dispatch.pack_refused")
    def _refused(self, entry: Entry, index: int) -> None:
        data = entry.data
        refused = RefusedPacking(
            data["device_id"],
            data["seal_serial"],
            SealChecks.from_json(data["checks"]),
            data["exception_id"],
            entry.actor.id,
            entry.at,
        )
        self._change(entry, refused=(*self.dispatches[entry.subject.id].refused, refused))

    @projects("dispatch.cancelled")
    def _cancelled(self, entry: Entry, index: int) -> None:
        self._change(entry, state=DispatchState.CANCELLED)

    @projects("dispatch.closed")
    def _closed(self, entry: Entry, index: int) -> None:
        data = entry.data
        signed = SignedDocument(NOTE_KIND, data["document"], data["signature"])
        self.notes[entry.subject.id] = signed.to_json()
        self._change(
            entry,
            state=DispatchState.CLOSED,
            closed_at=entry.at,
            manifest_digest=data["manifest_sha256"],
            note_digest=data["note_sha256"],
        )

    @projects("dispatch.handed_over")
    def _handed_over(self, entry: Entry, index: int) -> None:
        data = entry.data
        handover = Handover(
            data["carrier"], data["vehicle"], data["container_seal"], entry.actor.id, entry.at
        )
        self._change(entry, state=DispatchState.HANDED_OVER, handover=handover)

    @projects("dispatch.acknowledged")
    def _acknowledged(self, entry: Entry, index: int) -> None:
        data = entry.data
        ack = Acknowledgement(
            entry.actor.id, data["how"], data.get("acknowledgement_sha256"), entry.at
        )
        found = tuple(
            Discrepancy(d["device_id"], DiscrepancyKind(d["kind"]), d["text"], d["exception_id"])
            for d in data["discrepancies"]
        )
        self._change(
            entry, state=DispatchState.ACKNOWLEDGED, acknowledgement=ack, discrepancies=found
        )
