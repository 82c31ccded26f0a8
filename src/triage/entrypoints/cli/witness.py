"""`triage witness`: a C2SP tlog-witness of facilities' logs, and a monitor that follows one."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="A witness that cosigns facilities' checkpoints, and a monitor that follows a log.",
    no_args_is_help=True,
)
