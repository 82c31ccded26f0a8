"""Web pages: Destruction and return evidence and certificates of destruction (issue 19 item 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site


def register(router: APIRouter, site: Site) -> None:
    """Nothing yet."""
