"""`triage incident`: the incident and vulnerability register (issue 20, D)."""

from __future__ import annotations

import typer

from triage.entrypoints.cli import incident_reports

app = typer.Typer(help="The incident and vulnerability register.", no_args_is_help=True)

incident_reports.register(app)
