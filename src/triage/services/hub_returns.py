"""Communications hubs back to the DCC (issue 20 item 4).

A communications hub (a CHF, and the GPF in the same box) belongs to the DCC. Its triage job
ends with a fault or no-fault return to the DCC (``device.returned_to_dcc``: the DUIS reason
fields and the DCC's return reference), and for a CHF the matching DUIS 8.14.3 / 8.14.4 request
is produced for the supplier in the same transaction (``duis_requests.write_request``: validated
against the schema before it is written). The hub then leaves in a dispatch to the DCC under that
reference, like any return. A hub never takes a meter's reset path unless the facility's hub
policy (``hub.policy_set``, kept as data; by default no) allows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from triage.domain.caller import Caller
from triage.domain.device import Device, DeviceType
from triage.domain.disposal import device_facts
from triage.domain.hub_return import (
    HubPolicy,
    HubReturn,
    HubReturnRecord,
    ReturnKind,
    is_hub,
)
from triage.domain.job import TriageJob
from triage.domain.lifecycle import Action, step
from triage.domain.roles import Permission
from triage.duis.requests import ChfFaultReturn, ChfNoFaultReturn, ServiceRequest
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref
from triage.services import duis_requests
from triage.services.common import device_ref, job_step, make_entry, record_and_reload, require_step
from triage.services.history import parse_device_id
from triage.services.ports import DuisValidator, UnitOfWork, UnitOfWorkFactory

POLICY_SET = "hub.policy_set"
MAX_LISTED = 200
PURPOSE = "hub_return"  # the purpose of the 8.14.x requests produced with a return


def return_hub(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    schema: DuisValidator,
    device: str,
    kind: str,
    return_type: str,
    dcc_reference: str,
    **fields: str | None,
) -> HubReturnRecord:
    """Return the hub's open job to the DCC (a supervisor): ``kind`` fault or no_fault, the
    DUIS ``return_type``, the DCC's return reference, and (``fields``) fault_reason,
    connection_method and other_device_id of a fault return, user_ref_id, incident_reference
    and additional_information of either. Refused for a device that is not a hub, or that has
    no open job; for a CHF, the 8.14.x request is produced with it."""
    require_step(caller, Action.RETURN_TO_DCC)
    device_id = parse_device_id(device)
    unknown = sorted(set(fields) - set(OPTIONAL_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a field of a hub's return", field=unknown[0])
    details = HubReturn.parse(kind, return_type, dcc_reference, **fields)
    if details.other_device_id == device_id:
        raise InvalidInput(
            "other_device_id: the other device is the one the hub was connected to, not the "
            "hub itself",
            field="other_device_id",
        )
    with uow_factory(write=True) as uow:
        found = uow.devices.get(device_id)
        if found is None:
            raise NotFound(f"device {device_id} is not in the register")
        if not is_hub(found.type):
            raise Conflict(
                f"device {device_id} is a {found.type.name}, not a communications hub: only a "
                "CHF (or its GPF) goes back to the DCC; a meter is returned to its manufacturer "
                "or destroyed (triage disposal return / destroy)"
            )
        job = uow.jobs.open_for_device(device_id)
        if job is None:
            raise Conflict(
                f"communications hub {device_id} has no open triage job: scan it in first"
            )
        step(job.state, Action.RETURN_TO_DCC)  # a hub not decided or set aside is refused first
        data: dict[str, Any] = {
            **details.as_data(),
            **device_facts(found.manufacturer, found.model, int(found.type), found.asset_owner),
        }
        request_id = _request(uow, caller, schema, found, job.id, details)
        if request_id is not None:
            data["request_id"] = request_id
        entry = job_step(uow, caller, job, Action.RETURN_TO_DCC, data)
        return record_and_reload(uow, [entry], lambda: uow.hub_returns.for_job(job.id))


# The optional fields of a return, by the names a form or a request body gives them.
OPTIONAL_FIELDS = (
    "fault_reason",
    "connection_method",
    "other_device_id",
    "user_ref_id",
    "incident_reference",
    "additional_information",
)


def _request(
    uow: UnitOfWork,
    caller: Caller,
    schema: DuisValidator,
    hub: Device,
    job_id: str,
    details: HubReturn,
) -> str | None:
    """Produce the CHF's 8.14.3 / 8.14.4 request in the caller's transaction (validated first:
    a request that does not validate is never written, and nothing is recorded); its RequestID.
    A GPF goes back in its CHF's box: the request names the CHF, so none is produced for it."""
    if hub.type is not DeviceType.CHF:
        return None
    optional = {
        "user_ref_id": details.user_ref_id,
        "incident_reference": details.incident_reference,
        "additional_information": details.additional_information,
    }
    request: ServiceRequest
    if details.kind is ReturnKind.FAULT:
        assert details.connection_method is not None
        assert details.fault_reason is not None
        request = ChfFaultReturn(
            hub.id.value,
            details.return_type.value,
            details.other_device_id or "",
            details.connection_method.value,
            details.fault_reason.value,
            **optional,
        )
    else:
        request = ChfNoFaultReturn(hub.id.value, details.return_type.value, **optional)
    produced = duis_requests.write_request(
        uow,
        caller,
        schema,
        request,
        purpose=PURPOSE,
        subject=device_ref(hub.id.value),
        job_id=job_id,
    )
    return produced.request_id


