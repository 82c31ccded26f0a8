"""`triage seals`: batches, issue and return, void, lost and broken, stocktakes,
reconciliation, discrepancies, reports and labels. Every command authenticates with an API
token, as the API does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from triage.domain import seals as seal_rules
from triage.entrypoints.cli.inputs import read_scans
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session

# The response models (pydantic) are imported inside the commands that print them, so that
# `triage --help` does not load them.

First = Annotated[str | None, typer.Option(help="First serial of a range.")]
Last = Annotated[str | None, typer.Option(help="Last serial of a range.")]
Serials = Annotated[
    list[str] | None, typer.Option("--serial", help="A serial (repeat), instead of a range.")
]
Reason = Annotated[str, typer.Option(help="What happened (recorded in the ledger).")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Where to write the PDF.")]

app = typer.Typer(help="Tamper-protection seals: stock, issue, count.", no_args_is_help=True)
report_app = typer.Typer(help="Seal reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


def _seals(count: int) -> str:
    return f"{count} seal" if count == 1 else f"{count} seals"


def _seal_lines(items: list[Any]) -> str:
    return "\n".join(f"{s.serial}  {s.status.value:8}  {s.describe()}" for s in items)


def _reconciliation_text(result: dict[str, Any]) -> str:
    scope = result["scope"]["kind"] + (f" {result['scope']['id']}" if result["scope"]["id"] else "")
    verdict = "balanced" if result["balanced"] else "UNBALANCED"
    lines = [f"reconciliation of {scope}: {verdict}"]
    lines += [f"  {e['name']:8} {e['statement']}" for e in result["equations"]]
    found = result["discrepancies"]
    if found:
        lines.append(f"{len(found)} open discrepancies:")
        lines += [f"  {d['kind']:24} {d['serial']}  {d['detail']}" for d in found]
    else:
        lines.append("no open discrepancies")
    return "\n".join(lines)


@app.command("receive")
def receive(
    supplier: Annotated[str, typer.Option(help="Who supplied the seals.")],
    delivery: Annotated[str, typer.Option(help="The supplier's delivery reference.")],
    seal_class: Annotated[
        str, typer.Option("--class", help="ISO 17712 class I, S or H; or 'other'.")
    ],
    store: Annotated[str, typer.Option(help="Store location receiving them.")],
    class_description: Annotated[
        str | None, typer.Option(help="The class the supplier states, with --class other.")
    ] = None,
    first: First = None,
    last: Last = None,
    serial: Serials = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Receive a batch of seals into a store: a range (--first/--last) or serials."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealBatchOut
    from triage.services import seals

    with session(data_dir, token) as s:
        batch = seals.receive_batch(
            s.uow,
            s.caller,
            supplier=supplier,
            delivery_reference=delivery,
            iso_class=seal_class,
            class_description=class_description,
            store=store,
            first=first,
            last=last,
            serials=serial,
        )
    emit(
        as_json,
        dump(SealBatchOut.model_validate(batch)),
        f"batch {batch.id}: {_seals(batch.size)} received into {batch.store}",
    )


@app.command("issue")
def issue(
    operator: Annotated[str, typer.Argument(help="Who receives the seals.")],
    first: First = None,
    last: Last = None,
    serial: Serials = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue seals from stock to a named operator."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        issued = seals.issue(
            s.uow,
            s.caller,
            operator,
            first=first,
            last=last,
            serials=serial,
        )
    emit(
        as_json,
        {"items": [dump(SealOut.of(s)) for s in issued]},
        f"{_seals(len(issued))} issued to {operator}",
    )


@app.command("return")
def return_seals(
    store: Annotated[
        str | None, typer.Option(help="Store taking them back (default: issued from).")
    ] = None,
    first: First = None,
    last: Last = None,
    serial: Serials = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Take issued, unused seals back into stock."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        returned = seals.return_to_stock(
            s.uow,
            s.caller,
            store=store,
            first=first,
            last=last,
            serials=serial,
        )
    emit(
        as_json,
        {"items": [dump(SealOut.of(s)) for s in returned]},
        f"{_seals(len(returned))} returned to stock",
    )


@app.command("void")
def void(
    serial: Annotated[str, typer.Argument(help="The damaged seal.")],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Take a damaged seal out of use."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        found = seals.void(s.uow, s.caller, serial, reason)
    emit(as_json, dump(SealOut.of(found)), f"seal {found.serial} is void")


@app.command("lost")
def lost(
    serial: Annotated[str, typer.Argument(help="The seal nobody can find.")],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a seal as lost: an incident that stays open until resolved."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        found = seals.lose(s.uow, s.caller, serial, reason)
    emit(as_json, dump(SealOut.of(found)), f"seal {found.serial} recorded as lost")


@app.command("broken")
def broken(
    serial: Annotated[str, typer.Argument(help="The fitted seal found broken.")],
    detail: Annotated[str, typer.Option(help="Where and how it was found.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a fitted seal found broken, against its device."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        found = seals.report_broken(s.uow, s.caller, serial, detail)
    emit(
        as_json,
        dump(SealOut.of(found)),
        f"seal {found.serial} on device {found.device_id} recorded as broken",
    )


@app.command("show")
def show(
    serial: Annotated[str, typer.Argument(help="The seal.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """One seal and every step it has taken."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealEventOut, SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        detail = seals.seal_detail(s.uow, s.caller, serial)
    events = [dump(SealEventOut.model_validate(e)) for e in detail.events]
    data = {**dump(SealOut.of(detail.seal)), "events": events}
    lines = [f"{detail.seal.serial}: {detail.seal.describe()} (batch {detail.seal.batch_id})"]
    lines += [
        f"  {e['at']}  {e['kind']:8} by {e['actor']}"
        + (f" to/from {e['operator_id']}" if e["operator_id"] else "")
        + (f" at {e['store']}" if e["store"] else "")
        + (f" on {e['device_id']}" if e["device_id"] else "")
        for e in data["events"]
    ]
    emit(as_json, data, "\n".join(lines))


