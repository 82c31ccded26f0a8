"""REST endpoints: DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4) (issue 20, B).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_duis_router(application: App) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
