"""`triage consignment`: consignment manifests in, and consignments closed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.domain.bounded import InputLimitError
from triage.domain.manifest import MAX_MANIFEST_BYTES, ManifestFormatError, parse_manifest
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail, progress
from triage.entrypoints.cli.session import session
from triage.services import intake
from triage.services.intake import ManifestRejected

app = typer.Typer(help="Consignments of returned devices.", no_args_is_help=True)


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
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a consignment manifest: all rows or none, unless --skip-invalid."""
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
                    s.uow, caller, reference, asset_owner, rows, skip_invalid, advance
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
    text = f"consignment {report.consignment_id}: {report.imported} device(s) expected"
    if report.problems:
        text += f"\n{len(report.problems)} row(s) skipped:\n" + "\n".join(
            f"  {p}" for p in report.problems
        )
    emit(as_json, data, text)


@app.command("close")
def consignment_close(
    consignment_id: str, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Close a consignment and report what was expected but never arrived."""
    with session(data_dir, token) as s:
        closed, missing = intake.close_consignment(s.uow, s.caller, consignment_id)
    text = f"consignment {closed.id} closed: {closed.arrived} of {closed.expected} arrived"
    if missing:
        text += "\nnever arrived:\n" + "\n".join(f"  {d}" for d in missing)
    emit(as_json, {"consignment_id": closed.id, "never_arrived": missing}, text)
