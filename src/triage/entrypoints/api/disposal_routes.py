"""REST endpoints: Destruction and return evidence and certificates of destruction
(issue 19 item 4).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_disposal_router(application: App) -> APIRouter:
    """Nothing yet."""
    return APIRouter(prefix="/api/v1")
