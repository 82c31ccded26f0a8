"""`triage duis ...`: Update Inventory (8.4), Decommission (8.3) and hub return (8.14.x)
requests out (issue 20, B)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``triage duis``."""
