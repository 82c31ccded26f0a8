"""Assurance: the control catalogue in force, the provider's own controls, which controls
apply, and the evidence for them: produced by the system from its own record, or uploaded.

Every change is a ledger entry; every evidence file is stored by its SHA-256, which the ledger
records, so an assessor can prove a file is the one recorded and see when one no longer is.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from triage.domain.assurance_records import (
    AdoptedCatalogue,
    Applicability,
    CheckedEvidence,
    ControlsInForce,
    ControlStatus,
    Evidence,
    FlaggedEvidence,
)
from triage.domain.caller import Caller
from triage.domain.catalogue import (
    Catalogue,
    Control,
    ControlReadiness,
    EvidenceRecord,
    control_from,
    evidence_filename,
    parse_catalogue,
    readiness,
    upload_name,
)
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref
from triage.services import retention
from triage.services.common import make_entry
from triage.services.ports import FileStore, UnitOfWork, UnitOfWorkFactory

ASSURANCE = Caller.system("assurance")
_EVERYTHING = 10**9


# -- the catalogue ---------------------------------------------------------------------------


def _in_force(uow: UnitOfWork) -> tuple[Catalogue, AdoptedCatalogue | None]:
    adopted = uow.assurance.adopted_catalogue()
    if adopted is None:
        return uow.packaged.catalogue(), None
    return parse_catalogue(adopted.text), adopted


def _all_controls(uow: UnitOfWork) -> tuple[Catalogue, AdoptedCatalogue | None, list[Control]]:
    catalogue, adopted = _in_force(uow)
    return catalogue, adopted, [*catalogue.controls, *uow.assurance.provider_controls()]


def controls_in_force(uow: UnitOfWork) -> list[ControlStatus]:
    """Every control (the catalogue's and the provider's) with whether it applies."""
    _, _, found = _all_controls(uow)
    not_applicable = uow.assurance.not_applicable()
    return [ControlStatus(c, c.id not in not_applicable, not_applicable.get(c.id)) for c in found]


def catalogue_parts(
    uow_factory: UnitOfWorkFactory, caller: Caller
) -> tuple[Catalogue, list[Control], dict[str, str]]:
    """The catalogue in force, the provider's controls and the not-applicable reasons (what an
    OSCAL catalog is made of)."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        catalogue, _, found = _all_controls(uow)
        not_applicable = uow.assurance.not_applicable()
    return catalogue, [c for c in found if c.provider], not_applicable


def controls(uow_factory: UnitOfWorkFactory, caller: Caller) -> ControlsInForce:
    """The catalogue in force (or the packaged one, not yet adopted), every control with
    whether it applies, and the provider's own controls."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        catalogue, adopted = _in_force(uow)
        listing = controls_in_force(uow)
    packaged = uow_factory.packaged.catalogue()
    return ControlsInForce(catalogue, adopted, packaged, tuple(listing))


def adopt_catalogue(
    uow_factory: UnitOfWorkFactory, caller: Caller, text: str | None = None
) -> Catalogue:
    """Put a catalogue in force: the packaged one, or another version's YAML text."""
    caller.require(Permission.ASSURANCE_MANAGE)
    if text is not None and len(text) > 1024 * 1024:
        raise InvalidInput("catalogue: larger than 1 MiB")
    chosen = uow_factory.packaged.catalogue() if text is None else parse_catalogue(text)
    source = text if text is not None else uow_factory.packaged.catalogue_text()
    with uow_factory(write=True) as uow:
        current = uow.assurance.adopted_catalogue()
        if current is not None and current.sha256 == chosen.sha256:
            raise Conflict(f"catalogue {chosen.name} {chosen.version} is already in force")
        own = {c.id for c in uow.assurance.provider_controls()}
        clash = sorted(own & {c.id for c in chosen.controls})
        if clash:
            raise Conflict(f"the catalogue's ids clash with the provider's: {', '.join(clash)}")
        data = {
            "name": chosen.name,
            "version": chosen.version,
            "sha256": chosen.sha256,
            "controls": len(chosen.controls),
            "text": source,
        }
        uow.ledger.record(
            [
                make_entry(
                    uow, caller, "assurance.catalogue_adopted", Ref("catalogue", chosen.name), data
                )
            ]
        )
        uow.commit()
    return chosen


def add_control(
    uow_factory: UnitOfWorkFactory, caller: Caller, definition: Mapping[str, Any]
) -> Control:
    """Add a control of the provider's own (id starting 'P-')."""
    caller.require(Permission.ASSURANCE_MANAGE)
    control = control_from(dict(definition), "control", provider=True)
    with uow_factory(write=True) as uow:
        _, _, found = _all_controls(uow)
        if any(c.id == control.id for c in found):
            raise Conflict(f"there is already a control {control.id}")
        data = {"control": {k: v for k, v in control.to_json().items() if k in _DEFINITION}}
        uow.ledger.record(
            [make_entry(uow, caller, "assurance.control_added", Ref("control", control.id), data)]
        )
        uow.commit()
    return control


