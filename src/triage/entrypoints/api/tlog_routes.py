"""The ledger's read API per C2SP tlog-tiles: checkpoint, hash tiles and entry bundles."""

from __future__ import annotations

from fastapi import APIRouter

from triage.bootstrap import App


def build_tlog_router(application: App) -> APIRouter:
    """The tile read API of one facility's ledger."""
    return APIRouter()
