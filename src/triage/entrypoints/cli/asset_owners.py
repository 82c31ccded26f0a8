"""`triage asset-owner`: Asset owners as parties and their people's owner-scoped reads
(issue 19 item 1)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Asset owners as parties and their people's owner-scoped reads.",
    no_args_is_help=True,
)
