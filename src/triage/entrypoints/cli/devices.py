"""`triage device`: a device through triage, from scan to release, with its history,
receipt and certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.domain.bounded import InputLimitError, load_json
from triage.domain.job import TriageJob
from triage.domain.security_log_reading import MAX_GBCS_BYTES
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session
from triage.ledger.entry import format_time

MAX_EVIDENCE_BYTES = 1024 * 1024  # as much as the API takes
DeviceArg = Annotated[
    str, typer.Argument(help="Device ID as scanned, e.g. BC-33-AC-FF-FE-FA-55-3D.")
]

app = typer.Typer(help="Devices through triage, from scan to release.", no_args_is_help=True)


def _emit_job(job: TriageJob, as_json: bool) -> None:
    """Print the state the device's job is in now."""
    emit(
        as_json,
        {"job_id": job.id, "device_id": job.device_id, "state": job.state.value},
        f"{job.device_id}: {job.state.value}",
    )


@app.command("scan")
def device_scan(
    device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """A device arrives at the facility."""
    from triage.services import intake

    with session(data_dir, token) as s:
        result = intake.scan_device(s.uow, s.caller, device)
    data = {
        "device_id": result.device_id,
        "job_id": result.job.id if result.job else None,
        "state": result.job.state.value if result.job else None,
        "exception_id": result.exception_id,
        "message": result.message,
    }
    emit(as_json, data, f"{result.device_id}: {result.message}")


@app.command("inspect")
def device_inspect(
    device: DeviceArg,
    evidence: Annotated[
        Path,
        typer.Option(
            help="JSON file of the inspection ('-' for stdin): the physical checks, "
            "legitimate_reasons (with their date 'on'), and typed_log only when the device's "
            "log could not be read."
        ),
    ],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the inspection; prints the policy's decision with every reason."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        try:
            raw = read_limited(evidence, MAX_EVIDENCE_BYTES, "evidence")
            obj = load_json(raw, "evidence", max_bytes=MAX_EVIDENCE_BYTES)
        except InputLimitError as exc:
            raise fail(str(exc)) from exc
        if not isinstance(obj, dict):
            raise fail("evidence: must be a JSON object")
        decision = steps_by_device.inspect(s.uow, s.caller, device, obj)
    lines = [
        f"decision: {decision.outcome.value} "
        f"(policy {decision.policy_id} v{decision.policy_version})"
    ]
    lines += [f"  - {r.text}" for r in decision.reasons]
    emit(as_json, decision.to_json(), "\n".join(lines))


@app.command("read-log")
def device_read_log(
    device: DeviceArg,
    tool: Annotated[str, typer.Option(help="The tool at this bench: it reads the device's log.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Order the bench's tool to read the device's GBCS security log (before the inspection)."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        issued = steps_by_device.request_read(s.uow, s.caller, device, tool, s.app.signer_key())
    data = {"job_id": issued.job_id, "work_order": issued.work_order}
    emit(as_json, data, f"read order issued to {tool}: it reads the security log when it next asks")


@app.command("upload-log")
def device_upload_log(
    device: DeviceArg,
    file: Annotated[
        Path,
        typer.Argument(
            help="The supplier's 6.13 response: GBCS bytes, hex, or the DUIS response XML "
            "('-': stdin)."
        ),
    ],
    reference: Annotated[str, typer.Option(help="Where it came from (supplier's request).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a supplier's 6.13 security log response for a device the bench cannot read."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.security_log import SecurityLogRecordOut
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        try:
            raw = read_limited(file, 2 * MAX_GBCS_BYTES, "security log")
        except InputLimitError as exc:
            raise fail(str(exc)) from exc
        record = steps_by_device.upload_log(
            s.uow, s.caller, s.app.evidence_store(), device, raw, reference
        )
    text = (
        f"{record.device_id}: {record.use_case} log recorded ({record.outcome}, "
        f"{len(record.entries)} entries), sha256 {record.sha256}"
    )
    emit(as_json, dump(SecurityLogRecordOut.of(record)), text)


@app.command("security-log")
def device_security_log(
    device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """The security log recorded for the device's open job, entry by entry."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.security_log import JobSecurityLogOut
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        found = steps_by_device.security_log_of(s.uow, s.caller, device)
    if found is None:
        raise fail(
            f"no security log was recorded for {device} yet: read it (triage device read-log) "
            "or upload the supplier's response (triage device upload-log)",
            code=1,
        )
    shown = JobSecurityLogOut.of(found)
    lines = [
        f"{found.device_id}: {found.use_case} from {found.source.value} "
        f"({found.outcome}{', ' + found.status if found.status else ''}), sha256 {found.sha256}"
    ]
    lines += [
        f"  {e.code}  {format_time(e.at)}  {e.alert_class or '-':10}  {e.name or 'unknown'}"
        for e in found.entries
    ]
    emit(as_json, dump(shown), "\n".join(lines))


@app.command("override")
def device_override(
    device: DeviceArg,
    outcome: Annotated[str, typer.Option(help="eligible, quarantine or reverify_metrology.")],
    justification: Annotated[str, typer.Option(help="Why, in writing.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """A supervisor overrides the policy's decision."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        job = steps_by_device.override(s.uow, s.caller, device, outcome, justification)
    _emit_job(job, as_json)


@app.command("reset")
def device_reset(
    device: DeviceArg,
    tool: Annotated[str, typer.Option(help="The tool at this bench.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a signed work order for the bench's tool to factory-reset the device."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        issued = steps_by_device.authorise_reset(s.uow, s.caller, device, tool, s.app.signer_key())
    data = {"job_id": issued.job_id, "work_order": issued.work_order}
    emit(as_json, data, f"work order issued to {tool}")


@app.command("seal")
def device_seal(
    device: DeviceArg,
    serial: Annotated[str, typer.Option(help="The seal's serial number (scan it).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the tamper-protection seal fitted to a verified device."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        job = steps_by_device.seal(s.uow, s.caller, device, serial)
    _emit_job(job, as_json)


@app.command("release")
def device_release(
    device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Release a sealed device."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        job = steps_by_device.release(s.uow, s.caller, device)
    _emit_job(job, as_json)


@app.command("quarantine")
def device_quarantine(
    device: DeviceArg,
    reason: Annotated[str, typer.Option(help="Why.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a device aside."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        job = steps_by_device.quarantine(s.uow, s.caller, device, reason)
    _emit_job(job, as_json)


@app.command("dispose")
def device_dispose(
    device: DeviceArg,
    action: Annotated[str, typer.Option(help="'return' to the manufacturer or 'destroy'.")],
    reference: Annotated[
        str, typer.Option(help="Returns authorisation or destruction certificate.")
    ],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Return a quarantined device to its manufacturer, or destroy it."""
    from triage.services import steps_by_device

    with session(data_dir, token) as s:
        job = steps_by_device.dispose(s.uow, s.caller, device, action, reference)
    _emit_job(job, as_json)


@app.command("history")
def device_history(
    device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Every ledger entry about the device, across all its jobs."""
    from triage.services import history

    with session(data_dir, token) as s:
        found = history.device_history(s.uow, s.caller, device)
    data = {
        "device_id": found.device_id,
        "jobs": [{"id": j.id, "state": j.state.value} for j in found.jobs],
        "entries": [{"index": i, "entry": e.to_json()} for i, e in found.entries],
    }
    text = "\n".join(
        f"{i:>8}  {e.at:%Y-%m-%d %H:%M:%S}  {e.type:32} by {e.actor.kind} {e.actor.id}"
        + (f"  -> {e.data['state']}" if "state" in e.data else "")
        for i, e in found.entries
    )
    emit(as_json, data, f"device {found.device_id}\n{text}")


@app.command("receipt")
def device_receipt(
    device: DeviceArg,
    out: Annotated[Path, typer.Option(help="Where to write the receipt JSON.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write the device's offline receipt (entries, proofs, signed checkpoint)."""
    from triage.services import documents

    with session(data_dir, token) as s:
        receipt = documents.receipt(s.uow, s.caller, device, s.app.issuer())
    out.write_text(receipt)
    typer.echo(f"receipt written to {out}")


@app.command("certificate")
def device_certificate(
    device: DeviceArg,
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write the triage certificate (PDF with a QR code) of a released device."""
    from triage.services import documents

    with session(data_dir, token) as s:
        found = documents.certificate(s.uow, s.caller, device, s.app.issuer(), s.app.documents)
        out.write_bytes(found.content)
    typer.echo(f"certificate written to {out}")


@app.command("certificate-of-destruction")
def device_destruction_certificate(
    device: DeviceArg,
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Write the certificate of destruction (PDF with a QR code) of a destroyed device."""
    from triage.services import disposals

    with session(data_dir, token) as s:
        found = disposals.certificate(s.uow, s.caller, device, s.app.issuer(), s.app.documents)
        out.write_bytes(found.content)
    typer.echo(f"certificate of destruction written to {out}")
