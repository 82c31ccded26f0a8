"""`triage init`, `triage serve` and `triage keys`: the installation itself, run by the host
account that owns the data directory (no token)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from triage.config import DEMO_FACILITY_ID, DEMO_FACILITY_NAME, Settings
from triage.entrypoints.cli.options import DataDir, JsonFlag
from triage.entrypoints.cli.output import emit, err, fail
from triage.entrypoints.cli.session import open_app
from triage.errors import TriageError

# The most server processes `triage serve` starts when not told how many.

keys_app = typer.Typer(help="The facility's keys.", no_args_is_help=True)


def init(
    facility_id: Annotated[
        str, typer.Option("--facility-id", help="Short id, such as 'leeds-1'.")
    ] = (DEMO_FACILITY_ID),
    name: Annotated[str, typer.Option(help="The facility's name.")] = DEMO_FACILITY_NAME,
    origin: Annotated[
        str | None, typer.Option(help="Log origin (default: device-triage.local/FACILITY_ID).")
    ] = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Create the data directory, database, facility signing key and facility (safe to repeat)."""
    from triage import bootstrap  # the database stack loads only when a command runs

    try:
        settings = Settings.from_env(data_dir)
        result = bootstrap.initialise(settings, facility_id, name, origin)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    facility = result.app.facility
    result.app.close()
    lines = [
        f"data directory: {settings.data_dir}",
        f"facility: {facility.id} ({facility.name})"
        + ("" if result.facility_created else " (existing)"),
        f"log origin: {facility.log_origin}",
        f"signing key: {'created' if result.key_created else 'kept (already present)'}",
        "verifier key (give this to auditors):",
        result.verifier_key,
    ]
    emit(
        as_json,
        {
            "data_dir": str(settings.data_dir),
            "facility": facility.id,
            "origin": facility.log_origin,
            "key_created": result.key_created,
            "facility_created": result.facility_created,
            "verifier_key": result.verifier_key,
        },
        "\n".join(lines),
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    checkpoint_interval: Annotated[
        int, typer.Option(help="Seconds between periodic checkpoints (0 to disable).")
    ] = 300,
    evidence_interval: Annotated[
        int,
        typer.Option(help="Seconds between rounds of automatic assurance evidence (0: none)."),
    ] = 86_400,
    sweep_interval: Annotated[
        int,
        typer.Option(
            help="Seconds between sweeps that close work orders expired without a result (0: none)."
        ),
    ] = 60,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="A reverse proxy (address or CIDR) whose X-Forwarded-For is believed; repeat "
            "for several (added to $TRIAGE_TRUSTED_PROXIES). None: the socket's address counts."
        ),
    ] = None,
    log_every_request: Annotated[
        bool,
        typer.Option(
            help="Write an access-log line for every request, polls included (by default a "
            "poll that succeeds is only counted in a heartbeat line every 10 minutes)."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar="TRIAGE_SERVE_WORKERS",
            help="Server processes answering requests on the port (default 1). Writes stay one "
            "at a time per facility; one process does the periodic work.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Start the API server."""
    import dataclasses
    import os

    import uvicorn

    from triage import bootstrap
    from triage.entrypoints.asgi import WORKER_OPTIONS, create_app, worker_options
    from triage.entrypoints.quiet_logs import server_log_config

    try:
        settings = Settings.from_env(data_dir)
        if trusted_proxy:
            settings = dataclasses.replace(
                settings, trusted_proxies=(*settings.trusted_proxies, *trusted_proxy)
            )
        # Checked here, once, so that a server that cannot start says why and stops, rather
        # than each worker process failing in turn.
        application = bootstrap.bootstrap(settings)
        application.signer_key()
    except TriageError as exc:
        raise fail(str(exc)) from exc
    # One unless asked: a second process gained nothing measurable on PostgreSQL with six
    # benches and cost CPU and latency on SQLite (docs/performance.md, issue 22).
    processes = workers or 1
    err.print(
        f"device-triage serving facility {application.facility.id} at http://{host}:{port}/ "
        f"(API docs: http://{host}:{port}/api/v1/docs), {processes} "
        f"{'process' if processes == 1 else 'processes'}",
        highlight=False,
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        # No access-log line per poll (an agent's, a reloading bench page's): a heartbeat.
        "log_config": server_log_config(every_request=log_every_request),
        # Client addresses are the application's business (Settings.trusted_proxies): uvicorn
        # would otherwise believe X-Forwarded-For from any loopback peer.
        "proxy_headers": False,
    }
    if processes == 1:
        uvicorn.run(
            create_app(
                application,
                checkpoint_interval=checkpoint_interval,
                warm_cache=True,
                evidence_interval=evidence_interval,
                sweep_interval=sweep_interval,
            ),
            **options,
        )
        return
    application.close()
    # Each worker is a new process that opens the facility itself (asgi.worker_app), from the
    # settings as resolved here: the environment it inherits says what this command was told.
    os.environ["TRIAGE_DATA_DIR"] = str(settings.data_dir)
    os.environ["TRIAGE_DATABASE_URL"] = settings.database_url
    os.environ["TRIAGE_TRUSTED_PROXIES"] = ",".join(settings.trusted_proxies)
    os.environ[WORKER_OPTIONS] = worker_options(
        processes, checkpoint_interval, evidence_interval, sweep_interval
    )
    uvicorn.run("triage.entrypoints.asgi:worker_app", factory=True, workers=processes, **options)


@keys_app.command("show")
def keys_show(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Print the facility's verifier key (public; auditors verify with it)."""
    with open_app(data_dir) as application:
        key = application.verifier_key()
        origin = application.origin
    emit(as_json, {"verifier_key": key, "origin": origin}, key)
