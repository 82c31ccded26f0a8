"""`triage witness follow URL`: the auditor's continuous check of a facility's log (the command
function; `triage.entrypoints.cli.witness` adds it to the witness group)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from triage.domain.bounded import InputLimitError
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import JsonFlag
from triage.entrypoints.cli.output import emit, err
from triage.ledger.errors import VerificationError
from triage.ledger.note import parse_verifier_key
from triage.ledger.policy import MAX_POLICY_BYTES, Policy, parse_policy

if TYPE_CHECKING:
    from triage.witness.monitor import StateStore, TileSource

DEFAULT_PARALLEL = 4
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_MISBEHAVIOUR = 2


def follow(
    url: Annotated[
        str,
        typer.Argument(
            help="The log's tile prefix, e.g. http://127.0.0.1:8000/api/v1/ledger/tlog.",
            show_default=False,
        ),
    ],
    key: Annotated[str, typer.Option(help="The facility's verifier key.", show_default=False)],
    policy: Annotated[
        Path | None,
        typer.Option(
            help="A witness policy (C2SP tlog-policy): each checkpoint must carry a quorum of "
            "its witnesses' cosignatures.",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        Path,
        typer.Option(
            envvar="TRIAGE_MONITOR_DIR",
            help="Where the monitor keeps what it verified (default: $TRIAGE_MONITOR_DIR or "
            "./monitor).",
            show_default=False,
        ),
    ] = Path("monitor"),
    token: Annotated[
        str,
        typer.Option(
            envvar="TRIAGE_TOKEN",
            help="An auditor's API token, unless the facility's log is public "
            "(default: $TRIAGE_TOKEN).",
            show_default=False,
        ),
    ] = "",
    interval: Annotated[
        float | None,
        typer.Option(min=0, help="Check again every this many seconds, until interrupted."),
    ] = None,
    rounds: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many rounds.", show_default=False)
    ] = None,
    parallel: Annotated[
        int, typer.Option(min=1, max=32, help="Entry bundles fetched at once.")
    ] = DEFAULT_PARALLEL,
    as_json: JsonFlag = False,
) -> None:
    """Follow a facility's log through its tile read API: verify every new entry and that
    each checkpoint extends the last one verified, and keep that state. Exit 0 when up to
    date, 1 when a round could not verify the log (or a file or key given is wrong), 2 on a
    fork, a rollback or a rewritten history (said loudly, with the evidence kept in the state
    directory, and said again at every run until you delete the log's state directory)."""
    from triage.witness.monitor import HttpTileSource, StateStore  # httpx: only to follow

    try:
        parse_verifier_key(key)
    except VerificationError as exc:
        _error(as_json, f"--key: {exc}")
        raise typer.Exit(EXIT_FAILED) from exc
    parsed = None
    if policy is not None:
        try:
            parsed = _read_policy(policy)
        except (OSError, ValueError) as exc:
            _error(as_json, f"--policy {policy}: {exc}")
            raise typer.Exit(EXIT_FAILED) from exc
    try:
        source = HttpTileSource(url, token.strip() or None)
    except ValueError as exc:
        _error(as_json, str(exc))
        raise typer.Exit(EXIT_FAILED) from exc
    with source:
        code = run_rounds(
            source,
            StateStore(state),
            url.rstrip("/"),
            key,
            parsed,
            interval,
            rounds,
            as_json,
            parallel=parallel,
        )
    raise typer.Exit(code)


def _read_policy(path: Path) -> Policy:
    try:
        data = read_limited(path, MAX_POLICY_BYTES, "witness policy")
    except InputLimitError as exc:
        raise ValueError(str(exc)) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("the policy is not UTF-8 text") from exc
    return parse_policy(text)


def run_rounds(
    source: TileSource,
    store: StateStore,
    url: str,
    key: str,
    policy: Policy | None,
    interval: float | None,
    rounds: int | None,
    as_json: bool,
    sleep: Callable[[float], None] = time.sleep,
    parallel: int = DEFAULT_PARALLEL,
) -> int:
    """Run rounds (one; with ``interval``, until interrupted; at most ``rounds``), printing
    each; the exit code of the last. A misbehaviour stops at once: nothing after it counts."""
    limit = rounds if rounds is not None else (None if interval is not None else 1)
    done = 0
    code = EXIT_OK
    try:
        while True:
            code = _round(source, store, url, key, policy, as_json, parallel)
            done += 1
            if code == EXIT_MISBEHAVIOUR or (limit is not None and done >= limit):
                return code
            sleep(interval or 0)
    except KeyboardInterrupt:
        return code


def _round(
    source: TileSource,
    store: StateStore,
    url: str,
    key: str,
    policy: Policy | None,
    as_json: bool,
    parallel: int,
) -> int:
    from triage.witness.monitor import Misbehaviour, MonitorError, follow_round

    try:
        report = follow_round(source, store, url, key, policy, parallel=parallel)
    except Misbehaviour as found:
        typer.echo(found.report(), err=True)
        if as_json:
            emit(True, {"ok": False, **found.alarm, "evidence": str(found.evidence)}, "")
        return EXIT_MISBEHAVIOUR
    except MonitorError as exc:
        _error(as_json, str(exc))
        return EXIT_FAILED
    emit(as_json, report.to_json(), report.summary())
    return EXIT_OK


def _error(as_json: bool, message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    if as_json:
        emit(True, {"ok": False, "error": message}, "")
