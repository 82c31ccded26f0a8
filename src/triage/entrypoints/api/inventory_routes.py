"""REST endpoints: Smart Metering Inventory readings (DUIS 8.2 in) (issue 20, A).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_inventory_router(application: App) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
