"""REST endpoints: the incident register's exports, CSV and PDF (issue 20, E).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_incident_report_router(application: App) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