_DEFINITION = ("id", "clause", "group", "title", "requirement", "evidence")


def set_applicable(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    control_id: str,
    applicable: bool,
    reason: str,
) -> Applicability:
    """Mark a control not applicable to this facility, or applicable again, with a reason."""
    caller.require(Permission.ASSURANCE_MANAGE)
    text = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        _, _, found = _all_controls(uow)
        if not any(c.id == control_id for c in found):
            raise NotFound(f"no control {control_id!r}")
        currently = control_id not in uow.assurance.not_applicable()
        if currently == applicable:
            state = "applicable" if applicable else "not applicable"
            raise Conflict(f"control {control_id} is already {state}")
        entry_type = (
            "assurance.control_applicable" if applicable else "assurance.control_not_applicable"
        )
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    entry_type,
                    Ref("control", control_id),
                    {"control_id": control_id, "reason": text},
                )
            ]
        )
        uow.commit()
    return Applicability(control_id, applicable, text)


# -- uploaded evidence ----------------------------------------------------------------------------


def upload(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    *,
    name: str,
    title: str,
    filename: str,
    media_type: str,
    content: BinaryIO,
    control_ids: Sequence[str] = (),
) -> Evidence:
    """Keep a document the provider supplies (a policy, a certificate, a pen test report)."""
    caller.require(Permission.ASSURANCE_MANAGE)
    filed_as = upload_name(name)
    shown = evidence_filename(filename)
    heading = " ".join(title.split())
    if not 3 <= len(heading) <= 200:
        raise InvalidInput("title: 3-200 characters saying what the document is")
    media = media_type.strip().lower() or "application/octet-stream"
    if len(media) > 100 or "/" not in media:
        raise InvalidInput("media_type: a media type such as application/pdf")
    with uow_factory(write=False) as uow:
        _, _, found = _all_controls(uow)
    known = {c.id for c in found}
    unknown = [c for c in control_ids if c not in known]
    if unknown:
        raise NotFound(f"no control {', '.join(unknown)}")
    sha256, size = store.put_stream(content)
    with uow_factory(write=True) as uow:
        evidence_id = str(uuid.uuid4())
        data = {
            "evidence_id": evidence_id,
            "name": filed_as,
            "title": heading,
            "sha256": sha256,
            "size": size,
            "media_type": media,
            "filename": shown,
            "control_ids": sorted(set(control_ids)),
        }
        uow.ledger.record(
            [
                make_entry(
                    uow, caller, "assurance.evidence_uploaded", Ref("evidence", evidence_id), data
                )
            ]
        )
        recorded = uow.assurance.evidence(evidence_id)
        uow.commit()
    assert recorded is not None
    return recorded


def evidence_list(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    name: str | None,
    offset: int,
    limit: int,
) -> tuple[list[CheckedEvidence], int]:
    """Evidence, oldest first, each with whether its file still matches its SHA-256."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        items, total = uow.assurance.evidence_list(name, offset, limit)
    return [CheckedEvidence(item, store.check(item.sha256)) for item in items], total


def evidence_file(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, evidence_id: str
) -> tuple[Evidence, bytes]:
    """One piece of evidence and its file, refused when the file no longer matches."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        found = uow.assurance.evidence(evidence_id)
    if found is None:
        raise NotFound(f"no evidence {evidence_id!r}")
    state = store.check(found.sha256)
    gone = None if state == "ok" else retention.purged_notice(uow_factory, found.sha256)
    if gone is not None:
        raise NotFound(gone)
    if state != "ok":
        raise Conflict(
            f"the file of evidence {evidence_id} is {state}: it no longer matches the SHA-256 "
            f"{found.sha256} recorded in the ledger"
        )
    return found, store.read(found.sha256)


def check_files(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore
) -> list[FlaggedEvidence]:
    """Every evidence file against its recorded SHA-256; the ones that do not match."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        items, _ = uow.assurance.evidence_list(None, 0, _EVERYTHING)
    flagged = []
    for item in items:
        state = store.check(item.sha256)
        if state != "ok":
            flagged.append(FlaggedEvidence(item.id, item.name, item.sha256, state))
    return flagged


def control_readiness(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore
) -> list[ControlReadiness]:
    """Per control: its evidence fresh, stale, missing or altered, and the control's status."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        _, _, found = _all_controls(uow)
        not_applicable = uow.assurance.not_applicable()
        latest = uow.assurance.latest_evidence()
    records = [
        EvidenceRecord(item.id, item.kind, item.name, item.recorded_at, store.check(item.sha256))
        for item in latest
    ]
    return readiness(found, not_applicable, records, uow_factory.clock.now())
