"""The device's own security log as the evidence of its inspection (issue 17).

Before the inspection the bench tool reads the device's security log (its answer to DUIS 6.13,
a GBCS message) under a signed read order and sends the raw bytes back signed with its key; or
a supervisor uploads the supplier's 6.13 response for a device the bench cannot read. Either
way the bytes are checked (a 6.13 security-log response of this very device, of its type's use
case), kept by their SHA-256 in the evidence store, and recorded in the ledger with the entries
they decode to, with the device's own times. The inspection then takes its alerts from the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from triage import gbcs
from triage.domain.caller import Caller
from triage.domain.device import Device, DeviceType
from triage.domain.evidence_codec import alerts_from_json, alerts_to_json
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.roles import Permission
from triage.domain.security_log_reading import (
    MAX_GBCS_BYTES,
    SecurityLogReading,
    SecurityLogRecord,
)
from triage.domain.tamper_policy import Alert, LogSource
from triage.domain.work_order import (
    READ_SECURITY_LOG,
    SECURITY_LOG_PROFILE,
    WorkOrderRefused,
)
from triage.domain.work_order_record import StoredWorkOrder
from triage.duis.errors import DuisError
from triage.duis.responses import READ_SECURITY_LOG as READ_SECURITY_LOG_SR
from triage.duis.responses import read_response
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref, format_time
from triage.services import anomaly, common, retention
from triage.services.bench_assignment import bench_tool, refusing_elsewhere
from triage.services.common import device_ref, get_job, make_entry
from triage.services.ports import FileStore, UnitOfWork, UnitOfWorkFactory
from triage.services.tamper_policy import parse_policy
from triage.services.tools import active_tool

NO_LOG_KEPT = "a Type 2 device (IHD or CAD) keeps no GBCS security log"
READ_ORDERED = "security_log.read_ordered"
RECORDED = "device.security_log_recorded"
MAX_REFERENCE = 100


@dataclass(frozen=True)
class LogEntryView:
    """One entry of a recorded log as a person reads it."""

    code: str  # "0x8F3F"
    name: str | None  # the policy's name for it, else GBCS's, else None
    alert_class: str | None  # tamper, explaining, integrity, or None (not in the policy)
    at: datetime  # the device's own time


@dataclass(frozen=True)
class JobSecurityLog:
    """The security log recorded for a job that its inspection uses (or, when the device only
    answered with an error, that answer)."""

    job_id: str
    device_id: str
    sha256: str
    size: int
    use_case: str
    source: LogSource
    source_detail: Mapping[str, str]
    outcome: str
    status: str | None
    recorded_by: str
    recorded_at: datetime
    entries: tuple[LogEntryView, ...]

    @property
    def usable(self) -> bool:
        """True when the device answered with its log."""
        return self.outcome == gbcs.ResponseOutcome.SUCCESS.value


def request_read(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    tool_id: str,
    facility_signer_key: str,
) -> str:
    """Issue a signed order for the bench's tool to read the device's security log; returns
    the signed note (the tool fetches it with its other work orders)."""
    caller.require(Permission.DEVICE_INSPECT)
    return refusing_elsewhere(
        uow_factory,
        caller,
        lambda: _request_read(uow_factory, caller, job_id, tool_id, facility_signer_key),
    )


def _request_read(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    tool_id: str,
    facility_signer_key: str,
) -> str:
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        tool = bench_tool(uow, caller, tool_id)
        _check_before_inspection(job, uow.devices.get(job.device_id))
        issued = uow.clock.now()
        signed, fields = common.issue_order(
            uow,
            caller,
            job,
            tool.id,
            READ_SECURITY_LOG,
            SECURITY_LOG_PROFILE,
            facility_signer_key,
            issued,
        )
        data = {"job_id": job.id, **fields}
        subject = device_ref(job.device_id)
        uow.ledger.record([make_entry(uow, caller, READ_ORDERED, subject, data, issued)])
        uow.commit()
    return signed


def record_reading(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, signed_reading: str
) -> SecurityLogRecord:
    """Record a tool's signed reading of a device's security log under its read order.

    Refused (InvalidInput, and counted against the tool like a refused reset result) when the
    signature, the order (tool, device, nonce, expiry, not yet carried out) or the GBCS message
    (a 6.13 security-log response from this device, of its type's use case) does not match;
    nothing is recorded then. The same signed reading sent again (an agent's retry after a lost
    answer) changes nothing and returns what was recorded.
    """
    caller.require_tool()
    try:
        with uow_factory(write=True) as uow:
            tool = active_tool(uow, caller)
            reading = SecurityLogReading.open(signed_reading, tool.verifier_key)
            order = _read_order_for(uow, reading, caller.id)
            job = get_job(uow, order.job_id)
            recorded = uow.security_logs.for_job(order.job_id)
            again = _recorded_for_order(recorded, order, reading.sha256)
            if again is not None:
                return again
            if order.status != "issued":
                why = _CLOSED.get(order.status, "it was carried out: a second reading is a replay")
                raise WorkOrderRefused(f"read order {order.id} is {order.status}: {why}")
            _check_in_time(uow, order, reading)
            response = _decode(reading.gbcs, WorkOrderRefused)
            device = uow.devices.get(job.device_id)
            _check_response(job, device, response, WorkOrderRefused)
            source = {"kind": LogSource.TOOL.value, "tool_id": tool.id, "work_order_id": order.id}
            return _record(uow, caller, store, job, recorded, reading.gbcs, response, source)
    except WorkOrderRefused as exc:
        common.record_refusal(
            uow_factory,
            caller,
            "tool.result_refused",
            Ref(caller.kind.value, caller.id),
            f"security log reading refused: {exc}",
            then=anomaly.after_refusal(caller.id),
        )
        raise InvalidInput(str(exc)) from exc


def upload(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    job_id: str,
    raw: bytes | str,
    reference: str,
) -> SecurityLogRecord:
    """Record a supplier's 6.13 security-log response for a device the bench cannot read
    (``raw``: the GBCS message's bytes, hex text as the DCC's files hold it, or the DUIS Read
    Security Log response (XML) whose GBCSPayload carries it); ``reference`` says where it came
    from (the supplier's service request)."""
    caller.require(Permission.SECURITY_LOG_UPLOAD)
    text = reference.strip() if isinstance(reference, str) else ""
    if not text or len(text) > MAX_REFERENCE or not text.isprintable():
        raise InvalidInput(
            f"reference: give the supplier's reference for the response (1-{MAX_REFERENCE} "
            "printable characters)"
        )
    message, duis_id = _from_duis(raw)
    message = _message_bytes(message)
    response = _decode(message, InvalidInput)
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        device = uow.devices.get(job.device_id)
        _check_before_inspection(job, device)
        _check_response(job, device, response, InvalidInput)
        source = {"kind": LogSource.SUPPLIER.value, "uploaded_by": caller.id, "reference": text}
        if duis_id is not None:
            source["duis_response_id"] = duis_id
        recorded = uow.security_logs.for_job(job.id)
        return _record(uow, caller, store, job, recorded, message, response, source)


def for_job(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> JobSecurityLog | None:
    """The job's security log its inspection uses (the latest the device answered with), or
    its latest error answer, or None when none was recorded."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        job = uow.jobs.get(job_id)
        if job is None:
            raise NotFound(f"no triage job {job_id!r}")
        records = uow.security_logs.for_job(job_id)
        if not records:
            return None
        record = usable_log(uow, job_id) or records[-1]
        source = uow.policies.active_source()
        table = (parse_policy(source) if source else uow.packaged.tamper_policy()).alert_codes
    return JobSecurityLog(
        job_id=record.job_id,
        device_id=record.device_id,
        sha256=record.sha256,
        size=record.size,
        use_case=record.use_case,
        source=record.source,
        source_detail=record.source_detail,
        outcome=record.outcome,
        status=record.status,
        recorded_by=record.recorded_by,
        recorded_at=record.recorded_at,
        entries=tuple(
            LogEntryView(
                code=entry.hex,
                name=table[entry.code].name if entry.code in table else gbcs.code_name(entry.code),
                alert_class=table[entry.code].alert_class.value if entry.code in table else None,
                at=entry.at,
            )
            for entry in record.entries
        ),
    )


def raw(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, job_id: str, sha256: str
) -> bytes:
    """The raw GBCS bytes of a log recorded for the job, as long as the file is intact."""
    caller.require(Permission.TRIAGE_READ, Permission.HISTORY_READ)
    with uow_factory(write=False) as uow:
        records = uow.security_logs.for_job(job_id)
    if not any(r.sha256 == sha256 for r in records):
        raise NotFound(f"no security log {sha256} recorded for job {job_id}")
    if store.check(sha256) != "ok":
        gone = retention.purged_notice(uow_factory, sha256)
        raise NotFound(gone or f"no security log {sha256} recorded for job {job_id}")
    return store.read(sha256)


def keeps_a_log(uow: UnitOfWork, job: TriageJob) -> bool:
    """Whether the job's device keeps a GBCS security log (every type but a Type 2 device)."""
    return device_keeps_a_log(job, uow.devices.get(job.device_id))


def device_keeps_a_log(job: TriageJob, device: Device | None) -> bool:
    """Whether ``device``, the job's device as the register has it (just read), keeps a GBCS
    security log; NotFound when the register has none."""
    if device is None:
        raise NotFound(f"device {job.device_id} is not in the register")
    return device.type is not DeviceType.TYPE2


def usable_log(uow: UnitOfWork, job_id: str) -> SecurityLogRecord | None:
    """The latest log recorded for the job in which the device answered with its entries."""
    usable = [record for record in uow.security_logs.for_job(job_id) if record.usable]
    return usable[-1] if usable else None


# -- checks ---------------------------------------------------------------------------------


_CLOSED = {
    "completed": "a reading was recorded for it; a different one is a replay",
    "expired": "no reading came before it expired; ask for a new read order",
    "superseded": "a newer read order for the device replaced it",
    "withdrawn": (
        "the device was inspected or set aside, or the tool or operator suspended, before "
        "the reading came"
    ),
}


def _check_before_inspection(job: TriageJob, device: Device | None) -> None:
    if not device_keeps_a_log(job, device):
        raise Conflict(f"device {job.device_id}: {NO_LOG_KEPT}, so there is none to record")
    if job.state is not JobState.RECEIVED:
        raise Conflict(
            f"job {job.id} is {job.state.value}: the security log is evidence for the "
            "inspection, so it is recorded before the device is inspected"
        )


def _read_order_for(uow: UnitOfWork, reading: SecurityLogReading, tool_id: str) -> StoredWorkOrder:
    order = uow.work_orders.get(reading.work_order_id)
    if order is None:
        raise WorkOrderRefused(f"reading names unknown work order {reading.work_order_id}")
    if order.action != READ_SECURITY_LOG:
        raise WorkOrderRefused(
            f"work order {order.id} is a {order.action} order, not a read of the security log"
        )
    if reading.tool_id != tool_id or order.tool_id != tool_id:
        raise WorkOrderRefused(f"read order {order.id} was not issued to tool {tool_id}")
    if reading.nonce != order.nonce or reading.device_id != order.device_id:
        raise WorkOrderRefused(f"reading does not match read order {order.id}")
    return order


def _recorded_for_order(
    recorded: Sequence[SecurityLogRecord], order: StoredWorkOrder, sha256: str
) -> SecurityLogRecord | None:
    """The log recorded under ``order`` (of those ``recorded`` for its job) if it has these
    very bytes (a retry), else None."""
    for record in recorded:
        if record.source_detail.get("work_order_id") == order.id and record.sha256 == sha256:
            return record
    return None


def _check_in_time(uow: UnitOfWork, order: StoredWorkOrder, reading: SecurityLogReading) -> None:
    expires, now = order.expires_at, uow.clock.now()
    if reading.read_at > expires:
        raise WorkOrderRefused(
            f"read order {order.id} expired at {format_time(expires)}, before the log was read "
            f"({format_time(reading.read_at)}): ask for a new read order"
        )
    grace = uow.settings.work_order_expiry_grace
    if now > expires + grace:
        raise WorkOrderRefused(
            f"read order {order.id} expired at {format_time(expires)} and its reading came "
            f"more than {grace} later: ask for a new read order"
        )


def _from_duis(raw: bytes | str) -> tuple[bytes | str, str | None]:
    """The GBCS message of a DUIS 6.13 Read Security Log response and its DUIS id, or ``raw``
    as it is (GBCS bytes or hex) and None."""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return raw, None
    try:
        duis = read_response(data)
    except DuisError as exc:
        raise InvalidInput(f"gbcs: {exc}", field="gbcs") from exc
    if not duis.succeeded:
        raise InvalidInput(
            f"gbcs: the DCC answered {duis.response_code}, not I0 (success): the response "
            "carries no security log",
            field="gbcs",
        )
    if duis.service_reference != READ_SECURITY_LOG_SR or duis.gbcs_payload is None:
        raise InvalidInput(
            f"gbcs: a DUIS response to service request {duis.service_reference}, not a "
            f"{READ_SECURITY_LOG_SR} Read Security Log response with a GBCSPayload",
            field="gbcs",
        )
    return duis.gbcs_payload, duis.identity


def _message_bytes(raw: bytes | str) -> bytes:
    """The message's bytes, from raw bytes or hex text (as the DCC's files hold it)."""
    try:
        message = gbcs.message_bytes(raw)
    except gbcs.GbcsError as exc:
        raise InvalidInput(f"gbcs: {exc}") from exc
    if not message:
        raise InvalidInput("gbcs: empty; give the supplier's 6.13 response")
    if len(message) > MAX_GBCS_BYTES:
        raise InvalidInput(
            f"gbcs: {len(message)} bytes; a security log response is at most {MAX_GBCS_BYTES}"
        )
    return message


def _decode(message: bytes, refusal: type[Exception]) -> gbcs.LogResponse:
    try:
        response = gbcs.decode(message)
    except gbcs.GbcsError as exc:
        raise refusal(f"gbcs: not a 6.13 security log response: {exc}") from exc
    if not response.is_security_log:
        case = response.use_case
        raise refusal(
            f"gbcs: the message is {case.name} {case.title} ({case.log.value} log), not a "
            "security log"
        )
    return response


def _check_response(
    job: TriageJob,
    device: Device | None,
    response: gbcs.LogResponse,
    refusal: type[Exception],
) -> None:
    """Refuse a response that is not from the job's device (``device``, as the register has
    it) or not its type's security log."""
    if response.device_id != job.device_id:
        raise refusal(
            f"gbcs: the message comes from device {response.device_id}, not from "
            f"{job.device_id}, the device of job {job.id}"
        )
    if device is None:
        raise NotFound(f"device {job.device_id} is not in the register")
    if device.type is DeviceType.TYPE2:
        raise refusal(f"gbcs: device {job.device_id}: {NO_LOG_KEPT}")
    expected = gbcs.use_case_for(device.type.name)
    if response.use_case != expected:
        raise refusal(
            f"gbcs: a {device.type.name}'s security log is read with {expected.name} "
            f"({expected.title}), but the message is {response.use_case.name}"
        )


def _record(
    uow: UnitOfWork,
    caller: Caller,
    store: FileStore,
    job: TriageJob,
    recorded: Sequence[SecurityLogRecord],
    message: bytes,
    response: gbcs.LogResponse,
    source: dict[str, str],
) -> SecurityLogRecord:
    """Keep the bytes and record the log after those ``recorded`` for the job (just read);
    the caller's transaction commits here. Returns the log as recorded."""
    sha256, size = store.put(message)
    seq = len(recorded) + 1
    entries = [Alert(entry.code, entry.at) for entry in response.entries]
    data = {
        "job_id": job.id,
        "seq": seq,
        "sha256": sha256,
        "bytes": size,
        "use_case": response.use_case.name,
        "outcome": response.outcome.value,
        "status": response.status,
        "entries": len(entries),
        "log": alerts_to_json(entries),
        "source": source,
    }
    entry = make_entry(uow, caller, RECORDED, device_ref(job.device_id), data)
    uow.ledger.record([entry])
    uow.commit()
    detail = {k: v for k, v in source.items() if k != "kind"}
    return SecurityLogRecord(
        job_id=job.id,
        seq=seq,
        device_id=job.device_id,
        sha256=sha256,
        size=size,
        use_case=response.use_case.name,
        outcome=response.outcome.value,
        status=response.status,
        entries=alerts_from_json(data["log"], "entries"),
        source=LogSource(source["kind"]),
        source_detail=detail,
        recorded_by=caller.id,
        recorded_at=entry.at,
    )
