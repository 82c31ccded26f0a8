"""`triage disposal`: Destruction and return evidence and certificates of destruction
(issue 19 item 4)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Destruction and return evidence and certificates of destruction.",
    no_args_is_help=True,
)
