"""`triage hub`: communications hubs back to the DCC (issue 20, C)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Communications hubs back to the DCC.", no_args_is_help=True)
