"""Web pages: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site


def register(router: APIRouter, site: Site) -> None:
    """Nothing yet."""
