"""`triage incident export ...`: the register as CSV, PDF or JSON (issue 20, E)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from triage.entrypoints.cli.options import DataDir, Token
from triage.entrypoints.cli.session import session


class ExportFormat(StrEnum):
    CSV = "csv"
    PDF = "pdf"
    JSON = "json"


def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the register.")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="csv, pdf or json.")
    ] = ExportFormat.CSV,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write the incident and vulnerability register for an assessor: every incident with its
    notifications (deadline, when made, reference), what is overdue now, and closures (needs
    incident.read)."""
    from triage.services import incident_reports

    with session(data_dir, token) as s:
        if export_format is ExportFormat.CSV:
            text, _ = incident_reports.register_csv(s.uow, s.caller)
            content = text.encode("utf-8")
        elif export_format is ExportFormat.PDF:
            content = incident_reports.register_pdf(
                s.uow, s.caller, s.app.register_printer, s.app.facility.name
            ).content
        else:
            found = incident_reports.register(s.uow, s.caller).to_json()
            content = (json.dumps(found, indent=2, sort_keys=True) + "\n").encode("utf-8")
    out.write_bytes(content)
    typer.echo(f"written to {out}")


def register(app: typer.Typer) -> None:
    """Add the export commands to ``triage incident``."""
    app.command("export")(export)
