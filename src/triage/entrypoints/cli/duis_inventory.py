"""`triage duis ...`: Read Inventory responses (8.2) in (issue 20, A)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``triage duis``."""
