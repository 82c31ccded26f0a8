"""`triage consignment`: consignment manifests in (or previewed), consignments listed and
closed by their reference."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from triage.domain.bounded import InputLimitError
from triage.domain.manifest import MAX_MANIFEST_BYTES, ManifestFormatError, parse_manifest
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail, progress
from triage.entrypoints.cli.session import session

app = typer.Typer(help="Consignments of returned devices.", no_args_is_help=True)


class OutcomeFormat(StrEnum):
    """The formats of an outcome report."""

    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


@app.command("import")
def consignment_import(
    manifest: Annotated[
        Path, typer.Argument(help="CSV or JSON manifest.", exists=True, dir_okay=False)
    ],
    reference: Annotated[str, typer.Option(help="The asset owner's consignment reference.")],
    asset_owner: Annotated[str, typer.Option(help="Who returned the devices.")],
    token: Token = "",
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good rows and list the bad ones.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(help="Record nothing: list what would be imported and every bad row."),
    ] = False,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a consignment manifest: all rows or none, unless --skip-invalid (--dry-run first
    to see what would be imported)."""
    from triage.services import intake
    from triage.services.intake import ManifestRejected

    kind = "json" if manifest.suffix.lower() == ".json" else "csv"
    with session(data_dir, token) as s:
        # Who is asking comes first: nobody learns anything about a file unsigned-in.
        caller = s.caller
        try:
            rows = parse_manifest(read_limited(manifest, MAX_MANIFEST_BYTES, "manifest"), kind)
        except (ManifestFormatError, InputLimitError) as exc:
            raise fail(f"{manifest}: {exc}") from exc
        with progress(len(rows) + 1, "importing", not as_json) as advance:
            try:
                report = intake.import_manifest(
                    s.uow, caller, reference, asset_owner, rows, skip_invalid, advance, dry_run
                )
            except ManifestRejected as exc:
                lines = "\n".join(f"  {p}" for p in exc.problems)
                raise fail(
                    f"{len(exc.problems)} bad row(s) in {manifest}, nothing imported:\n"
                    f"{lines}\nFix them, or import the good rows with --skip-invalid."
                ) from exc
    data = {
        "consignment_id": report.consignment_id,
        "imported": report.imported,
        "rejected": [
            {"line": p.line, "field": p.field, "problem": p.problem} for p in report.problems
        ],
    }
    if dry_run:
        data["dry_run"] = True
        text = f"dry run, nothing recorded: {report.imported} device(s) would be expected"
        skipped = "bad row(s), imported only with --skip-invalid"
    else:
        text = f"consignment {reference} of {asset_owner} ({report.consignment_id}): "
        text += f"{report.imported} device(s) expected"
        skipped = "row(s) skipped"
    if report.problems:
        text += f"\n{len(report.problems)} {skipped}:\n" + "\n".join(
            f"  {p}" for p in report.problems
        )
    emit(as_json, data, text)


@app.command("list")
def consignment_list(
    token: Token = "",
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (oldest first).")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Consignments, oldest first: reference, asset owner, expected and arrived, open or
    closed (the reference is what `triage consignment close` takes)."""
    from triage.entrypoints.schemas.triage import ConsignmentOut
    from triage.services.views import consignments as consignment_views

    with session(data_dir, token) as s:
        items, total = consignment_views.consignments(s.uow, s.caller, offset, limit)
    data = {
        "items": [
            ConsignmentOut(**ConsignmentOut.fields_of(c)).model_dump(mode="json") for c in items
        ],
        "total": total,
        "offset": offset,
        "limit": limit,
    }
    lines = [
        f"{c.reference}\t{c.asset_owner}\t{c.arrived}/{c.expected} arrived\t{c.status.value}"
        for c in items
    ]
    shown = f"{len(items)} of {total} consignment(s)"
    emit(as_json, data, "\n".join([*lines, shown]))


@app.command("close")
def consignment_close(
    reference: Annotated[
        str, typer.Argument(help="The consignment's reference (as `triage consignment list`).")
    ],
    asset_owner: Annotated[
        str | None, typer.Option(help="Whose reference, when two asset owners used it.")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a consignment and report what was expected but never arrived."""
    from triage.services import intake

    with session(data_dir, token) as s:
        closed, missing = intake.close_consignment(s.uow, s.caller, reference, asset_owner)
    text = (
        f"consignment {closed.reference} of {closed.asset_owner} closed: "
        f"{closed.arrived} of {closed.expected} arrived"
    )
    if missing:
        text += "\nnever arrived:\n" + "\n".join(f"  {d}" for d in missing)
    emit(as_json, {"consignment_id": closed.id, "never_arrived": missing}, text)


@app.command("outcome")
def consignment_outcome(
    reference: Annotated[str, typer.Argument(help="The consignment's reference (or id).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")],
    asset_owner: Annotated[
        str | None, typer.Option(help="Whose reference, when two asset owners used it.")
    ] = None,
    report_format: Annotated[
        OutcomeFormat, typer.Option("--format", help="json (signed), csv or pdf.")
    ] = OutcomeFormat.JSON,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write a consignment's outcome report, signed with the facility's key (JSON; check it
    with `triage verify FILE --key VKEY`), or as CSV or PDF."""
    from triage.services import outcome_reports

    with session(data_dir, token) as s:
        issuer = s.app.issuer()
        if report_format is OutcomeFormat.CSV:
            text, _ = outcome_reports.outcome_csv(s.uow, s.caller, reference, issuer, asset_owner)
            content = text.encode("utf-8")
        elif report_format is OutcomeFormat.PDF:
            content = outcome_reports.outcome_pdf(
                s.uow, s.caller, reference, issuer, s.app.documents, asset_owner
            ).content
        else:
            report = outcome_reports.outcome_report(s.uow, s.caller, reference, issuer, asset_owner)
            content = report.signed.to_json()
    out.write_bytes(content)
    typer.echo(f"written to {out}")
