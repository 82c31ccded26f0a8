"""`triage` commands of the security team: thresholds, working hours, alerts, suspensions and
the access review. Every command authenticates with an API token, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.domain.thresholds import Metric, Scope, WorkingHours
from triage.domain.tool import Tool
from triage.entrypoints.cli.options import DataDir, JsonFlag, Reason, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session

# The response models (pydantic) are imported inside the commands that print them, so that
# `triage --help` does not load them.

thresholds_app = typer.Typer(help="Anomaly thresholds.", no_args_is_help=True)
hours_app = typer.Typer(help="The facility's working hours.", no_args_is_help=True)
alerts_app = typer.Typer(help="Anomaly alerts.", no_args_is_help=True)
security_app = typer.Typer(
    help="Suspending and reinstating tools and operators.", no_args_is_help=True
)


@thresholds_app.command("show")
def thresholds_show(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """The thresholds and working hours in force."""
    from triage.services import anomaly

    with session(data_dir, token) as s:
        view = anomaly.thresholds(s.uow, s.caller)
    data = view.to_json()
    lines = [
        f"{f['metric']:24} per {f['applies_to']:9} {f['max_count']:>6} in "
        f"{f['window_minutes']} min ({f['source']})"
        for f in data["facility"]
    ]
    lines += [
        f"{s['metric']:24} {s['scope']} {s['subject_id']}: {s['max_count']} in "
        f"{s['window_minutes']} min"
        for s in data["overrides"]
    ]
    hours = data["working_hours"]
    lines.append(
        "working hours: always"
        if hours is None
        else f"working hours: {WorkingHours.from_json(hours).describe()}"
    )
    emit(as_json, data, "\n".join(lines))


@thresholds_app.command("set")
def thresholds_set(
    metric: Annotated[str, typer.Argument(help=", ".join(m.value for m in Metric))],
    max_count: Annotated[int, typer.Option(help="Events allowed; one more is a breach.")],
    window: Annotated[int, typer.Option(help="Sliding window in minutes.")] = 60,
    scope: Annotated[str, typer.Option(help=", ".join(s.value for s in Scope))] = "facility",
    subject: Annotated[
        str | None, typer.Option(help="The tool or operator (not for the facility).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a threshold facility-wide or for one tool or operator."""
    from triage.services import anomaly

    with session(data_dir, token) as s:
        setting = anomaly.set_threshold(
            s.uow,
            s.caller,
            scope,
            subject,
            metric,
            max_count,
            window,
        )
    who = setting.scope.value + (f" {setting.subject_id}" if setting.subject_id else "")
    emit(
        as_json,
        setting.to_json(),
        f"{setting.metric.value} for {who}: at most {setting.limit.max_count} in "
        f"{setting.limit.window_minutes} minutes",
    )


@hours_app.command("set")
def working_hours_set(
    start: Annotated[
        str | None, typer.Option(help="HH:MM, the facility's local time ($TRIAGE_TIME_ZONE).")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="HH:MM, the facility's local time ($TRIAGE_TIME_ZONE).")
    ] = None,
    day: Annotated[
        list[str] | None, typer.Option(help="Working day, mon..sun (repeat; default mon-fri).")
    ] = None,
    clear: Annotated[bool, typer.Option(help="No working hours: always working time.")] = False,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Set the working hours that the out-of-hours threshold watches."""
    from triage.services import anomaly

    with session(data_dir, token) as s:
        if clear == bool(start or end):
            raise fail("give --start and --end, or --clear")
        hours = anomaly.set_working_hours(s.uow, s.caller, start, end, day)
    data = {"working_hours": None if hours is None else hours.to_json()}
    text = (
        "working hours cleared: every hour is working time"
        if hours is None
        else f"working hours {hours.describe()}"
    )
    emit(as_json, data, text)


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    offset: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Anomaly alerts, oldest first."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.security import AlertOut
    from triage.services import anomaly

    with session(data_dir, token) as s:
        found, total = anomaly.alerts(
            s.uow,
            s.caller,
            None if status == "all" else status,
            offset,
            limit,
        )
    items = [dump(AlertOut.of(a)) for a in found]
    text = "\n".join(
        f"{a['id']}  {a['raised_at']}  {a['status']:8} {a['metric']:22} "
        f"{a['subject']['kind']} {a['subject']['id']}  "
        f"{a['detail']['count']}>{a['detail']['max_count']} in "
        f"{a['detail']['window_minutes']} min"
        for a in items
    )
    emit(
        as_json,
        {"items": items, "total": total, "offset": offset, "limit": limit},
        text or "no alerts",
    )


@alerts_app.command("resolve")
def alerts_resolve(
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    resolution: Annotated[str, typer.Option(help="What was found and done.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record how an alert was dealt with (reinstating is a separate command)."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.security import AlertOut
    from triage.services import anomaly

    with session(data_dir, token) as s:
        resolved = anomaly.resolve_alert(s.uow, s.caller, alert_id, resolution)
    emit(as_json, dump(AlertOut.of(resolved)), f"alert {alert_id} resolved")


@security_app.command("reinstate-operator")
def reinstate_operator(
    operator_id: Annotated[str, typer.Argument(help="The suspended operator.")],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Let a suspended operator act again (a security manager)."""
    from triage.services import reinstatement

    with session(data_dir, token) as s:
        found = reinstatement.reinstate_operator(s.uow, s.caller, operator_id, reason)
    emit(as_json, {"id": found.id, "suspended": found.suspended}, f"{found.id} reinstated")


ToolArg = Annotated[str, typer.Argument(help="The tool's id.")]


def _tool_changed(found: Tool, done: str, as_json: bool) -> None:
    emit(as_json, {"id": found.id, "status": found.status.value}, f"tool {found.id} {done}")


@security_app.command("suspend-tool")
def suspend_tool(
    tool_id: ToolArg,
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """The tool is suspended (recorded with the reason)."""
    from triage.services import tools

    with session(data_dir, token) as s:
        found = tools.suspend_tool(s.uow, s.caller, tool_id, reason)
    _tool_changed(found, "suspended", as_json)


@security_app.command("reinstate-tool")
def reinstate_tool(
    tool_id: ToolArg,
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """The tool is reinstated (recorded with the reason)."""
    from triage.services import reinstatement

    with session(data_dir, token) as s:
        found = reinstatement.reinstate_tool(s.uow, s.caller, tool_id, reason)
    _tool_changed(found, "reinstated", as_json)


@security_app.command("retire-tool")
def retire_tool(
    tool_id: ToolArg,
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """The tool is retired (recorded with the reason)."""
    from triage.services import tools

    with session(data_dir, token) as s:
        found = tools.retire_tool(s.uow, s.caller, tool_id, reason)
    _tool_changed(found, "retired", as_json)


def access_review_command(
    csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per item.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON (the default).")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Who holds which role, tokens outstanding, tools, thresholds and open alerts."""
    from triage.services import access_review

    if csv and as_json:
        raise fail("choose --csv or --json, not both")
    with session(data_dir, token) as s:
        review = access_review.access_review(s.uow, s.caller)
    text = access_review.to_csv(review) if csv else access_review.to_json(review)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8", newline="")
    typer.echo(f"access review written to {output}", err=True)
