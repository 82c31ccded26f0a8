"""`triage duis ...`: Update Inventory (8.4), Decommission (8.3) and hub return (8.14.x)
requests out (issue 20, B).

The files are never signed here: the DCC User of the asset owner signs each request and
submits it to the DCC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.domain.duis_request import DuisBatch, ProducedRequest
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit
from triage.entrypoints.cli.session import session
from triage.ledger.entry import format_time

_MAX_RULES = 64 * 1024


def _batch(found: DuisBatch) -> dict[str, Any]:
    return {
        "id": found.id,
        "asset_owner": found.asset_owner,
        "requests": found.request_count,
        "sha256": found.sha256,
        "size": found.size,
        "dispatch_id": found.dispatch_id,
        "consignment_id": found.consignment_id,
        "produced_by": found.produced_by,
        "produced_at": format_time(found.produced_at),
        "file": found.file_name,
    }


def _request(found: ProducedRequest) -> dict[str, Any]:
    return {
        "request_id": found.request_id,
        "service_reference": found.service_reference,
        "request": found.description,
        "device_id": found.device_id,
        "asset_owner": found.asset_owner,
        "purpose": found.purpose,
        "sha256": found.sha256,
        "batch_id": found.batch_id,
        "produced_at": format_time(found.produced_at),
    }


def _lines(requests: list[ProducedRequest]) -> str:
    return "\n".join(
        f"{r.request_id}  {r.service_reference:<6} {r.device_id}  {r.description}" for r in requests
    )


def produce(
    owner: Annotated[str, typer.Option("--owner", help="The asset owner's id.")],
    out: Annotated[Path, typer.Option(help="The ZIP file to write.")],
    dispatch: Annotated[
        str | None, typer.Option("--dispatch", help="Only the devices of this dispatch.")
    ] = None,
    consignment: Annotated[
        str | None,
        typer.Option("--consignment", help="Only the devices of this consignment (id or ref)."),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the owner's DUIS requests due (8.4, 8.3) and not handed out yet as one ZIP,
    each validated against the DUIS schema first. Unsigned: the DCC User signs them."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        produced = duis_requests.produce_batch(
            s.uow,
            s.caller,
            s.app.duis_schema(),
            s.app.evidence_store(),
            owner,
            dispatch_id=dispatch,
            consignment_id=consignment,
        )
    out.write_bytes(produced.content)
    data = {**_batch(produced.batch), "list": [_request(r) for r in produced.requests]}
    text = (
        f"wrote {out}: {len(produced.requests)} request(s) for {produced.batch.asset_owner}, "
        f"sha256 {produced.batch.sha256}\n{_lines(produced.requests)}"
    )
    emit(as_json, data, text)


def list_batches(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """DUIS request batches, newest first (a person of an asset owner sees its own)."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        found, total = duis_requests.batches(s.uow, s.caller, limit=500)
    rows = [_batch(b) for b in found]
    text = "\n".join(
        f"{r['id']}  {r['produced_at']}  {r['asset_owner']}  {r['requests']} request(s)"
        for r in rows
    )
    emit(as_json, {"batches": rows, "total": total}, text or "no batch")


def show(
    batch_id: Annotated[str, typer.Argument(help="The batch's id.")],
    out: Annotated[
        Path | None, typer.Option(help="Also write the batch's ZIP to this file.")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """One batch and its requests; with --out, its ZIP as handed out."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        detail = duis_requests.batch(s.uow, s.caller, batch_id)
        if out is not None:
            _, content = duis_requests.batch_file(s.uow, s.caller, s.app.evidence_store(), batch_id)
            out.write_bytes(content)
    data = {**_batch(detail.batch), "list": [_request(r) for r in detail.requests]}
    text = (
        f"batch {detail.batch.id} for {detail.batch.asset_owner}, "
        f"{format_time(detail.batch.produced_at)}, sha256 {detail.batch.sha256}\n"
        f"{_lines(detail.requests)}" + (f"\nwrote {out}" if out is not None else "")
    )
    emit(as_json, data, text)


def request(
    request_id: Annotated[str, typer.Argument(help="The RequestID.")],
    out: Annotated[Path, typer.Option(help="The XML file to write.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write one request's XML as it was produced."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        _, content = duis_requests.request_file(s.uow, s.caller, request_id)
    out.write_bytes(content)
    typer.echo(f"wrote {out}")


rules_app = typer.Typer(
    help="The rules saying which DUIS requests a triage outcome calls for.",
    no_args_is_help=True,
)


@rules_app.command("show")
def rules_show(token: Token = "", data_dir: DataDir = None) -> None:
    """Print the rules in force (YAML, as recorded)."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        found = duis_requests.rules(s.uow, s.caller)
    typer.echo(found.source, nl=False)


@rules_app.command("set")
def rules_set(
    file: Annotated[Path, typer.Argument(help="The rules (YAML); '-' reads standard input.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Put rules in force (an administrator); the whole text goes into the ledger."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        source = read_limited(file, _MAX_RULES, "rules")
        found = duis_requests.set_rules(s.uow, s.caller, source)
    typer.echo(f"rules version {found.version} in force (sha256 {found.sha256})")


def dcc_user(
    owner: Annotated[str | None, typer.Argument(help="The asset owner's id.")] = None,
    eui: Annotated[str | None, typer.Argument(help="The EUI-64 of the owner's DCC User.")] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the DCC User who submits OWNER's requests (its EUI-64 originates their
    RequestIDs); with no arguments, list them."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        if owner is None or eui is None:
            if owner is not None:
                raise typer.BadParameter("give the asset owner and the DCC User's EUI-64")
            users = duis_requests.dcc_users(s.uow, s.caller)
            rows = [{"asset_owner": u.asset_owner, "originator": u.originator} for u in users]
            text = "\n".join(f"{r['asset_owner']}  {r['originator']}" for r in rows)
            emit(as_json, {"dcc_users": rows}, text or "no DCC User recorded")
            return
        found = duis_requests.set_dcc_user(s.uow, s.caller, owner, eui)
    emit(
        as_json,
        {"asset_owner": found.asset_owner, "originator": found.originator},
        f"{found.asset_owner}: requests originate from DCC User {found.originator}",
    )


def target(
    eui: Annotated[str, typer.Argument(help="The DCC's EUI-64.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Record the DCC's EUI-64, the target of every RequestID (an administrator)."""
    from triage.services import duis_requests

    with session(data_dir, token) as s:
        found = duis_requests.set_target(s.uow, s.caller, eui)
    typer.echo(f"RequestIDs now target {found.target}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``triage duis``."""
    app.command("produce")(produce)
    app.command("list")(list_batches)
    app.command("show")(show)
    app.command("request")(request)
    app.command("dcc-user")(dcc_user)
    app.command("target")(target)
    app.add_typer(rules_app, name="rules")
