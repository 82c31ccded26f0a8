"""REST endpoints: Asset owners as parties and their people's owner-scoped reads (issue 19 item 1).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from fastapi import APIRouter

from triage.bootstrap import App


def build_asset_owner_router(application: App) -> APIRouter:
    """Nothing yet."""
    return APIRouter(prefix="/api/v1")
