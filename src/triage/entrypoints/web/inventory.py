"""Pages: Smart Metering Inventory readings (DUIS 8.2 in) (issue 20, A)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site


def register(router: APIRouter, site: Site) -> None:
    """Add the pages of this area to ``router``."""
