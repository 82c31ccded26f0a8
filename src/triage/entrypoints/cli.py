"""The ``triage`` command line for operators and auditors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from triage import bootstrap
from triage.config import Settings
from triage.domain.roles import Permission
from triage.entrypoints import (
    cli_assurance,
    cli_auth,
    cli_backup,
    cli_seals,
    cli_security,
    cli_triage,
)
from triage.entrypoints.cli_common import DataDir, JsonFlag, Token, token_caller
from triage.entrypoints.encoding import b64, consistency_json, inclusion_json, status_json
from triage.errors import IntegrityFailure, TriageError
from triage.services import ledger as ledger_service

app = typer.Typer(
    help="device-triage: the system a smart-meter Triage Facility runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ledger_app = typer.Typer(
    help="The tamper-evident ledger: verify, checkpoint, prove.", no_args_is_help=True
)
keys_app = typer.Typer(help="The facility's keys.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")

err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    """Entry point of the ``triage`` command."""
    app()


def _emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else text)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _app(data_dir: Path | None) -> Iterator[bootstrap.App]:
    try:
        application = bootstrap.bootstrap(Settings.from_env(data_dir))
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    try:
        yield application
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    finally:
        application.close()


@app.command()
def init(
    facility_id: Annotated[
        str, typer.Option("--facility-id", help="Short id, such as 'leeds-1'.")
    ] = (bootstrap.DEMO_FACILITY_ID),
    name: Annotated[str, typer.Option(help="The facility's name.")] = bootstrap.DEMO_FACILITY_NAME,
    origin: Annotated[
        str | None, typer.Option(help="Log origin (default: device-triage.local/FACILITY_ID).")
    ] = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Create the data directory, database, facility signing key and facility (safe to repeat)."""
    settings = Settings.from_env(data_dir)
    try:
        result = bootstrap.initialise(settings, facility_id, name, origin)
    except TriageError as exc:
        raise _fail(str(exc)) from exc
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
    _emit(
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


@app.command()
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
    data_dir: DataDir = None,
) -> None:
    """Start the API server."""
    import dataclasses

    import uvicorn

    from triage.entrypoints.api.app import create_app

    try:
        settings = Settings.from_env(data_dir)
        if trusted_proxy:
            settings = dataclasses.replace(
                settings, trusted_proxies=(*settings.trusted_proxies, *trusted_proxy)
            )
        application = bootstrap.bootstrap(settings)
        application.signer_key()
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    err.print(
        f"device-triage serving facility {application.facility.id} at http://{host}:{port}/ "
        f"(API docs: http://{host}:{port}/api/v1/docs)",
        highlight=False,
    )
    uvicorn.run(
        create_app(
            application,
            checkpoint_interval=checkpoint_interval,
            warm_cache=True,
            evidence_interval=evidence_interval,
            sweep_interval=sweep_interval,
        ),
        host=host,
        port=port,
        log_level="info",
        # Client addresses are the application's business (Settings.trusted_proxies): uvicorn
        # would otherwise believe X-Forwarded-For from any loopback peer.
        proxy_headers=False,
    )


