"""`triage assurance` and `triage assessment` commands: the provider, commissioning mode, the
control catalogue, evidence, readiness, and security assessments. Every command authenticates
with an API token, as the API does."""

from __future__ import annotations

import json
import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from triage.domain.bounded import InputLimitError, load_yaml, read_at_most
from triage.domain.catalogue import MAX_CATALOGUE_BYTES, ControlReadiness
from triage.entrypoints.cli.options import DataDir, JsonFlag, Reason, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session
from triage.ledger.entry import format_time

assurance_app = typer.Typer(
    help="The provider, commissioning mode, controls and evidence.", no_args_is_help=True
)
evidence_app = typer.Typer(help="Evidence for the controls.", no_args_is_help=True)
assurance_app.add_typer(evidence_app, name="evidence")
assessment_app = typer.Typer(help="Security assessments (FUSA, VUSA, USSA).", no_args_is_help=True)


def _readiness_text(rows: list[ControlReadiness]) -> str:
    lines = []
    for row in rows:
        control = row.control
        lines.append(f"{control.id:8} {row.status:15} {control.title}")
        if row.status == "not_applicable":
            lines.append(f"         not applicable: {row.reason}")
            continue
        lines += [
            f"         {e.state:8} {e.expected.kind:9} {e.expected.name}"
            for e in row.evidence
            if e.state != "fresh"
        ]
    return "\n".join(lines)


def _assessment_text(found: dict[str, Any]) -> str:
    lines = [
        f"{found['id']}  {found['kind']} ({found['title']}) by {found['assessor']}: "
        f"{found['status']}, planned {found['planned_at']}"
    ]
    if found["fieldwork_start"]:
        lines.append(f"  fieldwork {found['fieldwork_start']} to {found['fieldwork_end']}")
    for f in found["findings"]:
        lines.append(f"  finding {f['id']} [{f['severity']}] {f['control_id']}: {f['status']}")
    for a in found["actions"]:
        lines.append(f"  action {a['id']} {a['owner']} due {a['due']}: {a['status']}")
    if found["outcome"]:
        lines.append(f"  outcome: {found['outcome']['result']}")
        lines += [
            f"  step {s['id']} due {s['due']}: {'done' if s['done_at'] else 'open'}"
            for s in found["outcome"]["steps"]
        ]
    return "\n".join(lines)


def _steps(items: list[str] | None) -> list[tuple[str, str]]:
    steps = []
    for item in items or []:
        description, sep, due = item.rpartition("|")
        if not sep:
            raise typer.BadParameter(
                "a step is written 'description|YYYY-MM-DD'", param_hint="--step"
            )
        steps.append((description, due))
    return steps


