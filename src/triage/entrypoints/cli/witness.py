"""`triage witness`: a C2SP tlog-witness of facilities' logs, and a monitor that follows one.

The witness commands act on the witness's own directory (its key and its SQLite database), not
on a facility: they take ``--dir`` (default ``$TRIAGE_WITNESS_DIR`` or ``./witness``) and no
facility token.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from triage.entrypoints.cli.options import JsonFlag
from triage.entrypoints.cli.output import emit, err, fail, warn
from triage.entrypoints.cli.witness_follow import follow
from triage.ledger.entry import format_time
from triage.witness.errors import WitnessError
from triage.witness.keys import load_key
from triage.witness.store import Cosigned, FollowedLog, Refusal, WitnessStore

app = typer.Typer(
    help="A witness that cosigns facilities' checkpoints, and a monitor that follows a log.",
    no_args_is_help=True,
)
log_app = typer.Typer(
    help="The logs this witness follows: each origin and its log's verifier key.",
    no_args_is_help=True,
)
app.add_typer(log_app, name="log")
# The monitor (an auditor's, not the witness's) lives in its own module.
app.command("follow")(follow)

WitnessDir = Annotated[
    Path,
    typer.Option(
        "--dir",
        envvar="TRIAGE_WITNESS_DIR",
        show_envvar=False,
        show_default=False,
        help="The witness's directory: its key and database (default: $TRIAGE_WITNESS_DIR or "
        "./witness).",
    ),
]
DEFAULT_DIR = Path("witness")


def _store(directory: Path) -> WitnessStore:
    try:
        return WitnessStore(directory)
    except WitnessError as exc:
        raise fail(str(exc)) from exc


@app.command("keygen")
def keygen(
    name: Annotated[
        str,
        typer.Argument(
            help="The witness's name, a schema-less URL naming who runs it, e.g. "
            "witness.owner.example/w1."
        ),
    ],
    directory: WitnessDir = DEFAULT_DIR,
    as_json: JsonFlag = False,
) -> None:
    """Make the witness's key: writes DIR/witness.key (0600, never overwritten) and prints the
    cosigner verifier key that facilities and verifiers put in their witness policies."""
    from triage.witness.keys import generate_key

    try:
        vkey = generate_key(directory, name)
    except WitnessError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, {"name": name, "vkey": vkey, "directory": str(directory)}, vkey)


@log_app.command("add")
def log_add(
    origin: Annotated[str, typer.Argument(help="The log's origin (its checkpoints' first line).")],
    vkey: Annotated[
        str, typer.Argument(help="The log's verifier key (`triage keys show` at the facility).")
    ],
    directory: WitnessDir = DEFAULT_DIR,
) -> None:
    """Follow a log: cosign its checkpoints signed by VKEY (another key for a followed origin
    is trusted beside the first)."""
    from triage.ledger import note
    from triage.witness.service import follow_log

    store = _store(directory)
    try:
        added = follow_log(store, origin, vkey, datetime.now(UTC))
    except WitnessError as exc:
        raise fail(str(exc)) from exc
    if note.parse_verifier_key(vkey).name != origin:
        warn(f"the key is named {vkey.split('+', 1)[0]!r}, not {origin!r} (a facility's is)")
    typer.echo(f"following {origin}" if added else f"already following {origin} with that key")


@log_app.command("list")
def log_list(directory: WitnessDir = DEFAULT_DIR, as_json: JsonFlag = False) -> None:
    """The logs this witness follows, with their keys."""
    logs = _store(directory).logs()
    text = "\n".join(f"{log.origin}  {log.vkey}" for log in logs) or "following no log"
    emit(as_json, {"logs": [_log_json(log) for log in logs]}, text)


@log_app.command("remove")
def log_remove(
    origin: Annotated[str, typer.Argument(help="The origin to stop following.")],
    directory: WitnessDir = DEFAULT_DIR,
) -> None:
    """Stop following a log. What it cosigned for it is kept: following it again resumes
    from there (a witness that forgot could be shown a rollback)."""
    from triage.witness.service import forget_log

    try:
        forget_log(_store(directory), origin)
    except WitnessError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"no longer following {origin}")


@app.command("serve")
def serve(
    directory: WitnessDir = DEFAULT_DIR,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
) -> None:
    """Run the witness: POST /add-checkpoint and GET /<origin hash>/checkpoint (C2SP
    tlog-witness) at http://HOST:PORT, the URL facilities put in their witness policies."""
    import uvicorn

    from triage.witness.app import create_app

    try:
        application = create_app(directory)
    except WitnessError as exc:
        raise fail(str(exc)) from exc
    key = application.state.witness.key
    followed = len({log.origin for log in _store(directory).logs()})
    err.print(
        f"witness {key.name} serving at http://{host}:{port}/ for {followed} log(s); "
        f"cosigner key {key.vkey}",
        highlight=False,
    )
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)


