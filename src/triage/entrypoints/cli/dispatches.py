"""`triage dispatch`: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2).

The facility's side (create, pack, unpack, cancel, close, note, hand-over, acknowledge, list,
show) needs a token; the asset owner's side (verify-note, sign-acknowledgement) runs offline
with keys only, no database and no token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.domain.dispatch import Dispatch, SealChecks
from triage.domain.signed_document import MAX_BYTES
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session
from triage.errors import InvalidInput
from triage.ledger.bounded import InputLimitError
from triage.ledger.entry import format_time
from triage.ledger.errors import VerificationError

app = typer.Typer(
    help="Dispatches, manifests, VVTT checks, handovers, acknowledgements.",
    no_args_is_help=True,
)

DispatchId = Annotated[str, typer.Argument(help="The dispatch's id.")]
Device = Annotated[str, typer.Argument(help="The Device ID (scanned).")]
Discrepancies = Annotated[
    list[str] | None,
    typer.Option(
        "--discrepancy",
        help="DEVICE:KIND:TEXT, KIND one of missing, seal_number_mismatch, seal_damaged, "
        "unexpected_device, other (repeat for each).",
    ),
]


def _json(found: Dispatch) -> dict[str, Any]:
    return {
        "id": found.id,
        "asset_owner": found.asset_owner,
        "destination": found.destination.value,
        "reference": found.reference,
        "state": found.state.value,
        "created_at": format_time(found.created_at),
        "devices": [
            {
                "device_id": d.device_id,
                "job_id": d.job_id,
                "seal_serial": d.seal_serial,
                "checks": d.checks.to_json(),
            }
            for d in found.devices
        ],
        "note_sha256": found.note_digest,
        "manifest_sha256": found.manifest_digest,
        "handover": None
        if found.handover is None
        else {
            "carrier": found.handover.carrier,
            "vehicle": found.handover.vehicle,
            "container_seal": found.handover.container_seal,
            "at": format_time(found.handover.at),
        },
        "acknowledged": None
        if found.acknowledgement is None
        else {"how": found.acknowledgement.how, "by": found.acknowledgement.by},
        "discrepancies": [
            {**d.to_json(), "exception_id": d.exception_id} for d in found.discrepancies
        ],
    }


def _text(found: Dispatch) -> str:
    lines = [
        f"dispatch {found.id}: {found.state.value.replace('_', ' ')}",
        f"  to {found.destination.value.replace('_', ' ')} of {found.asset_owner}"
        + (f" (RMA {found.reference})" if found.reference else ""),
    ]
    lines += [f"  {d.device_id}  seal {d.seal_serial or '-'}" for d in found.devices]
    if found.note_digest:
        lines.append(f"  note sha256 {found.note_digest}")
    if found.handover:
        h = found.handover
        lines.append(f"  handed to {h.carrier}, vehicle {h.vehicle}, seal {h.container_seal}")
    lines += [f"  discrepancy: {d.device_id} {d.kind.value} {d.text}" for d in found.discrepancies]
    return "\n".join(lines)


def _discrepancies(items: list[str] | None) -> list[tuple[str, str, str]]:
    found = []
    for item in items or []:
        parts = item.split(":", 2)
        if len(parts) < 2:
            raise fail(f"--discrepancy {item!r}: give DEVICE:KIND:TEXT")
        found.append((parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    return found


@app.command("create")
def create(
    asset_owner: Annotated[str, typer.Argument(help="The asset owner's id, e.g. MAP-1.")],
    destination: Annotated[
        str,
        typer.Option(help="asset_owner (released devices), manufacturer (returned) or dcc (hubs)."),
    ] = "asset_owner",
    reference: Annotated[
        str | None,
        typer.Option(help="The RMA (manufacturer) or DCC return reference of a return."),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a dispatch for one asset owner (stores, supervisor)."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found = dispatches.create(s.uow, s.caller, asset_owner, destination, reference)
    emit(as_json, _json(found), f"dispatch {found.id} opened for {found.asset_owner}")


@app.command("pack")
def pack(
    dispatch_id: DispatchId,
    device: Device,
    seal: Annotated[str, typer.Option(help="The serial scanned from the device's seal.")] = "",
    viewed: Annotated[bool, typer.Option("--viewed/--not-viewed")] = False,
    verified: Annotated[bool, typer.Option("--verified/--not-verified")] = False,
    tugged: Annotated[bool, typer.Option("--tugged/--not-tugged")] = False,
    twisted: Annotated[bool, typer.Option("--twisted/--not-twisted")] = False,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Pack a device with its seal scanned and the VVTT checks confirmed (each flag the
    packer gives). A failed check packs nothing and raises an exception for a supervisor."""
    from triage.services import dispatches

    checks = SealChecks(viewed, verified, tugged, twisted)
    with session(data_dir, token) as s:
        found = dispatches.pack(s.uow, s.caller, dispatch_id, device, seal, checks)
    emit(as_json, _json(found), f"packed; dispatch {found.id} holds {len(found.devices)}")


