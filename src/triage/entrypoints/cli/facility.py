"""`triage facility`: the facility's triage settings."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit
from triage.entrypoints.cli.session import session

app = typer.Typer(help="The facility's settings.", no_args_is_help=True)


@app.command("settings")
def settings(
    token: Token = "",
    max_reset_attempts: Annotated[
        int | None, typer.Option(help="Reset attempts per job before quarantine.")
    ] = None,
    work_order_minutes: Annotated[
        int | None, typer.Option(help="How long a work order stays valid.")
    ] = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or change the facility's triage settings (changes are ledger entries)."""
    from triage.services import facility as facility_service

    with session(data_dir, token) as s:
        if max_reset_attempts is None and work_order_minutes is None:
            attempts, minutes = facility_service.current_settings(s.uow, s.caller)
        else:
            attempts, minutes = facility_service.change_settings(
                s.uow, s.caller, max_reset_attempts, work_order_minutes
            )
    emit(
        as_json,
        {"max_reset_attempts": attempts, "work_order_minutes": minutes},
        f"max reset attempts {attempts}; work orders valid for {minutes} minutes",
    )