@assurance_app.command("status")
def status(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """The provider, the approval, commissioning mode, and whether triage may go ahead."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.status(s.uow, s.caller)
    due = found.next_assessment.schedule
    party = None if found.party is None else found.party.party
    text = "\n".join(
        [
            "provider: " + (f"{party.name} ({party.party_id})" if party else "not recorded"),
            f"approval: {found.approval.why}",
            f"triage: {'may go ahead' if found.may_triage else 'REFUSED'}: "
            f"{found.may_triage_because}",
            f"next: {due.kind} due {due.due}" + (" (OVERDUE)" if due.overdue else ""),
            *[f"  {reason}" for reason in due.reasons],
        ]
    )
    emit(as_json, found.to_json(), text)


@assurance_app.command("party")
def party(
    party_id: Annotated[str, typer.Option("--id", help="The SEC Party identifier.")],
    name: Annotated[str, typer.Option(help="The Party's registered name.")],
    role: Annotated[list[str], typer.Option(help="A SEC Party role held (repeat).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the provider's SEC Party details."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.record_party(s.uow, s.caller, party_id, name, role)
    data = {"party_id": found.party_id, "name": found.name, "roles": list(found.roles)}
    emit(as_json, data, f"SEC Party {found.name} ({found.party_id}) recorded")


@assurance_app.command("commissioning-start")
def commissioning_start(
    until: Annotated[
        str,
        typer.Option(help="When it ends, like 2027-01-31T18:00 (UTC unless a zone is given)."),
    ],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Switch on commissioning mode: triage test devices before the first assessment."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        try:
            end = datetime.fromisoformat(until.strip().replace("Z", "+00:00"))
        except ValueError:
            raise fail("--until: a date and time such as 2027-01-31T18:00") from None
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        found = assessment.start_commissioning(s.uow, s.caller, end, reason)
    emit(
        as_json,
        {"until": format_time(found.until), "reason": found.reason},
        f"commissioning mode until {format_time(found.until)}",
    )


@assurance_app.command("commissioning-end")
def commissioning_end(
    reason: Reason, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Switch off commissioning mode now."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        assessment.end_commissioning(s.uow, s.caller, reason)
    emit(as_json, {"commissioning": None}, "commissioning mode ended")


@assurance_app.command("controls")
def controls(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """The catalogue in force and every control, with whether it applies."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        found = assurance.controls(s.uow, s.caller)
    cat = found.catalogue
    head = f"{cat.name} {cat.version} " + (
        "(in force)" if found.adopted is not None else "(packaged, not yet adopted)"
    )
    rows = [
        f"{c.control.id:8} {'' if c.applicable else 'N/A '}{c.control.title} "
        f"[system: {c.control.produced_by_system}]"
        for c in found.controls
    ]
    emit(as_json, found.to_json(), "\n".join([head, *rows]))


@assurance_app.command("adopt")
def adopt(
    file: Annotated[
        Path | None, typer.Option(help="A catalogue YAML file (default: the packaged one).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Put a control catalogue in force (recorded with its SHA-256 and text)."""
    from triage.services import assurance

    text = None if file is None else file.read_text(encoding="utf-8")
    with session(data_dir, token) as s:
        found = assurance.adopt_catalogue(s.uow, s.caller, text)
    emit(
        as_json,
        {"name": found.name, "version": found.version, "sha256": found.sha256},
        f"catalogue {found.name} {found.version} in force ({len(found.controls)} controls)",
    )


@assurance_app.command("add-control")
def add_control(
    file: Annotated[Path, typer.Argument(help="The control as YAML or JSON (id 'P-...').")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a control of the provider's own."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        try:
            with file.open("rb") as stream:
                raw = read_at_most(stream, MAX_CATALOGUE_BYTES, "control")
            definition = load_yaml(raw, "control", max_bytes=MAX_CATALOGUE_BYTES)
        except (OSError, InputLimitError) as exc:
            raise fail(f"{file}: cannot read a control from it ({exc})") from exc
        if not isinstance(definition, dict):
            raise fail(f"{file}: a control is a mapping (id, clause, group, title, ...)")
        found = assurance.add_control(s.uow, s.caller, definition)
    emit(as_json, found.to_json(), f"control {found.id} added")


@assurance_app.command("applicability")
def applicability(
    control: Annotated[str, typer.Argument(help="The control id.")],
    reason: Reason,
    applicable: Annotated[
        bool, typer.Option("--applicable/--not-applicable", help="Whether it applies.")
    ] = False,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Mark a control not applicable (or applicable again), with a reason."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        found = assurance.set_applicable(s.uow, s.caller, control, applicable, reason)
    state = "applies" if applicable else "does not apply"
    emit(as_json, found.to_json(), f"control {control} {state}")


@assurance_app.command("readiness")
def readiness(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Per control: evidence fresh, stale, missing or altered."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        rows = assurance.control_readiness(s.uow, s.caller, s.app.evidence_store())
    emit(as_json, {"controls": [r.to_json() for r in rows]}, _readiness_text(rows))


@assurance_app.command("schedule")
def schedule(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Which assessment is due next, when, and why that type."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.schedule(s.uow, s.caller)
    due = found.schedule
    text = f"{due.kind} ({due.kind.long_name}) due {due.due}" + (" OVERDUE" if due.overdue else "")
    emit(as_json, found.to_json(), "\n".join([text, *[f"  {r}" for r in due.reasons]]))


@evidence_app.command("generate")
def evidence_generate(
    name: Annotated[
        list[str] | None, typer.Option(help="Only this kind of evidence (repeat).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Produce automatic evidence now, each stored by its SHA-256 in the ledger."""
    from triage.services import automatic_evidence

    with session(data_dir, token) as s:
        made = automatic_evidence.generate(
            s.uow,
            s.caller,
            s.app.issuer(),
            s.app.replay_check,
            s.app.evidence_store(),
            name,
        )
    lines = [f"{e.name:22} {e.sha256[:16]}  {json.dumps(e.summary)}" for e in made]
    emit(as_json, {"items": [e.to_json() for e in made]}, "\n".join(lines))


@evidence_app.command("upload")
def evidence_upload(
    file: Annotated[Path, typer.Argument(help="The document.")],
    name: Annotated[str, typer.Option(help="The evidence it is (as in the catalogue).")],
    title: Annotated[str, typer.Option(help="What the document is.")],
    control: Annotated[
        list[str] | None, typer.Option(help="A control it supports (repeat).")
    ] = None,
    media_type: Annotated[str | None, typer.Option(help="Default: from the name.")] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Keep a document (policy, certificate, pen test report) with its SHA-256."""
    from triage.services import assurance

    media = media_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    try:
        source = file.open("rb")
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from exc
    with source, session(data_dir, token) as s:
        found = assurance.upload(
            s.uow,
            s.caller,
            s.app.evidence_store(),
            name=name,
            title=title,
            filename=file.name,
            media_type=media,
            content=source,
            control_ids=control or [],
        )
    emit(as_json, found.to_json(), f"evidence {found.id}: {found.sha256}")


@evidence_app.command("list")
def evidence_list(
    name: Annotated[str | None, typer.Option(help="Only this evidence.")] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Evidence recorded, oldest first, with whether each file still matches its hash."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        items, total = assurance.evidence_list(
            s.uow,
            s.caller,
            s.app.evidence_store(),
            name,
            0,
            10_000,
        )
    lines = [
        f"{e.evidence.id}  {e.evidence.kind:9} {e.evidence.name:22} {e.integrity:8} "
        f"{e.evidence.sha256[:16]}"
        for e in items
    ]
    listed = [e.to_json() for e in items]
    emit(as_json, {"items": listed, "total": total}, "\n".join(lines) or "no evidence")


@evidence_app.command("get")
def evidence_get(
    evidence_id: Annotated[str, typer.Argument(help="The evidence id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the file.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write an evidence file (refused when it no longer matches its recorded hash)."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        _, content = assurance.evidence_file(
            s.uow,
            s.caller,
            s.app.evidence_store(),
            evidence_id,
        )
    out.write_bytes(content)
    typer.echo(f"written to {out}")


@evidence_app.command("check")
def evidence_check(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Every evidence file against its recorded SHA-256; exits 1 when one does not match."""
    from triage.services import assurance

    with session(data_dir, token) as s:
        flagged = assurance.check_files(s.uow, s.caller, s.app.evidence_store())
    lines = [f"{f.id}  {f.name}: {f.state}" for f in flagged]
    listed = [f.to_json() for f in flagged]
    emit(as_json, {"flagged": listed}, "\n".join(lines) or "ok: every file matches")
    if flagged:
        raise typer.Exit(1)


# -- assessments ----------------------------------------------------------------------
@assessment_app.command("plan")
def plan(
    kind: Annotated[str, typer.Option(help="FUSA, VUSA or USSA.")],
    assessor: Annotated[str, typer.Option(help="Who assesses.")],
    scope: Annotated[str, typer.Option(help="What is assessed.")],
    date: Annotated[str, typer.Option(help="Planned date, YYYY-MM-DD.")],
    control: Annotated[
        list[str] | None, typer.Option(help="A control assessed (default: all that apply).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an assessment to come."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.plan(
            s.uow,
            s.caller,
            kind,
            assessor,
            scope,
            date,
            control,
        )
    emit(as_json, found.to_json(), _assessment_text(found.to_json()))


@assessment_app.command("fieldwork")
def fieldwork(
    assessment_id: Annotated[str, typer.Argument(help="The assessment.")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """When the assessor worked at the facility."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.record_fieldwork(s.uow, s.caller, assessment_id, start, end)
    emit(as_json, found.to_json(), _assessment_text(found.to_json()))


@assessment_app.command("attach")
def attach(
    assessment_id: Annotated[str, typer.Argument(help="The assessment.")],
    evidence: Annotated[list[str], typer.Option(help="An evidence id (repeat).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Put evidence in front of the assessor."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.attach_evidence(s.uow, s.caller, assessment_id, evidence)
    emit(as_json, found.to_json(), f"{len(found.evidence)} pieces of evidence attached")


@assessment_app.command("finding")
def finding(
    assessment_id: Annotated[str, typer.Argument(help="The assessment.")],
    control: Annotated[str, typer.Option(help="The control it is about.")],
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")],
    description: Annotated[str, typer.Option(help="What the assessor found.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a finding."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.raise_finding(
            s.uow,
            s.caller,
            assessment_id,
            control,
            severity,
            description,
        )
    emit(as_json, found.to_json(), f"finding {found.id} on {found.control_id}")


@assessment_app.command("respond")
def respond(
    finding_id: Annotated[str, typer.Argument(help="The finding.")],
    text: Annotated[str, typer.Option(help="The provider's response.")],
    due: Annotated[str, typer.Option(help="Remedied by, YYYY-MM-DD.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Respond to a finding, with a date."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.respond(s.uow, s.caller, finding_id, text, due)
    due_text = None if found.response_due is None else found.response_due.isoformat()
    emit(as_json, found.to_json(), f"finding {finding_id} answered, due {due_text}")


@assessment_app.command("action")
def action(
    finding_id: Annotated[str, typer.Argument(help="The finding.")],
    description: Annotated[str, typer.Option(help="What will be done.")],
    owner: Annotated[str, typer.Option(help="Who does it.")],
    due: Annotated[str, typer.Option(help="By when, YYYY-MM-DD.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Plan a remedial action."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.plan_action(
            s.uow,
            s.caller,
            finding_id,
            description,
            owner,
            due,
        )
    emit(as_json, found.to_json(), f"action {found.id} for {owner}, due {found.due}")


@assessment_app.command("action-done")
def action_done(
    action_id: Annotated[str, typer.Argument(help="The remedial action.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a remedial action as done."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.complete_action(s.uow, s.caller, action_id)
    emit(as_json, found.to_json(), f"action {action_id} done")


@assessment_app.command("close-finding")
def close_finding(
    finding_id: Annotated[str, typer.Argument(help="The finding.")],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a remedied finding."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.close_finding(s.uow, s.caller, finding_id, reason)
    emit(as_json, found.to_json(), f"finding {finding_id} closed")


@assessment_app.command("outcome")
def outcome(
    assessment_id: Annotated[str, typer.Argument(help="The assessment.")],
    result: Annotated[
        str, typer.Option(help="approval, approval_with_steps, deferred or rejection.")
    ],
    step: Annotated[
        list[str] | None, typer.Option(help="An additional step, 'description|YYYY-MM-DD'.")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the outcome of an assessment."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.record_outcome(
            s.uow,
            s.caller,
            assessment_id,
            result,
            _steps(step),
        )
    emit(as_json, found.to_json(), _assessment_text(found.to_json()))


@assessment_app.command("step-done")
def step_done(
    step_id: Annotated[str, typer.Argument(help="The approval step.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an additional step of an approval as done."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.complete_step(s.uow, s.caller, step_id)
    emit(as_json, found.to_json(), f"step {step_id} done")


@assessment_app.command("list")
def list_assessments(
    token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Every assessment, oldest first."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = [a.to_json() for a in assessment.list_all(s.uow, s.caller)]
    emit(
        as_json,
        {"items": found},
        "\n".join(_assessment_text(a) for a in found) or "no assessments yet",
    )


@assessment_app.command("show")
def show(
    assessment_id: Annotated[str, typer.Argument(help="The assessment.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """One assessment with its findings, actions, outcome and evidence."""
    from triage.services import assessment

    with session(data_dir, token) as s:
        found = assessment.get(s.uow, s.caller, assessment_id)
    emit(as_json, found.to_json(), _assessment_text(found.to_json()))


@assurance_app.command("oscal")
def oscal(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write the JSON.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Export OSCAL JSON: the catalog, each assessment's results, and the POA&M."""
    from triage.services import oscal_export

    written = {}
    with session(data_dir, token) as s:
        documents = oscal_export.all_documents(s.uow, s.caller, s.app.oscal, s.app.facility)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        path = out_dir / name
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written[name] = str(path)
    emit(as_json, {"written": written}, "\n".join(written.values()))


@assessment_app.command("pack")
def pack(
    assessment_id: Annotated[str, typer.Argument(help="The assessment.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the zip.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """The evidence pack: PDF, evidence files and a manifest of hashes and proofs (zip)."""
    from triage.services.evidence_pack import evidence_pack

    with session(data_dir, token) as s:
        content = evidence_pack(
            s.uow,
            s.caller,
            assessment_id,
            s.app.issuer(),
            s.app.evidence_store(),
            s.app.packs,
        ).pack
    out.write_bytes(content)
    typer.echo(f"evidence pack written to {out}")
