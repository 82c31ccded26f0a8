"""REST endpoints: the incident and vulnerability register (issue 20, D).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_incident_router(application: App) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