@app.command("list")
def list_seals(
    status: Annotated[str | None, typer.Option(help="in_stock, issued, fitted...")] = None,
    store: Annotated[str | None, typer.Option(help="Store location.")] = None,
    holder: Annotated[str | None, typer.Option(help="Operator holding them.")] = None,
    batch: Annotated[str | None, typer.Option(help="Batch id.")] = None,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Seals in serial order."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealOut
    from triage.services import seals

    with session(data_dir, token) as s:
        items, total = seals.list_seals(
            s.uow,
            s.caller,
            status=status,
            store=store,
            holder=holder,
            batch_id=batch,
            offset=offset,
            limit=limit,
        )
    data = {"items": [dump(SealOut.of(s)) for s in items], "total": total}
    emit(as_json, data, (_seal_lines(items) + f"\n{len(items)} of {total}").strip())


@app.command("batches")
def batches(
    offset: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Seal batches, oldest first."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import SealBatchOut
    from triage.services import seals

    with session(data_dir, token) as s:
        found, total = seals.batches(s.uow, s.caller, offset, limit)
    items = [dump(SealBatchOut.model_validate(b)) for b in found]
    lines = [
        f"{b['id']}  {b['size']:>6} seals  class {b['seal_class']}  {b['supplier']} "
        f"({b['delivery_reference']}) into {b['store']}"
        for b in items
    ]
    emit(as_json, {"items": items, "total": total}, "\n".join(lines) or "no batches")


@app.command("stocktake")
def stocktake(
    store: Annotated[str, typer.Option(help="The store counted.")],
    scans: Annotated[
        Path | None,
        typer.Option("--scans", help="File of scanned serials, one per line ('-': stdin)."),
    ] = None,
    serial: Serials = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a stocktake: every seal scanned in a store, against the register."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import StocktakeRecordedOut
    from triage.services import seals

    scanned = list(serial or [])
    if scans is not None:
        try:
            scanned += read_scans(scans)
        except OSError as exc:
            raise fail(f"cannot read {scans}: {exc.strerror}") from exc
    with session(data_dir, token) as s:
        counted = seals.stocktake(s.uow, s.caller, store, scanned)
    result = dump(StocktakeRecordedOut.model_validate(counted))
    lines = [
        f"stocktake of {result['store']}: {result['counted']} counted, "
        f"{result['expected']} expected in stock"
    ]
    lines += [f"  missing     {s}" for s in result["missing"]]
    lines += [f"  unexpected  {u['serial']} ({u['known_as']})" for u in result["unexpected"]]
    emit(as_json, result, "\n".join(lines))


@app.command("reconcile")
def reconcile(
    scope: Annotated[str, typer.Option(help="facility, operator, store or batch.")] = ("facility"),
    scope_id: Annotated[
        str | None, typer.Option("--id", help="The operator, store or batch.")
    ] = None,
    record: Annotated[
        bool, typer.Option(help="Keep the result in the ledger as assurance evidence.")
    ] = False,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Account for every seal: the sums and the open discrepancies. Exits 1 when a sum
    does not balance."""
    from triage.services import seals

    with session(data_dir, token) as s:
        if record:
            stored = seals.record_reconciliation(s.uow, s.caller, scope, scope_id)
            data = {"id": stored.id, **stored.result}
        else:
            data = seals.reconciliation(s.uow, s.caller, scope, scope_id).to_json()
    text = _reconciliation_text(data)
    if record:
        text += f"\nrecorded as {data['id']}"
    emit(as_json, data, text)
    if not data["balanced"]:
        raise typer.Exit(1)


@app.command("discrepancies")
def discrepancies(
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    offset: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Seal discrepancies, oldest first."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import DiscrepancyOut
    from triage.services import seals

    if status not in ("open", "resolved", "all"):
        raise fail("--status: open, resolved or all")
    with session(data_dir, token) as s:
        items, total = seals.discrepancies(
            s.uow,
            s.caller,
            None if status == "all" else status,
            offset,
            limit,
        )
    lines = [f"{d.id}  {d.kind.value:24} {d.serial}  {d.status}  {d.detail}" for d in items]
    emit(
        as_json,
        {"items": [dump(DiscrepancyOut.model_validate(d)) for d in items], "total": total},
        "\n".join(lines) or f"no {status} discrepancies",
    )


@app.command("resolve")
def resolve(
    discrepancy: Annotated[str, typer.Argument(help="The discrepancy id.")],
    resolution: Annotated[str, typer.Option(help="What was found or done.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a seal discrepancy (a security manager)."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import DiscrepancyOut
    from triage.services import seals

    with session(data_dir, token) as s:
        found = seals.resolve_discrepancy(s.uow, s.caller, discrepancy, resolution)
    emit(as_json, dump(DiscrepancyOut.model_validate(found)), f"discrepancy {found.id} resolved")


@app.command("labels")
def labels(
    out: Out,
    batch: Annotated[str | None, typer.Option(help="Every seal of a batch.")] = None,
    first: First = None,
    last: Last = None,
    serial: Serials = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Print labels for seal bags (PDF, one 100x50 mm label per seal)."""
    from triage.services import documents

    with session(data_dir, token) as s:
        content = documents.seal_labels(
            s.uow,
            s.caller,
            s.app.documents,
            s.app.facility.name,
            batch_id=batch,
            first=first,
            last=last,
            serials=serial,
        ).content
    out.write_bytes(content)
    typer.echo(f"labels written to {out}")


@app.command("device-label")
def device_label(
    device: Annotated[str, typer.Argument(help="The device (its latest job).")],
    out: Out,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Print the label for a device's bag: Device ID, seal serial and job (PDF)."""
    from triage.services import documents

    with session(data_dir, token) as s:
        content = documents.latest_device_label(
            s.uow, s.caller, device, s.app.documents, s.app.facility.name
        ).content
    out.write_bytes(content)
    typer.echo(f"label written to {out}")


@report_app.command("fitted")
def report_fitted(
    since: Annotated[datetime | None, typer.Option(help="From (UTC; default 30 days ago).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Until (UTC; default now).")] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Seals fitted per day and per operator."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import FittedReportOut
    from triage.services import seals

    start = None if since is None else since.replace(tzinfo=since.tzinfo or UTC)
    end = None if until is None else until.replace(tzinfo=until.tzinfo or UTC)
    with session(data_dir, token) as s:
        report = dump(
            FittedReportOut.model_validate(seals.fitted_report(s.uow, s.caller, start, end))
        )
    lines = [f"{r['day']}  {r['operator_id']:20} {r['fitted']:>6}" for r in report["rows"]]
    lines.append(f"total {report['total']}")
    emit(as_json, report, "\n".join(lines))


@report_app.command("unused")
def report_unused(
    days: Annotated[int, typer.Option(min=0, max=3650, help="Issued more than N days ago.")] = (
        seal_rules.DEFAULT_UNUSED_DAYS
    ),
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Seals issued more than N days ago and still neither fitted nor returned."""
    from triage.entrypoints.schemas.common import dump
    from triage.entrypoints.schemas.seals import UnusedReportOut
    from triage.services import seals

    with session(data_dir, token) as s:
        report = dump(UnusedReportOut.model_validate(seals.unused_report(s.uow, s.caller, days)))
    lines = [f"{r['serial']}  held by {r['holder']} for {r['days']} days" for r in report["seals"]]
    emit(
        as_json,
        report,
        "\n".join(lines) or f"no seal issued more than {days} days ago is still unused",
    )
