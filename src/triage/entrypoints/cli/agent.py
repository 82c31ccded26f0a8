"""`triage agent`: the bench agent beside a Triage Tool (its wiring is entrypoints/agent.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.entrypoints.cli.output import fail

app = typer.Typer(help="The bench agent beside a Triage Tool.", no_args_is_help=True)


@app.command("keygen")
def keygen(
    tool_id: Annotated[str, typer.Option(help="The tool's id.")],
    out: Annotated[Path, typer.Option(help="Where to keep the private key (mode 0600).")],
) -> None:
    """Create a tool's key pair on the bench; prints the verifier key to enrol."""
    from triage.entrypoints.agent import generate_tool_key

    try:
        typer.echo(generate_tool_key(tool_id, out))
    except FileExistsError as exc:
        raise fail(f"{out} exists; a tool key is never overwritten") from exc


@app.command("run")
def run(
    server: Annotated[str, typer.Option(help="The facility server, e.g. http://127.0.0.1:8000.")],
    tool_id: Annotated[str, typer.Option(help="This tool's id.")],
    key: Annotated[Path, typer.Option(help="This tool's private key file.")],
    facility_key: Annotated[str, typer.Option(help="The facility's verifier key.")],
    state_dir: Annotated[Path, typer.Option(help="Where the agent keeps its replay record.")],
    connector: Annotated[str, typer.Option(help="Device connector plugin.")] = "simulated",
    option: Annotated[
        list[str] | None, typer.Option(help="Connector option NAME=VALUE (repeatable).")
    ] = None,
    once: Annotated[bool, typer.Option(help="Handle waiting orders, then exit.")] = False,
    interval: Annotated[
        float,
        typer.Option(
            help="Seconds between polls with --wait 0; else the pause after a failure, or "
            "between requests when the server does not hold them."
        ),
    ] = 1.0,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds the server may hold each request for work orders until there is one "
            "(it caps them at 25); 0: ask every --interval seconds instead.",
        ),
    ] = 20.0,
) -> None:
    """Run the bench agent: verify work orders, reset devices, report signed results."""
    from triage.entrypoints.agent import AgentError, run_agent

    malformed = [o for o in option or [] if "=" not in o]
    if malformed:
        raise fail(f"--option {malformed[0]}: write a connector option as NAME=VALUE")
    options = dict(o.split("=", 1) for o in option or [])
    try:
        run_agent(
            server,
            tool_id,
            key,
            facility_key,
            state_dir,
            connector,
            options,
            once=once,
            interval=interval,
            wait=wait,
        )
    except AgentError as exc:
        raise fail(str(exc)) from exc


@app.command("simulate")
def simulate(
    fleet: Annotated[Path, typer.Option(help="The simulated fleet's state file.")],
    device: Annotated[
        list[str],
        typer.Argument(
            help="DEVICE[:TYPE[:SCENARIO]]: type ESME and scenario clean unless given. "
            "Scenarios: clean, failing-battery, supplier-job, strong-magnet, wiped-event-log, "
            "breached-cpa-boundary, unreadable-log."
        ),
    ],
    add: Annotated[bool, typer.Option(help="Add to the fleet instead of replacing it.")] = False,
) -> None:
    """Make simulated devices for `triage agent run --connector simulated --option
    state_file=FLEET`: each with a security log telling its scenario's story."""
    from triage.entrypoints.agent import AgentError, simulate_fleet

    try:
        made = simulate_fleet(fleet, device, add=add)
    except AgentError as exc:
        raise fail(str(exc)) from exc
    for device_id, device_type, scenario in made:
        typer.echo(f"{device_id}  {device_type:<6}  {scenario}")
    typer.echo(f"{len(made)} simulated device(s) in {fleet}")
