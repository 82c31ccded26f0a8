"""`triage disposal`: destruction methods, destroying and returning quarantined devices with
their evidence, the witness of a destruction, and certificates of destruction (issue 19 item 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.domain.disposal import DEFAULT_CONFIDENTIALITY, DestructionMethod, DisposalRecord
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit
from triage.entrypoints.cli.session import session

app = typer.Typer(
    help="Destruction and return evidence and certificates of destruction.",
    no_args_is_help=True,
)

DeviceArg = Annotated[
    str, typer.Argument(help="Device ID as scanned, e.g. BC-33-AC-FF-FE-FA-55-3D.")
]
Out = Annotated[Path, typer.Option(help="Where to write the PDF.")]


def _method_text(m: DestructionMethod) -> str:
    status = "" if m.active else " (out of use)"
    return f"{m.code:20} {m.category.value:8} {m.name}{status}\n{'':29}tool: {m.tool}"


def _record_json(record: DisposalRecord) -> dict[str, Any]:
    from triage.entrypoints.schemas.disposals import DisposalOut

    return DisposalOut.of(record).model_dump(mode="json")


def _record_text(record: DisposalRecord) -> str:
    if record.kind == "return":
        return f"{record.device_id}: returned to {record.manufacturer} under RMA {record.reference}"
    method = record.method.name if record.method else "-"
    witness = record.witness_id or "awaiting a witness"
    return (
        f"{record.device_id}: destroyed ({method}) on {record.destroyed_on} at {record.site}; "
        f"{len(record.evidence)} evidence file(s); witness: {witness}"
    )


@app.command("methods")
def list_methods(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """The destruction methods, with their NIST SP 800-88 category."""
    from triage.entrypoints.schemas.disposals import MethodOut
    from triage.services import disposals

    with session(data_dir, token) as s:
        found = disposals.methods(s.uow, s.caller)
    data = {"methods": [MethodOut.of(m).model_dump() for m in found]}
    emit(as_json, data, "\n".join(_method_text(m) for m in found))


@app.command("method")
def set_method(
    code: Annotated[str, typer.Argument(help="The method's code, e.g. shred.")],
    name: Annotated[str, typer.Option(help="Its name.")],
    category: Annotated[str, typer.Option(help="NIST SP 800-88 category: clear, purge, destroy.")],
    description: Annotated[str, typer.Option(help="What is done to the device.")],
    tool: Annotated[str, typer.Option(help="The tool used.")],
    verification: Annotated[str, typer.Option(help="How the result is verified.")],
    destination: Annotated[str, typer.Option(help="Where what is left goes.")],
    confidentiality: Annotated[
        str, typer.Option(help="The media's confidentiality before sanitisation.")
    ] = DEFAULT_CONFIDENTIALITY,
    active: Annotated[bool, typer.Option("--active/--retired", help="In use or not.")] = True,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a destruction method or change one (an administrator)."""
    from triage.entrypoints.schemas.disposals import MethodOut
    from triage.services import disposals

    with session(data_dir, token) as s:
        made = disposals.set_method(
            s.uow,
            s.caller,
            code,
            name=name,
            category=category,
            description=description,
            tool=tool,
            verification=verification,
            destination=destination,
            confidentiality=confidentiality,
            active=active,
        )
    emit(as_json, MethodOut.of(made).model_dump(), _method_text(made))


@app.command("destroy")
def destroy(
    device: DeviceArg,
    method: Annotated[str, typer.Option(help="A method's code (triage disposal methods).")],
    site: Annotated[str, typer.Option(help="Where it was destroyed, or by which contractor.")],
    destroyed_on: Annotated[str, typer.Option(help="The day, YYYY-MM-DD (not in the future).")],
    evidence: Annotated[
        list[Path], typer.Option(help="A photo or video of the destruction (repeat for more).")
    ],
    reference: Annotated[str, typer.Option(help="The destruction's reference.")],
    contact: Annotated[str, typer.Option(help="Phone or e-mail of the site.")] = "",
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Destroy a quarantined device, with its method, site, day and evidence."""
    from triage.services import disposals

    files = [path.read_bytes() for path in evidence]
    with session(data_dir, token) as s:
        record = disposals.destroy_device(
            s.uow,
            s.caller,
            s.app.evidence_store(),
            device,
            reference=reference,
            method=method,
            site=site,
            destroyed_on=destroyed_on,
            contact=contact,
            files=files,
        )
    emit(as_json, _record_json(record), _record_text(record))


@app.command("return")
def return_device(
    device: DeviceArg,
    reference: Annotated[str, typer.Option(help="The returns authorisation (RMA).")],
    manufacturer: Annotated[
        str | None, typer.Option(help="The manufacturer (default: the device's).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Return a quarantined device to its manufacturer; it leaves as a dispatch."""
    from triage.services import disposals

    with session(data_dir, token) as s:
        record = disposals.return_device(s.uow, s.caller, device, reference, manufacturer)
    emit(as_json, _record_json(record), _record_text(record))


@app.command("witness")
def witness(
    device: DeviceArg,
    statement: Annotated[str, typer.Option(help="What you saw, in one line.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Witness the device's destruction (never the person who recorded it)."""
    from triage.services import disposals

    with session(data_dir, token) as s:
        record = disposals.witness_device(s.uow, s.caller, device, statement)
    emit(as_json, _record_json(record), _record_text(record))


@app.command("awaiting")
def awaiting(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Destructions awaiting a witness, oldest first."""
    from triage.services import disposals

    with session(data_dir, token) as s:
        found = disposals.awaiting_witness(s.uow, s.caller)
    text = "\n".join(_record_text(r) for r in found) or "no destruction awaits a witness"
    emit(as_json, {"disposals": [_record_json(r) for r in found]}, text)


@app.command("certificate")
def certificate(device: DeviceArg, out: Out, token: Token = "", data_dir: DataDir = None) -> None:
    """Write the certificate of destruction (PDF) of a destroyed, witnessed device."""
    from triage.services import disposals

    with session(data_dir, token) as s:
        found = disposals.certificate(s.uow, s.caller, device, s.app.issuer(), s.app.documents)
        out.write_bytes(found.content)
    typer.echo(f"certificate of destruction written to {out}")


@app.command("batch-certificate")
def batch_certificate(
    out: Out,
    device: Annotated[
        list[str] | None, typer.Option(help="A device on it (repeat); or give the days.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="First day of destruction, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day of destruction, YYYY-MM-DD.")] = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write a batch certificate of destruction: the PDF, and beside it the signed JSON."""
    from triage.services import disposals

    with session(data_dir, token) as s:
        made = disposals.batch_certificate(
            s.uow,
            s.caller,
            s.app.issuer(),
            s.app.documents,
            devices=device,
            since=since,
            until=until,
        )
        out.write_bytes(made.pdf.content)
        signed = out.with_suffix(".json")
        signed.write_bytes(made.signed.to_json())
    typer.echo(f"batch certificate of destruction written to {out} (signed document: {signed})")
