"""`triage tool`: Triage Tools enrolled at the benches."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit
from triage.entrypoints.cli.session import session

app = typer.Typer(help="Triage Tools enrolled at the benches.", no_args_is_help=True)


@app.command("enrol")
def enrol(
    tool_id: Annotated[str, typer.Argument(help="The tool's id, e.g. BENCH-1.")],
    bench_name: Annotated[str, typer.Option("--bench", help="The bench it sits at.")],
    key: Annotated[str, typer.Option(help="The tool's verifier key (from 'triage agent keygen').")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Enrol a Triage Tool by its public key."""
    from triage.services import tools

    with session(data_dir, token) as s:
        enrolled = tools.enrol_tool(s.uow, s.caller, tool_id, bench_name, key)
    emit(as_json, {"tool": enrolled.id, "bench": enrolled.bench}, f"tool {enrolled.id} enrolled")