@keys_app.command("show")
def keys_show(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Print the facility's verifier key (public; auditors verify with it)."""
    with _app(data_dir) as application:
        key = application.verifier_key()
        _emit(as_json, {"verifier_key": key, "origin": application.origin}, key)


@ledger_app.command("status")
def ledger_status(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Print the ledger's size, root and latest checkpoint."""
    with _app(data_dir) as application:
        token_caller(application, token, Permission.LEDGER_READ)
        current = ledger_service.status(application.uow)
        data = status_json(current, application.origin)
        checkpoint = current.latest_checkpoint
        text = f"origin {application.origin}\nsize {current.size}\nroot {b64(current.root)}\n" + (
            f"latest checkpoint at size {checkpoint.size}" if checkpoint else "no checkpoint yet"
        )
        _emit(as_json, data, text)


@ledger_app.command("checkpoint")
def ledger_checkpoint(
    token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Issue, store and print a signed checkpoint of the ledger as it stands."""
    with _app(data_dir) as application:
        token_caller(application, token, Permission.LEDGER_CHECKPOINT)
        try:
            stored = ledger_service.issue_checkpoint(
                application.uow, application.origin, application.signer_key()
            )
        except IntegrityFailure as exc:
            raise _refused(exc) from exc
        _emit(as_json, {"size": stored.size, "checkpoint": stored.note}, stored.note.rstrip("\n"))


def _refused(
    exc: IntegrityFailure, what: str = "checkpoint refused, nothing was signed"
) -> typer.Exit:
    where = f"first bad index {exc.index}: " if exc.index is not None else ""
    return _fail(
        f"{what}: {where}{exc} (recorded, and an alert raised; "
        "a running server holds writes until an administrator runs 'triage ledger acknowledge')",
        1,
    )


@ledger_app.command("integrity")
def ledger_integrity(
    token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Show whether writes are held after the facility refused to sign its ledger, and why."""
    with _app(data_dir) as application:
        token_caller(application, token, Permission.LEDGER_READ)
        found = ledger_service.latest_refusal(application.uow)
    data = {
        "writes_held": found is not None and not found.acknowledged,
        "refusal": None if found is None else found.to_json(),
    }
    if found is None:
        text = "no checkpoint was ever refused; writes are not held"
    else:
        state = "acknowledged; writes not held" if found.acknowledged else "WRITES HELD"
        where = f" first bad index {found.index}:" if found.index is not None else ""
        text = f"checkpoint refused ({state}), alert {found.alert_id}:{where} {found.reason}"
    _emit(as_json, data, text)


@ledger_app.command("acknowledge")
def ledger_acknowledge(
    reason: Annotated[
        str, typer.Option(help="What was found and what is being done (10 characters or more).")
    ],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """An administrator acknowledges a refused checkpoint (recorded in the ledger, the alert
    resolved with the reason): the server accepts writes again. Checkpoints stay refused while
    the ledger still fails the check."""
    with _app(data_dir) as application:
        caller = token_caller(application, token, Permission.FACILITY_MANAGE)
        found = ledger_service.acknowledge_refusal(application.uow, caller, reason)
    _emit(
        as_json,
        found.to_json(),
        f"acknowledged alert {found.alert_id}: writes resume; checkpoints stay refused while "
        "the ledger fails the check ('triage ledger verify' says where)",
    )


@ledger_app.command("prove")
def ledger_prove(
    index: Annotated[int, typer.Option(help="Entry index (0-based).", min=0)],
    size: Annotated[int | None, typer.Option(help="Tree size (default: current).", min=1)] = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Print an inclusion proof of one entry as JSON."""
    with _app(data_dir) as application:
        token_caller(application, token, Permission.LEDGER_READ)
        proof = ledger_service.prove_inclusion(application.uow, index, size)
        typer.echo(json.dumps(inclusion_json(proof), indent=2))


@ledger_app.command("consistency")
def ledger_consistency(
    size1: Annotated[int, typer.Option("--from", help="Older tree size.", min=1)],
    size2: Annotated[
        int | None, typer.Option("--to", help="Newer size (default: current).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Print a consistency proof between two tree sizes as JSON."""
    with _app(data_dir) as application:
        token_caller(application, token, Permission.LEDGER_READ)
        proof = ledger_service.prove_consistency(application.uow, size1, size2)
        typer.echo(json.dumps(consistency_json(proof), indent=2))


@ledger_app.command("export")
def ledger_export(
    out: Annotated[Path, typer.Argument(help="The file to write (must not exist yet).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the whole ledger, up to its latest signed checkpoint, to one file that anyone with
    the verifier key checks offline: `triage verify FILE --key VKEY`."""
    partial = out.with_name(out.name + ".partial")
    with _app(data_dir) as application:
        caller = token_caller(application, token)
        if out.exists():
            raise _fail(f"{out} exists; an export never overwrites a file")
        try:
            checkpoint, lines = ledger_service.export(
                application.uow, caller, application.origin, application.verifier_key()
            )
        except IntegrityFailure as exc:
            raise _refused(exc, "export refused, nothing was written") from exc
        enabled = not as_json and sys.stderr.isatty()
        written = 0
        try:
            with partial.open("xb") as file, _progress(checkpoint.size, enabled, "exporting") as at:
                for line in lines:
                    file.write(line)
                    written += 1
                    if written % 10_000 == 0:
                        at(written - 1)
                file.flush()
                os.fsync(file.fileno())
            partial.rename(out)
        except FileExistsError as exc:
            raise _fail(f"{partial} exists: is another export writing it?") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    _emit(
        as_json,
        {"file": str(out), "size": checkpoint.size, "checkpoint": checkpoint.note},
        f"exported {checkpoint.size} entries to {out}, up to the checkpoint:\n"
        + checkpoint.note.rstrip("\n"),
    )


@ledger_app.command("verify")
def ledger_verify(
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
    workers: Annotated[
        int, typer.Option(help="Processes hashing entries (default: one per CPU).", min=1)
    ] = os.cpu_count() or 1,
) -> None:
    """Recompute every leaf and tile from the entries, check every checkpoint; exit 1 on failure."""
    with _app(data_dir) as application:
        token_caller(application, token, Permission.LEDGER_READ)
        total = ledger_service.status(application.uow).size
        with _progress(total, enabled=not as_json and sys.stderr.isatty()) as advance:
            report = ledger_service.verify(
                application.uow,
                application.verifier_key(),
                application.origin,
                advance,
                workers=workers,
            )
    first = report.first_problem()
    data = {
        "ok": report.ok,
        "size": report.size,
        "root": b64(report.root),
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "first_bad_index": None if first is None else first.index,
        "problems": [{"index": p.index, "message": p.message} for p in report.problems],
        "warnings": report.warnings,
    }
    for warning in [] if as_json else report.warnings:
        err.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    if first is None:
        _emit(
            as_json,
            data,
            f"ok: {report.entries_checked} entries, {report.checkpoints_checked} checkpoints "
            f"verified; size {report.size}, root {b64(report.root)}",
        )
        return
    where = f"first bad index {first.index}: " if first.index is not None else ""
    _emit(as_json, data, f"FAILED: {where}{first.message} ({len(report.problems)} problem(s))")
    raise typer.Exit(1)


@contextmanager
def _progress(
    total: int, enabled: bool, label: str = "verifying"
) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _done: None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("verify", total=total)
        yield lambda done: bar.update(task, completed=done)


cli_triage.register(app, _app, _emit, _fail)
cli_auth.register(app, _app, _emit, _fail)
cli_security.register(app, _app, _emit, _fail)
cli_seals.register(app, _app, _emit, _fail)
cli_assurance.register(app, _app, _emit, _fail)
cli_backup.register(app, _app, _emit, _fail)
cli_triage.replay_command(app, ledger_app, _app, _emit)

if __name__ == "__main__":
    main()
