"""Documents the facility hands out: a device's receipt, its triage certificate (released) or
certificate of destruction (destroyed), and the labels of seal bags and device bags."""

from __future__ import annotations

from collections.abc import Sequence

from triage.domain.caller import Caller
from triage.domain.seals import describe_class
from triage.services import history, seals
from triage.services.issuer import Issuer
from triage.services.ports import (
    DeviceLabel,
    Document,
    DocumentRenderer,
    SealLabel,
    UnitOfWorkFactory,
)


def receipt(uow_factory: UnitOfWorkFactory, caller: Caller, device: str, issuer: Issuer) -> str:
    """A device's offline receipt, signed by this facility."""
    return history.device_receipt(uow_factory, caller, device, issuer.origin, issuer.signer_key)


def certificate(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    device: str,
    issuer: Issuer,
    renderer: DocumentRenderer,
) -> Document:
    """A released device's triage certificate (PDF), built from its verified receipt."""
    signed = receipt(uow_factory, caller, device, issuer)
    return renderer.certificate(device, signed, issuer.verifier_key, issuer.facility.name)


def seal_labels(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    renderer: DocumentRenderer,
    facility_name: str,
    *,
    batch_id: str | None = None,
    first: str | None = None,
    last: str | None = None,
    serials: Sequence[str] | None = None,
) -> Document:
    """Labels (PDF, one per seal) for the seal bags of a batch or of some seals."""
    found = seals.seals_for_labels(
        uow_factory, caller, batch_id=batch_id, first=first, last=last, serials=serials
    )
    labels = [
        SealLabel(
            s.serial,
            s.batch_id,
            describe_class(batch.seal_class, batch.class_description),
            batch.supplier,
        )
        for s, batch in found
    ]
    return renderer.seal_labels(labels, facility_name)


def device_label(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    renderer: DocumentRenderer,
    facility_name: str,
) -> Document:
    """The label (PDF) for a device's bag: its Device ID, seal and job."""
    job, device = seals.job_for_label(uow_factory, caller, job_id)
    label = DeviceLabel(device.id.value, device.type.name, job.id, job.seal_serial, facility_name)
    return renderer.device_labels([label])


def latest_device_label(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    device: str,
    renderer: DocumentRenderer,
    facility_name: str,
) -> Document:
    """The label (PDF) for a device's bag, for its latest triage job (open or closed)."""
    job_id = seals.latest_job_id(uow_factory, caller, device)
    return device_label(uow_factory, caller, job_id, renderer, facility_name)
