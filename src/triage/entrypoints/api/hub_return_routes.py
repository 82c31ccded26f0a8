"""REST endpoints: communications hubs back to the DCC (issue 20, C).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_hub_return_router(application: App) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
