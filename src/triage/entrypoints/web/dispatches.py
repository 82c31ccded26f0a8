"""Web pages: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site


def register(router: APIRouter, site: Site) -> None:
    """Nothing yet."""
