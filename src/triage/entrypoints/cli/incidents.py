"""`triage incident`: the incident and vulnerability register (issue 20, D)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from triage.domain.bounded import InputLimitError
from triage.domain.incident import MAX_RULES_BYTES, Incident
from triage.entrypoints.cli import incident_reports
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session
from triage.ledger.entry import format_time

app = typer.Typer(help="The incident and vulnerability register.", no_args_is_help=True)

incident_reports.register(app)

IncidentId = Annotated[str, typer.Argument(help="The incident's id (see `triage incident list`).")]
Title = Annotated[str, typer.Option(help="A short title.")]
Summary = Annotated[str, typer.Option(help="What happened, or what is vulnerable.")]
Severity = Annotated[str, typer.Option(help="low, medium, high or critical.")]


def _line(found: Incident, at: datetime) -> str:
    overdue = ", NOTIFICATION OVERDUE" if found.overdue(at) else ""
    return (
        f"{found.id}  {format_time(found.raised_at)}  {found.kind.value} {found.severity.value} "
        f"{found.category} [{found.status.value}{overdue}]  {found.title}"
    )


def _text(found: Incident, at: datetime) -> str:
    lines = [
        _line(found, at),
        f"  source: {found.source}"
        + (f" ({found.about_kind} {found.about_id})" if found.about_kind else ""),
        f"  raised by {found.raised_by}; rules {found.rules_version}",
        f"  {found.summary}",
    ]
    if found.component:
        lines.append(f"  component: {found.component}; reference: {found.reference or '-'}")
    if found.remediation_due:
        lines.append(f"  remediation due: {found.remediation_due.isoformat()}")
    for n in found.notifications:
        due = "" if n.deadline is None else f" due {format_time(n.deadline)}"
        if n.notified_at is not None:
            late = " (late)" if n.late else ""
            made = f": notified {format_time(n.notified_at)}{late} by {n.notified_by}"
            made += f", ref {n.reference}"
        else:
            made = ": OVERDUE" if n.overdue(at) else ": not yet notified"
        lines.append(f"  notify {n.recipient}{due}{made}")
    if found.containment:
        lines.append(f"  contained by {found.contained_by}: {found.containment}")
    if found.closure:
        lines.append(f"  closed by {found.closed_by}: {found.closure}")
    if found.closure_justification:
        lines.append(f"  closed without every notification: {found.closure_justification}")
    return "\n".join(lines)


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{option}: a date and time such as 2026-12-06T14:30") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _show(as_json: bool, found: Incident) -> None:
    at = datetime.now(UTC)
    emit(as_json, found.to_json(at), _text(found, at))


@app.command("raise")
def raise_incident(
    title: Title,
    summary: Summary,
    severity: Severity,
    category: Annotated[str, typer.Option(help="One of the rules' categories (see `rules`).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Raise an incident by hand."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        found = incidents.raise_incident(
            s.uow, s.caller, title=title, summary=summary, severity=severity, category=category
        )
    _show(as_json, found)


@app.command("vuln")
def vulnerability(
    title: Title,
    summary: Summary,
    severity: Severity,
    component: Annotated[str, typer.Option(help="The affected component and version.")],
    reference: Annotated[str | None, typer.Option(help="A CVE or other reference.")] = None,
    remediation_due: Annotated[
        str | None, typer.Option(help="Remedied by, like 2027-01-31.")
    ] = None,
    category: Annotated[str, typer.Option(help="One of the rules' categories.")] = (
        "software_vulnerability"
    ),
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a vulnerability."""
    from triage.services import incidents

    due = None
    if remediation_due is not None:
        try:
            due = date.fromisoformat(remediation_due.strip())
        except ValueError:
            raise fail("--remediation-due: a day such as 2027-01-31") from None
    with session(data_dir, token) as s:
        found = incidents.record_vulnerability(
            s.uow,
            s.caller,
            title=title,
            summary=summary,
            severity=severity,
            component=component,
            reference=reference,
            remediation_due=due,
            category=category,
        )
    _show(as_json, found)


@app.command("list")
def list_incidents(
    kind: Annotated[str | None, typer.Option(help="incident or vulnerability.")] = None,
    status: Annotated[str | None, typer.Option(help="open, contained or closed.")] = None,
    severity: Annotated[str | None, typer.Option(help="low, medium, high or critical.")] = None,
    source: Annotated[str | None, typer.Option(help="manual or an automatic source.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    offset: int = 0,
    limit: int = 100,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """The register, newest first."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        page = incidents.register(
            s.uow,
            s.caller,
            kind=kind,
            status=status,
            severity=severity,
            source=source,
            overdue=overdue,
            offset=offset,
            limit=limit,
        )
    text = "\n".join(_line(i, page.at) for i in page.incidents) or "no incident"
    data = {"total": page.total, "incidents": [i.to_json(page.at) for i in page.incidents]}
    emit(as_json, data, text)


@app.command("show")
def show(
    incident_id: IncidentId, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """One incident with its notifications."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        shown = incidents.show(s.uow, s.caller, incident_id)
        found, at = shown.incident, shown.at
    emit(as_json, found.to_json(at), _text(found, at))


@app.command("notify")
def notify(
    incident_id: IncidentId,
    recipient: Annotated[str, typer.Option(help="Who was notified: ssc, smki_pma...")],
    reference: Annotated[str, typer.Option(help="The reference the recipient gave.")],
    at: Annotated[
        str | None, typer.Option("--at", help="When it was notified (default: now).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a notification made (a security manager)."""
    from triage.services import incidents

    when = _when(at, "--at")
    with session(data_dir, token) as s:
        found = incidents.notify(s.uow, s.caller, incident_id, recipient, reference, when)
    _show(as_json, found)


@app.command("severity")
def severity(
    incident_id: IncidentId,
    to: Annotated[str, typer.Option("--to", help="low, medium, high or critical.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the ledger).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an incident's severity (a security manager)."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        found = incidents.change_severity(s.uow, s.caller, incident_id, to, reason)
    _show(as_json, found)


@app.command("contain")
def contain(
    incident_id: IncidentId,
    text: Annotated[str, typer.Option(help="What contained it.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record what contained an incident (a security manager)."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        found = incidents.contain(s.uow, s.caller, incident_id, text)
    _show(as_json, found)


@app.command("close")
def close(
    incident_id: IncidentId,
    text: Annotated[str, typer.Option(help="What was done.")],
    justification: Annotated[
        str | None,
        typer.Option(help="Why a required notification was not made (needed only then)."),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Close an incident (a security manager)."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        found = incidents.close(s.uow, s.caller, incident_id, text, justification)
    _show(as_json, found)


@app.command("sweep")
def sweep(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Raise an alert for each notification past its deadline (once each); the server does
    this on its own at every sweep."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        raised = incidents.sweep(s.uow, caller=s.caller)
    emit(as_json, {"alerts": raised}, f"{len(raised)} overdue notification alerts raised")


@app.command("rules")
def rules(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Record these rules (YAML) as the facility's own."),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """The notification rules in force, or record the facility's own with --file."""
    from triage.services import incidents

    with session(data_dir, token) as s:
        if file is not None:
            try:
                data = read_limited(file, MAX_RULES_BYTES + 1, "incident rules")
            except (InputLimitError, OSError) as exc:
                raise fail(f"--file: {exc}") from exc
            incidents.change_rules(s.uow, s.caller, data)
        found = incidents.rules(s.uow, s.caller)
    shown = {
        "version": found.rules.version,
        "sha256": found.rules.sha256,
        "default": found.is_default,
        "text": found.rules.text,
    }
    emit(as_json, shown, found.rules.text)
