"""The options many commands share, each defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $TRIAGE_DATA_DIR or ./var)."),
]
Token = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="TRIAGE_TOKEN",
        help="Your API token (default: $TRIAGE_TOKEN; get one with `triage auth login`).",
        show_default=False,
    ),
]
Reason = Annotated[str, typer.Option(help="Why (recorded in the ledger).")]
