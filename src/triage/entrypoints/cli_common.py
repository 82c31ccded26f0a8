"""What every authenticated `triage` command shares: the token option and who it identifies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.errors import Unauthenticated
from triage.services import people

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $TRIAGE_DATA_DIR or ./var)."),
]
Reason = Annotated[str, typer.Option(help="Why (recorded in the ledger).")]

Token = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="TRIAGE_TOKEN",
        help="Your API token (default: $TRIAGE_TOKEN; get one with `triage auth login`).",
        show_default=False,
    ),
]


def token_caller(application: App, token: str, permission: Permission | None = None) -> Caller:
    """The operator an API token identifies (checked as the API checks it), or Unauthenticated."""
    if not token.strip():
        raise Unauthenticated(
            "this command needs your API token: pass --token or set TRIAGE_TOKEN "
            "(get one with `triage auth login`)"
        )
    caller = people.authenticate_token(application.uow, token.strip())
    if permission is not None:
        caller.require(permission)
    return caller
