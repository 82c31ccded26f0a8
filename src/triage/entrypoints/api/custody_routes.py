"""REST endpoints: Device custody: locations, moves, device stocktakes and idle devices
(issue 19 item 5).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_custody_router(application: App) -> APIRouter:
    """Nothing yet."""
    return APIRouter(prefix="/api/v1")
