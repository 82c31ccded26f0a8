"""`triage hub`: communications hubs back to the DCC (issue 20, C).

A supervisor returns a hub (a CHF, or its GPF) to the DCC with a fault or no-fault return and
the DCC's return reference (for a CHF the DUIS 8.14.3 / 8.14.4 request is produced with it);
``list`` shows the returns; an administrator keeps the hub policy (may a hub be reset?).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from triage.domain.hub_return import (
    ConnectionMethod,
    FaultReason,
    FaultReturnType,
    HubPolicy,
    HubReturnRecord,
    NoFaultReturnType,
)
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session
from triage.ledger.entry import format_time

app = typer.Typer(help="Communications hubs back to the DCC.", no_args_is_help=True)


def _values(*kinds: Any) -> str:
    return "; ".join(f"'{m.value}'" for kind in kinds for m in kind)


def _json(found: HubReturnRecord) -> dict[str, Any]:
    d = found.details
    return {
        "job_id": found.job_id,
        "device_id": found.device_id,
        "asset_owner": found.asset_owner,
        "kind": d.kind.value,
        "service_reference": d.kind.service_reference,
        "return_type": d.return_type.value,
        "dcc_reference": d.dcc_reference,
        "fault_reason": d.fault_reason.value if d.fault_reason else None,
        "connection_method": d.connection_method.value if d.connection_method else None,
        "other_device_id": d.other_device_id,
        "user_ref_id": d.user_ref_id,
        "incident_reference": d.incident_reference,
        "additional_information": d.additional_information,
        "request_id": found.request_id,
        "returned_by": found.returned_by,
        "returned_at": format_time(found.returned_at),
    }


def _line(found: HubReturnRecord) -> str:
    d = found.details
    why = d.fault_reason.value if d.fault_reason else d.return_type.value
    request = f", request {found.request_id}" if found.request_id else ""
    return (
        f"{found.device_id} back to the DCC ({d.kind.service_reference} "
        f"{d.kind.value.replace('_', '-')}: {why}) under DCC reference {d.dcc_reference}"
        f"{request}, by {found.returned_by} at {format_time(found.returned_at)}"
    )


@app.command("return")
def return_hub(
    device: Annotated[str, typer.Argument(help="The hub's Device ID (scanned).")],
    fault: Annotated[
        bool | None,
        typer.Option(
            "--fault/--no-fault", help="A fault return (8.14.3) or a no-fault return (8.14.4)."
        ),
    ] = None,
    return_type: Annotated[
        str,
        typer.Option(
            "--type",
            help="The return type as DUIS spells it: fault "
            f"{_values(FaultReturnType)}; no fault {_values(NoFaultReturnType)}.",
        ),
    ] = "",
    dcc_reference: Annotated[
        str, typer.Option(help="The return reference the DCC gave for the hub.")
    ] = "",
    reason: Annotated[
        str | None, typer.Option(help=f"The fault reason: {_values(FaultReason)}.")
    ] = None,
    connection: Annotated[
        str | None, typer.Option(help=f"The connection method: {_values(ConnectionMethod)}.")
    ] = None,
    other_device: Annotated[
        str | None, typer.Option(help="The device the hub was connected to (a fault return).")
    ] = None,
    user_ref: Annotated[str | None, typer.Option(help="UserRefID, at most 25.")] = None,
    incident: Annotated[str | None, typer.Option(help="IncidentReference, at most 15.")] = None,
    information: Annotated[
        str | None, typer.Option(help="AdditionalInformation, at most 200.")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Return a communications hub's open job to the DCC (a supervisor)."""
    from triage.services import hub_returns

    with session(data_dir, token) as s:  # who calls is checked first
        if fault is None:
            raise fail("say --fault (8.14.3) or --no-fault (8.14.4)")
        found = hub_returns.return_hub(
            s.uow,
            s.caller,
            s.app.duis_schema(),
            device,
            "fault" if fault else "no_fault",
            return_type,
            dcc_reference,
            fault_reason=reason,
            connection_method=connection,
            other_device_id=other_device,
            user_ref_id=user_ref,
            incident_reference=incident,
            additional_information=information,
        )
    emit(as_json, _json(found), _line(found))


@app.command("list")
def list_returns(
    device: Annotated[str | None, typer.Option(help="Only this device's returns.")] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Communications hubs returned to the DCC, newest first."""
    from triage.services import hub_returns

    with session(data_dir, token) as s:
        found = hub_returns.returns(s.uow, s.caller, device)
    text = "\n".join(_line(r) for r in found) or "no hub has been returned to the DCC"
    emit(as_json, {"returns": [_json(r) for r in found]}, text)


def _policy(found: HubPolicy) -> dict[str, Any]:
    return {
        "allow_reset": found.allow_reset,
        "set_by": found.set_by,
        "set_at": format_time(found.set_at) if found.set_at else None,
    }


@app.command("policy")
def policy(
    allow_reset: Annotated[
        bool | None,
        typer.Option(
            "--allow-reset/--no-reset",
            help="Let a hub take a meter's reset path, or not (an administrator); without "
            "either, show the policy.",
        ),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or set the hub policy: may a communications hub be reset like a meter?"""
    from triage.services import hub_returns

    with session(data_dir, token) as s:
        if allow_reset is None:
            found = hub_returns.policy(s.uow, s.caller)
        else:
            found = hub_returns.set_policy(s.uow, s.caller, allow_reset)
    text = (
        "a communications hub may be reset like a meter"
        if found.allow_reset
        else "a communications hub is never reset: it goes back to the DCC (the default)"
    )
    emit(as_json, _policy(found), text)
