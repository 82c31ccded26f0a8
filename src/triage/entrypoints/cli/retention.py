"""`triage retention`: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from triage.domain.retention import LegalHold, PurgeCandidate
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit
from triage.entrypoints.cli.session import session
from triage.ledger.entry import format_time

app = typer.Typer(
    help="Retention of evidence files, legal holds and consignment outcome reports.",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option(help="Why (kept in the ledger).")]


def _hold_json(hold: LegalHold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "scope": hold.scope.value,
        "target": hold.target,
        "reason": hold.reason,
        "placed_by": hold.placed_by,
        "placed_at": format_time(hold.placed_at),
        "released_by": hold.released_by,
        "released_at": None if hold.released_at is None else format_time(hold.released_at),
        "release_reason": hold.release_reason,
    }


def _hold_text(hold: LegalHold) -> str:
    text = (
        f"{hold.id}: {hold.scope.value} {hold.target}, held by {hold.placed_by} "
        f"at {format_time(hold.placed_at)}: {hold.reason}"
    )
    if hold.released_at is not None:
        text += f"\n  released by {hold.released_by} at {format_time(hold.released_at)}"
    return text


def _due_json(found: PurgeCandidate) -> dict[str, Any]:
    return {
        "sha256": found.sha256,
        "kind": found.file.kind,
        "name": found.file.name,
        "size": found.file.size,
        "rule_days": found.rule.days,
        "expired_at": format_time(found.expired_at),
    }


def _due_text(found: PurgeCandidate) -> str:
    return (
        f"  {found.sha256}  {found.file.kind}  {found.file.name} ({found.file.size} bytes), "
        f"kept {found.rule.days} days, expired {format_time(found.expired_at)}"
    )


@app.command("rules")
def rules(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """How long each kind of evidence file is kept."""
    from triage.services import retention

    with session(data_dir, token) as s:
        found = retention.rules(s.uow, s.caller)
    data = [
        {
            "kind": r.kind.name,
            "days": r.rule.days,
            "counted_from": r.rule.counted_from.value,
            "default": r.is_default,
        }
        for r in found
    ]
    lines = [
        f"{r.kind.name}: {r.rule.days} days after "
        f"{'its case closes' if r.rule.counted_from.value == 'case_closed' else 'upload'}"
        f"{' (default)' if r.is_default else f' (set by {r.rule.set_by})'}"
        for r in found
    ]
    emit(as_json, {"rules": data}, "\n".join(lines))


@app.command("set")
def set_rule(
    kind: Annotated[str, typer.Argument(help="The kind of evidence file (see `rules`).")],
    days: Annotated[int, typer.Option(help="How many days files of this kind are kept.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Set how many days a kind of evidence file is kept (a security manager or administrator)."""
    from triage.services import retention

    with session(data_dir, token) as s:
        found = retention.set_rule(s.uow, s.caller, kind, days)
    emit(
        as_json,
        {"kind": found.kind.name, "days": found.rule.days},
        f"{found.kind.name}: kept {found.rule.days} days",
    )


@app.command("holds")
def holds(
    include_released: Annotated[bool, typer.Option("--all", help="Released holds too.")] = False,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Legal holds in force (or every one, with --all)."""
    from triage.services import retention

    with session(data_dir, token) as s:
        found = retention.holds(s.uow, s.caller, include_released)
    text = "\n".join(_hold_text(h) for h in found) or "no legal hold"
    emit(as_json, {"holds": [_hold_json(h) for h in found]}, text)


@app.command("hold")
def hold(
    scope: Annotated[str, typer.Argument(help="device, consignment or file.")],
    target: Annotated[
        str, typer.Argument(help="The Device ID, the consignment reference or the file's SHA-256.")
    ],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Place a legal hold: no file it covers is purged until it is released."""
    from triage.services import retention

    with session(data_dir, token) as s:
        found = retention.place_hold(s.uow, s.caller, scope, target, reason)
    emit(as_json, _hold_json(found), f"held: {_hold_text(found)}")


@app.command("release")
def release(
    hold_id: Annotated[str, typer.Argument(help="The hold's id (see `holds`).")],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Release a legal hold."""
    from triage.services import retention

    with session(data_dir, token) as s:
        found = retention.release_hold(s.uow, s.caller, hold_id, reason)
    emit(as_json, _hold_json(found), f"released: {_hold_text(found)}")


@app.command("purge")
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be purged; change nothing.")
    ] = False,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Purge the evidence files past their retention and not held: each is recorded in the
    ledger (its SHA-256 stays), then deleted."""
    from triage.services import retention

    with session(data_dir, token) as s:
        run = retention.purge(s.uow, s.caller, s.app.evidence_store(), dry_run)
    listed = [_due_text(c) for c in run.purged]
    if run.dry_run:
        head = f"{len(run.purged)} file(s) would be purged (dry run: nothing changed)"
    else:
        head = f"{len(run.purged)} file(s) purged, {run.deleted} file(s) deleted"
    emit(
        as_json,
        {
            "dry_run": run.dry_run,
            "purged": [_due_json(c) for c in run.purged],
            "deleted": run.deleted,
        },
        "\n".join([head, *listed]),
    )
