"""REST endpoints: Smart Metering Inventory readings (DUIS 8.2 in) (issue 20, A).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.duis.xml import MAX_BYTES
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.duis_files import configured_schema
from triage.entrypoints.request_bodies import body_limit, limited_body
from triage.entrypoints.schemas.inventory import (
    InventoryImportOut,
    InventoryReadingOut,
    SmiPolicyIn,
    SmiPolicyOut,
)
from triage.services import inventory

XML_BODY = {
    "requestBody": {
        "content": {"application/xml": {"schema": {"type": "string"}}},
        "required": True,
        "description": "The DCC's DUIS 8.2 Read Inventory response (sr:Response).",
    }
}


def build_inventory_router(application: App) -> APIRouter:
    """The Smart Metering Inventory routes of one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["inventory"], route_class=ThreadedRoute)
    upload = requires(application, Permission.INVENTORY_IMPORT)
    upload_options = {
        **upload,
        "openapi_extra": {**upload["openapi_extra"], **XML_BODY},
        "responses": problems.responses(409),
    }

    def _import(caller: Caller, data: bytes, reference: str | None) -> InventoryImportOut:
        done = inventory.import_response(
            uow,
            caller,
            application.evidence_store(),
            data,
            configured_schema(application),
            reference,
        )
        return InventoryImportOut.model_validate(done)

    @router.post("/inventory/responses", status_code=201, **upload_options)
    @body_limit(MAX_BYTES)
    async def import_response(
        request: Request,
        caller: Operator,
        reference: Annotated[str | None, Query(max_length=100)] = None,
    ) -> InventoryImportOut:
        """Import a DCC Read Inventory (8.2) response: one outcome per device listed, with
        each difference from the manifest raised as an exception."""
        data = await limited_body(request, MAX_BYTES)
        return await run_in_threadpool(_import, caller, data, reference)

    @router.get("/devices/{device_id}/inventory", **access("service"))
    def device_readings(device_id: str, caller: Operator) -> list[InventoryReadingOut]:
        """What the DCC's Read Inventory responses said of the device, oldest first (an asset
        owner's person: its own devices only)."""
        found = inventory.readings(uow, caller, device_id)
        return [InventoryReadingOut.model_validate(r) for r in found]

    @router.get("/inventory/smi-policy", **requires(application, Permission.TRIAGE_READ))
    def smi_policy(caller: Operator) -> SmiPolicyOut:
        """The Smart Metering Inventory statuses in which the facility refuses triage."""
        return SmiPolicyOut(refuse=inventory.smi_policy(uow, caller))

    @router.put(
        "/inventory/smi-policy",
        responses=problems.responses(422),
        **requires(application, Permission.POLICY_MANAGE),
    )
    def set_smi_policy(body: SmiPolicyIn, caller: Operator) -> SmiPolicyOut:
        """Set the statuses in which triage is refused (recorded in the ledger)."""
        return SmiPolicyOut(refuse=inventory.set_smi_policy(uow, caller, body.refuse))

    return router
