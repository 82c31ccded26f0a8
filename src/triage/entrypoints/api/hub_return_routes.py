"""REST endpoints: communications hubs back to the DCC (issue 20, C).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.schemas.hub_returns import (
    HubPolicyIn,
    HubPolicyOut,
    HubReturnIn,
    HubReturnOut,
)
from triage.services import hub_returns


def build_hub_return_router(application: App) -> APIRouter:
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["hubs"], route_class=ThreadedRoute)

    @router.get("/hubs/returns", **access("service"))
    def list_returns(
        caller: Operator, device: Annotated[str | None, Query(max_length=64)] = None
    ) -> list[HubReturnOut]:
        """Communications hubs returned to the DCC, newest first: every one for the facility's
        readers, its own devices' for a person of an asset owner."""
        return [HubReturnOut.of(r) for r in hub_returns.returns(uow, caller, device)]

    @router.post(
        "/hubs/{device_id}/return",
        status_code=201,
        responses=problems.responses(404, 409),
        **requires(application, Permission.DEVICE_DISPOSE),
    )
    def return_hub(device_id: str, body: HubReturnIn, caller: Operator) -> HubReturnOut:
        """Return the hub's open triage job to the DCC (a supervisor), with its fault or
        no-fault reason and the DCC's return reference; for a CHF the matching DUIS 8.14.3 /
        8.14.4 request is produced for the supplier in the same transaction."""
        recorded = hub_returns.return_hub(
            uow,
            caller,
            application.duis_schema(),
            device_id,
            body.kind,
            body.return_type,
            body.dcc_reference,
            fault_reason=body.fault_reason,
            connection_method=body.connection_method,
            other_device_id=body.other_device_id,
            user_ref_id=body.user_ref_id,
            incident_reference=body.incident_reference,
            additional_information=body.additional_information,
        )
        return HubReturnOut.of(recorded)

    @router.get("/hubs/policy", **requires(application, Permission.TRIAGE_READ))
    def get_policy(caller: Operator) -> HubPolicyOut:
        """The facility's hub policy: whether a hub may take a meter's reset path."""
        return HubPolicyOut.of(hub_returns.policy(uow, caller))

    @router.put("/hubs/policy", **requires(application, Permission.POLICY_MANAGE))
    def put_policy(body: HubPolicyIn, caller: Operator) -> HubPolicyOut:
        """Allow a hub to be reset like a meter, or not (an administrator)."""
        return HubPolicyOut.of(hub_returns.set_policy(uow, caller, body.allow_reset))

    return router
