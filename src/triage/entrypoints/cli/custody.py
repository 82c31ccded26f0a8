"""`triage custody`: device custody: the locations, moving a device by scanning it, where a
device is, the device stocktake of a location, the idle devices, and the custody settings.
Every command authenticates with an API token, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.entrypoints.cli.inputs import read_scans
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session

# The response models (pydantic) are imported inside the commands that print them, so that
# `triage --help` does not load them.

app = typer.Typer(
    help="Device custody: locations, moves, device stocktakes and idle devices.",
    no_args_is_help=True,
)


@app.command("locations")
def locations(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Every location devices are kept at."""
    from triage.entrypoints.schemas.custody import LocationOut
    from triage.services import custody

    with session(data_dir, token) as s:
        found = custody.locations(s.uow, s.caller)
    items = [LocationOut.model_validate(p).model_dump(mode="json") for p in found]
    lines = [
        f"{p['code']:16} {p['kind']:10} {p['name']}{'' if p['active'] else ' (out of use)'}"
        for p in items
    ]
    emit(as_json, {"items": items}, "\n".join(lines))


@app.command("define")
def define(
    code: Annotated[str, typer.Argument(help="The location's code, such as SHELF-A1.")],
    name: Annotated[str, typer.Option(help="What people call it.")],
    kind: Annotated[
        str, typer.Option(help="stores, bench, quarantine, dispatch or other.")
    ] = "other",
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Define a location (an administrator)."""
    from triage.entrypoints.schemas.custody import LocationOut
    from triage.services import custody

    with session(data_dir, token) as s:
        made = custody.define_location(s.uow, s.caller, code, name, kind)
    result = LocationOut.model_validate(made).model_dump(mode="json")
    emit(as_json, result, f"location {made.code} ({made.name}, {made.kind.value}) defined")


@app.command("move")
def move(
    device: Annotated[str, typer.Argument(help="The device's id (scanned).")],
    to: Annotated[str, typer.Option("--to", help="The location it was scanned at.")],
    reason: Annotated[str, typer.Option(help="An optional note.")] = "",
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the scan of a device at another location."""
    from triage.entrypoints.schemas.custody import DeviceLocationOut
    from triage.services import custody

    with session(data_dir, token) as s:
        moved = custody.move(s.uow, s.caller, device, to, reason)
    result = DeviceLocationOut.model_validate(moved).model_dump(mode="json")
    emit(as_json, result, f"device {moved.device_id} is at {moved.location}")


@app.command("where")
def where(
    device: Annotated[str, typer.Argument(help="The device's id.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Where a device is, and since when."""
    from triage.entrypoints.schemas.custody import DeviceLocationOut
    from triage.services import custody

    with session(data_dir, token) as s:
        found = custody.where(s.uow, s.caller, device)
    result = DeviceLocationOut.model_validate(found).model_dump(mode="json")
    place = found.location or "gone: it has left the facility"
    emit(as_json, result, f"device {found.device_id}: {place} since {result['since']}")


@app.command("stocktake")
def stocktake(
    location: Annotated[str, typer.Argument(help="The location counted.")],
    scans: Annotated[
        Path | None,
        typer.Option("--scans", help="File of scanned device ids, one per line ('-': stdin)."),
    ] = None,
    device: Annotated[
        list[str] | None, typer.Option("--device", help="A device found there (repeat).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a device stocktake: every device found at a location, against where each is
    recorded; each missing or unexpected device becomes an exception for a supervisor."""
    from triage.entrypoints.schemas.custody import DeviceStocktakeRecordedOut
    from triage.services import custody

    scanned = list(device or [])
    if scans is not None:
        try:
            scanned += read_scans(scans)
        except OSError as exc:
            raise fail(f"cannot read {scans}: {exc.strerror}") from exc
    with session(data_dir, token) as s:
        taken = custody.stocktake(s.uow, s.caller, location, scanned)
    result = DeviceStocktakeRecordedOut.model_validate(taken).model_dump(mode="json")
    lines = [
        f"device stocktake of {taken.location}: {taken.counted} counted, {taken.expected} "
        f"recorded there, {taken.matched} where recorded"
    ]
    lines += [f"  missing     {d}" for d in taken.missing]
    lines += [
        f"  unexpected  {u.device_id} ({u.recorded_at or 'not in custody'})"
        for u in taken.unexpected
    ]
    if not taken.agrees:
        lines.append(f"{len(taken.exception_ids)} exception(s) raised for a supervisor")
    emit(as_json, result, "\n".join(lines))


@app.command("idle")
def idle(
    days: Annotated[
        int | None, typer.Option(help="Days without a move (default: the facility's).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many to list.")] = 100,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Devices not moved for a number of days, longest first."""
    from triage.entrypoints.schemas.custody import PlacedDeviceOut
    from triage.services import custody

    with session(data_dir, token) as s:
        found, total, used = custody.idle_devices(s.uow, s.caller, days, 0, limit)
    items = [PlacedDeviceOut.model_validate(d).model_dump(mode="json") for d in found]
    lines = [f"{total} device(s) not moved for {used} days or more"]
    lines += [f"  {d['device_id']}  {d['location']:16} since {d['since']}" for d in items]
    emit(as_json, {"days": used, "total": total, "items": items}, "\n".join(lines))


@app.command("settings")
def settings(
    idle_days: Annotated[
        int | None, typer.Option(help="Days without a move before a device is idle.")
    ] = None,
    random_seals: Annotated[
        bool | None,
        typer.Option(
            "--random-seals/--no-random-seals",
            help="Whether the bench draws each seal at random (stores).",
        ),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the custody settings, or change them (the idle days: an administrator; random seal
    issue: stores)."""
    from triage.services import custody

    with session(data_dir, token) as s:
        if idle_days is None and random_seals is None:
            now = custody.custody_settings(s.uow, s.caller)
        else:
            now = custody.change_settings(s.uow, s.caller, idle_days, random_seals)
    result = {"idle_device_days": now.idle_device_days, "random_seal_issue": now.random_seal_issue}
    emit(
        as_json,
        result,
        f"idle after {now.idle_device_days} days; random seal issue "
        f"{'on' if now.random_seal_issue else 'off'}",
    )
