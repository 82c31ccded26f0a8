"""REST endpoints: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_dispatch_router(application: App) -> APIRouter:
    """Nothing yet."""
    return APIRouter(prefix="/api/v1")
