"""Pages: DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4) (issue 20, B)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site


def register(router: APIRouter, site: Site) -> None:
    """Add the pages of this area to ``router``."""
