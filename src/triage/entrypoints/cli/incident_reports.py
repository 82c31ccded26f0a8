"""`triage incident export ...`: the register as CSV and PDF (issue 20, E)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the export commands to ``triage incident``."""
