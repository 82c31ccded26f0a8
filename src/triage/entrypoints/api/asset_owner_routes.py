"""REST endpoints of asset owners as parties (issue 19 item 1): registered and changed by an
administrator, read by the facility's people, and by an owner's own people for their own party.

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.schemas.asset_owners import AssetOwnerChange, AssetOwnerIn, AssetOwnerOut
from triage.entrypoints.schemas.common import Page
from triage.services import asset_owners


def build_asset_owner_router(application: App) -> APIRouter:
    """The asset owners' routes of one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["asset owners"], route_class=ThreadedRoute)
    manage = requires(application, Permission.ASSET_OWNER_MANAGE)

    @router.get("/asset-owners", **access("service"))
    def list_owners(caller: Operator, offset: Offset = 0, limit: Limit = 50) -> Page[AssetOwnerOut]:
        """The asset owners, by id: every one for the facility's readers, its own for a person
        of an asset owner."""
        found = asset_owners.owners(uow, caller)
        return Page(
            items=[AssetOwnerOut.model_validate(o) for o in found[offset : offset + limit]],
            total=len(found),
            offset=offset,
            limit=limit,
        )

    @router.post("/asset-owners", status_code=201, responses=problems.responses(409), **manage)
    def register_owner(body: AssetOwnerIn, caller: Operator) -> AssetOwnerOut:
        """Register an asset owner (an administrator), before its first consignment."""
        found = asset_owners.register(
            uow, caller, body.id, body.name, body.contact, body.verifier_key
        )
        return AssetOwnerOut.model_validate(found)

    @router.get("/asset-owners/{owner_id}", **access("service"))
    def get_owner(owner_id: str, caller: Operator) -> AssetOwnerOut:
        """One asset owner (404 for another owner's person: they are not told it exists)."""
        return AssetOwnerOut.model_validate(asset_owners.owner(uow, caller, owner_id))

    @router.patch("/asset-owners/{owner_id}", **manage)
    def change_owner(owner_id: str, body: AssetOwnerChange, caller: Operator) -> AssetOwnerOut:
        """Change an asset owner's name, contact, verifier key or whether it is active (an
        administrator); each change is a ledger entry."""
        found = asset_owners.update(
            uow,
            caller,
            owner_id,
            name=body.name,
            contact=body.contact,
            verifier_key=body.verifier_key,
            active=body.active,
        )
        return AssetOwnerOut.model_validate(found)

    return router
