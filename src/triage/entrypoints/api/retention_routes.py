"""REST endpoints: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_retention_router(application: App) -> APIRouter:
    """Nothing yet."""
    return APIRouter(prefix="/api/v1")
