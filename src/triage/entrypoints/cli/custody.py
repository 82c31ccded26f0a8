"""`triage custody`: Device custody: locations, moves, device stocktakes and idle devices
(issue 19 item 5)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Device custody: locations, moves, device stocktakes and idle devices.",
    no_args_is_help=True,
)
