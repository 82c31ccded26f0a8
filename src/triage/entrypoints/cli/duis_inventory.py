"""`triage duis ...`: Read Inventory responses (8.2) in, and the SMI gate's refused statuses
(issue 20, A)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.domain.bounded import InputLimitError
from triage.duis.xml import MAX_BYTES
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``triage duis``."""
    app.command("import-inventory")(import_inventory)
    app.command("smi-policy")(smi_policy)


def import_inventory(
    file: Annotated[
        Path, typer.Argument(help="The DCC's 8.2 Read Inventory response (XML; '-': stdin).")
    ],
    reference: Annotated[
        str | None, typer.Option(help="The DCC User's reference for the response.")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a Read Inventory response: what the DCC says of each device the facility holds,
    compared with its manifest (each difference raises an exception)."""
    from triage.entrypoints.duis_files import configured_schema
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.inventory import InventoryImportOut
    from triage.services import inventory

    with session(data_dir, token) as s:
        try:
            data = read_limited(file, MAX_BYTES, "Read Inventory response")
        except InputLimitError as exc:
            raise fail(str(exc)) from exc
        done = inventory.import_response(
            s.uow, s.caller, s.app.evidence_store(), data, configured_schema(s.app), reference
        )
    lines = [
        f"response {done.response_id or '(no id)'} of {done.response_at}, sha256 {done.sha256}"
    ]
    for d in done.devices:
        if not d.recorded:
            lines.append(f"{d.device_id}: not recorded, {d.where}")
            continue
        lines.append(f"{d.device_id}: {d.status or 'no status'} ({d.where})")
        lines.extend(
            f"  exception {i}: {m}" for i, m in zip(d.exception_ids, d.mismatches, strict=True)
        )
        if d.refusal:
            lines.append(f"  TRIAGE REFUSED: {d.refusal}")
    emit(as_json, dump(InventoryImportOut.model_validate(done)), "\n".join(lines))


def smi_policy(
    refuse: Annotated[
        list[str] | None,
        typer.Option(
            "--refuse",
            help="A DUIS 5.4 status in which triage is refused (repeat; 'none' for none). "
            "Without it: show the statuses.",
        ),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Show, or set (an administrator), the Smart Metering Inventory statuses in which the
    facility refuses triage."""
    from triage.services import inventory

    with session(data_dir, token) as s:
        if refuse is None:
            found = inventory.smi_policy(s.uow, s.caller)
        else:
            chosen = [] if [r.lower() for r in refuse] == ["none"] else refuse
            found = inventory.set_smi_policy(s.uow, s.caller, chosen)
    emit(as_json, {"refuse": found}, "triage refused in: " + (", ".join(found) or "no status"))
