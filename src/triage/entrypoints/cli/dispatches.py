"""`triage dispatch`: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Dispatches, manifests, VVTT checks, handovers, acknowledgements.",
    no_args_is_help=True,
)