@app.command("unpack")
def unpack(
    dispatch_id: DispatchId,
    device: Device,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Take a device out of an open dispatch."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found = dispatches.unpack(s.uow, s.caller, dispatch_id, device)
    emit(as_json, _json(found), f"unpacked; dispatch {found.id} holds {len(found.devices)}")


@app.command("cancel")
def cancel(
    dispatch_id: DispatchId, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Cancel an open dispatch."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found = dispatches.cancel(s.uow, s.caller, dispatch_id)
    emit(as_json, _json(found), f"dispatch {found.id} cancelled")


@app.command("close")
def close(
    dispatch_id: DispatchId, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Freeze the manifest and sign the dispatch note."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found = dispatches.close(s.uow, s.caller, dispatch_id, s.app.issuer(), s.app.documents)
    emit(as_json, _json(found), f"dispatch {found.id} closed; note sha256 {found.note_digest}")


@app.command("note")
def note(
    dispatch_id: DispatchId,
    out: Annotated[Path, typer.Option(help="File to write (.json: the signed note; .pdf).")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Download the dispatch note: the signed JSON, or the PDF when OUT ends in .pdf."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        if out.suffix.lower() == ".pdf":
            content = dispatches.note_pdf(
                s.uow, s.caller, dispatch_id, s.app.issuer(), s.app.documents
            ).content
        else:
            content = dispatches.note(s.uow, s.caller, dispatch_id)
    out.write_bytes(content)
    typer.echo(f"wrote {out}")


@app.command("hand-over")
def hand_over(
    dispatch_id: DispatchId,
    carrier: Annotated[str, typer.Option(help="The carrier's name.")],
    vehicle: Annotated[str, typer.Option(help="The vehicle's registration.")],
    container_seal: Annotated[str, typer.Option(help="The container or vehicle seal number.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the closed dispatch handed to a carrier."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found = dispatches.hand_over(s.uow, s.caller, dispatch_id, carrier, vehicle, container_seal)
    emit(as_json, _json(found), f"dispatch {found.id} handed over to {carrier}")


@app.command("acknowledge")
def acknowledge(
    dispatch_id: DispatchId,
    signed: Annotated[
        Path | None, typer.Option(help="An acknowledgement signed with the owner's key.")
    ] = None,
    discrepancy: Discrepancies = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the asset owner's acknowledgement: upload a signed one (--signed FILE), or, as a
    person of the asset owner, acknowledge as a recorded act with any --discrepancy."""
    from triage.services import dispatches

    if signed is not None and discrepancy:
        raise fail("--discrepancy: a signed acknowledgement carries its own discrepancies")
    with session(data_dir, token) as s:
        if signed is not None:
            data = read_limited(signed, MAX_BYTES, "acknowledgement")
            found = dispatches.acknowledge_signed(s.uow, s.caller, dispatch_id, data)
        else:
            items = _discrepancies(discrepancy)
            found = dispatches.acknowledge(s.uow, s.caller, dispatch_id, items)
    emit(as_json, _json(found), f"dispatch {found.id} acknowledged\n{_text(found)}")


@app.command("list")
def list_dispatches(
    state: Annotated[str | None, typer.Option(help="Only dispatches in this state.")] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Dispatches, newest first (a person of an asset owner sees its own)."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found, total = dispatches.dispatches(s.uow, s.caller, state, 0, 500)
    rows = [
        {
            "id": d.id,
            "asset_owner": d.asset_owner,
            "destination": d.destination.value,
            "state": d.state.value,
            "devices": d.device_count,
            "created_at": format_time(d.created_at),
        }
        for d in found
    ]
    text = "\n".join(
        f"{r['id']}  {r['state']:<12} {r['asset_owner']}  {r['devices']} device(s)" for r in rows
    )
    emit(as_json, {"dispatches": rows, "total": total}, text or "no dispatch")


@app.command("show")
def show(
    dispatch_id: DispatchId, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """One dispatch."""
    from triage.services import dispatches

    with session(data_dir, token) as s:
        found = dispatches.dispatch(s.uow, s.caller, dispatch_id)
    emit(as_json, _json(found), _text(found))


# -- offline: the asset owner's tools ----------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return read_limited(path, MAX_BYTES, what)
    except (OSError, InputLimitError) as exc:
        raise fail(f"{path}: {exc}") from exc


@app.command("verify-note")
def verify_note(
    note_file: Annotated[Path, typer.Argument(help="The dispatch note (JSON).")],
    key: Annotated[str, typer.Option(help="The facility's verifier key.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a dispatch note offline with the facility's verifier key alone: prints the
    devices and their seals; exits 1 with the reason if the note is not valid."""
    from triage.services import dispatches

    data = _read(note_file, "dispatch note")
    try:
        signed = dispatches.verify_note(data, key.strip())
    except VerificationError as exc:
        emit(as_json, {"ok": False, "error": str(exc)}, f"FAILED: {exc}")
        raise typer.Exit(1) from exc
    document = signed.document
    devices = document["manifest"]["devices"]
    lines = [
        f"ok: dispatch note {document.get('dispatch_id')} of {document.get('facility_name')} "
        f"for {document.get('asset_owner')}, signed, unchanged since (sha256 {signed.digest})",
        *(f"  {d.get('device_id')}  seal {d.get('seal_serial') or '-'}" for d in devices),
    ]
    emit(as_json, {"ok": True, "sha256": signed.digest, "document": document}, "\n".join(lines))


@app.command("sign-acknowledgement")
def sign_acknowledgement(
    note_file: Annotated[Path, typer.Argument(help="The dispatch note received (JSON).")],
    key: Annotated[Path, typer.Option(help="The asset owner's signing key file.")],
    out: Annotated[Path, typer.Option(help="Where to write the signed acknowledgement.")],
    discrepancy: Discrepancies = None,
    facility_key: Annotated[
        str | None, typer.Option(help="The facility's verifier key: check the note first.")
    ] = None,
) -> None:
    """Sign, offline with the asset owner's key, the acknowledgement of a dispatch note,
    listing each --discrepancy; upload the file to the facility (or mail it to its stores)."""
    from triage.services import dispatches

    data = _read(note_file, "dispatch note")
    signer = _read(key, "signing key").decode("utf-8", "replace").strip()
    items = _discrepancies(discrepancy)
    try:
        signed = dispatches.sign_acknowledgement(
            data, signer, items, facility_key.strip() if facility_key else None
        )
    except (VerificationError, InvalidInput, ValueError) as exc:
        raise fail(str(exc), code=1) from exc
    out.write_bytes(signed.to_json())
    typer.echo(f"wrote {out}: acknowledgement sha256 {signed.digest}")