@app.command("status")
def status(
    directory: WitnessDir = DEFAULT_DIR,
    refusals: Annotated[
        int, typer.Option(min=0, help="How many of the latest refusals to show.")
    ] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The witness's key, the logs it follows, the latest size it cosigned for each, and the
    refusals it recorded: signed checkpoints it would not cosign, evidence of a log's
    misbehaviour (a rollback, a fork, a rewritten history)."""
    try:
        key = load_key(directory)
    except WitnessError as exc:
        raise fail(str(exc)) from exc
    store = _store(directory)
    logs = store.logs()
    cosigned = {latest.origin: latest for latest in store.all_latest()}
    counts = store.refusal_counts()
    latest_refusals = store.refusals(limit=refusals) if refusals else []
    origins = sorted({log.origin for log in logs} | set(cosigned) | set(counts))
    keys_of: dict[str, list[str]] = {}
    for log in logs:
        keys_of.setdefault(log.origin, []).append(log.vkey)

    data: dict[str, Any] = {
        "name": key.name,
        "vkey": key.vkey,
        "directory": str(directory),
        "logs": [
            {
                "origin": origin,
                "following": origin in keys_of,
                "vkeys": keys_of.get(origin, []),
                "cosigned": _cosigned_json(cosigned.get(origin)),
                "refusals": counts.get(origin, 0),
            }
            for origin in origins
        ],
        "refusals": [_refusal_json(refusal) for refusal in latest_refusals],
    }
    lines = [f"witness {key.name}", f"  key: {key.vkey}", f"  directory: {directory}"]
    if not origins:
        lines.append("following no log")
    for origin in origins:
        latest = cosigned.get(origin)
        state = (
            f"cosigned size {latest.size} at {format_time(_at(latest.cosigned_at))}"
            if latest
            else "nothing cosigned yet"
        )
        following = "" if origin in keys_of else " (no longer followed)"
        lines.append(f"{origin}{following}: {state}; {counts.get(origin, 0)} refusal(s) kept")
    if latest_refusals:
        lines.append(f"latest refusals (newest first, {len(latest_refusals)} shown):")
        lines += [
            f"  {format_time(r.at)} {r.origin} {r.status}: {r.reason}" for r in latest_refusals
        ]
    emit(as_json, data, "\n".join(lines))


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _log_json(log: FollowedLog) -> dict[str, Any]:
    return {"origin": log.origin, "vkey": log.vkey, "added_at": format_time(log.added_at)}


def _cosigned_json(latest: Cosigned | None) -> dict[str, Any] | None:
    if latest is None:
        return None
    return {
        "size": latest.size,
        "root": base64.b64encode(latest.root).decode("ascii"),
        "cosigned_at": format_time(_at(latest.cosigned_at)),
        "timestamp": latest.cosigned_at,
        "checkpoint": latest.served_note,
    }


def _refusal_json(refusal: Refusal) -> dict[str, Any]:
    return {
        "at": format_time(refusal.at),
        "origin": refusal.origin,
        "status": refusal.status,
        "reason": refusal.reason,
        "request": refusal.body.decode("utf-8", errors="replace"),
    }