# -- the hub policy ----------------------------------------------------------------------------


def offered(uow: UnitOfWork, job: TriageJob, actions: Iterable[Action]) -> set[Action]:
    """Of the lifecycle's ``actions`` from the job's state, those its device may take: the
    route back to the DCC only for a hub, and a reset for a hub only when the policy allows."""
    device = uow.devices.get(job.device_id)
    hub = device is not None and is_hub(device.type)
    left = set(actions)
    if not hub:
        left.discard(Action.RETURN_TO_DCC)
    elif not uow.hub_returns.policy(uow.facility_id).allow_reset:
        left.discard(Action.AUTHORISE_RESET)
    return left


def check_reset(uow: UnitOfWork, device: Device) -> None:
    """Refuse a reset of a communications hub unless the facility's hub policy allows it
    (called where a reset is authorised, in its transaction)."""
    if not is_hub(device.type):
        return
    if uow.hub_returns.policy(uow.facility_id).allow_reset:
        return
    raise Conflict(
        f"device {device.id.value} is a {device.type.name}: a communications hub belongs to "
        "the DCC and goes back to it (triage hub return, or the device page's 'Return to the "
        "DCC'); the facility's hub policy does not let a hub take a meter's reset path "
        "(an administrator changes it: triage hub policy --allow-reset)"
    )


def policy(uow_factory: UnitOfWorkFactory, caller: Caller) -> HubPolicy:
    """The facility's hub policy."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.hub_returns.policy(uow.facility_id)


def set_policy(uow_factory: UnitOfWorkFactory, caller: Caller, allow_reset: bool) -> HubPolicy:
    """Allow a hub to be reset like a meter, or not (an administrator; recorded as data)."""
    caller.require(Permission.POLICY_MANAGE)
    if not isinstance(allow_reset, bool):
        raise InvalidInput("allow_reset: true or false", field="allow_reset")
    with uow_factory(write=True) as uow:
        if uow.hub_returns.policy(uow.facility_id).allow_reset == allow_reset:
            raise InvalidInput("nothing to change: the hub policy is already so")
        subject = Ref("facility", uow.facility_id)
        entry = make_entry(uow, caller, POLICY_SET, subject, {"allow_reset": allow_reset})
        return record_and_reload(uow, [entry], lambda: uow.hub_returns.policy(uow.facility_id))


# -- reads -------------------------------------------------------------------------------------


def returns(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str | None = None
) -> list[HubReturnRecord]:
    """Hubs returned to the DCC, newest first (of the caller's asset owner only, for a person
    of one; of one device, with ``device``)."""
    scope = caller.owner_scope()
    device_id = parse_device_id(device) if device else None
    with uow_factory(write=False) as uow:
        return uow.hub_returns.returns(scope, device_id, MAX_LISTED)


@dataclass(frozen=True)
class HubOverview:
    """The hubs page: the latest returns to the DCC and the hub policy."""

    returns: list[HubReturnRecord]
    policy: HubPolicy


def overview(uow_factory: UnitOfWorkFactory, caller: Caller) -> HubOverview:
    """The latest returns to the DCC and the hub policy, read in one transaction."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return HubOverview(
            uow.hub_returns.returns(scope, None, MAX_LISTED),
            uow.hub_returns.policy(uow.facility_id),
        )
