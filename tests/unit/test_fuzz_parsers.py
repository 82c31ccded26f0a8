"""Hostile input to every parser of outside data: whatever the text or bytes, each parser either
returns a valid value or raises its own documented error, never another exception; and what a
formatter writes, its parser reads back unchanged.

Signed formats are fuzzed three ways: arbitrary input; a valid signed note with bytes changed,
added or removed (which must be refused or, when the change is outside the signed text, read
as the original); and arbitrary content correctly signed, so that the parsing behind the
signature is tried too, as if a key had been stolen or a signer had a bug.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from triage.domain import agent_request
from triage.domain.consignment import ManifestRow
from triage.domain.device import (
    Device,
    DeviceId,
    DeviceType,
    FieldError,
    InventoryStatus,
)
from triage.domain.evidence_codec import evidence_from_json, evidence_to_json
from triage.domain.manifest import ManifestFormatError, parse_manifest
from triage.domain.tamper_policy import EvidenceError
from triage.domain.work_order import (
    FACTORY_RESET,
    TOOL_RESULT_FORMAT,
    WORK_ORDER_FORMAT,
    ResetOutcome,
    ToolResult,
    WorkOrder,
    WorkOrderRefused,
)
from triage.ledger import note
from triage.ledger.checkpoint import (
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from triage.ledger.entry import Entry, Ref, format_time, parse_time
from triage.ledger.errors import VerificationError
from triage.ledger.export import export_lines, verify_export
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.receipt import build_receipt, verify_receipt

ORIGIN = "triage.example/ledger"
FACILITY_SIGNER, FACILITY_VERIFIER = note.generate_key(ORIGIN)
TOOL_SIGNER, TOOL_VERIFIER = note.generate_key("tool-BENCH-1")
OTHER_SIGNER, OTHER_VERIFIER = note.generate_key(ORIGIN)  # same name, another key
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NONCE = "0123456789abcdef0123456789abcdef"
DEVICE = "BC-33-AC-FF-FE-FA-55-3D"

FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
nasty_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(
        [
            "",
            "\x00",
            "\n",
            "\ufeff",
            "—",
            "\u2028",
            "٠١٢٣",
            "𝟘𝟙",
            "9" * 400,
            "{" * 5000,
            "[" * 5000,
            "1e999999",
            "NaN",
            "../../etc/passwd",
        ]
    ),
)


def _as_bytes(text: str) -> bytes:
    """``text`` as UTF-8; a lone surrogate (``st.characters()`` may draw one) becomes the
    invalid bytes it would be on disk, input the parser must refuse, not a strategy error."""
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def mutated(draw: st.DrawFn, original: str) -> str:
    """``original`` with a few characters replaced, inserted or deleted, or cut short."""
    text = original
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
        char = draw(
            st.sampled_from(["\n", " ", "—", "=", "+", "A", "0", "\x00", "\r", "é", '"'])
            | st.characters()
        )
        if kind == "replace" and text:
            text = text[:at] + char + text[at + 1 :]
        elif kind == "insert":
            text = text[:at] + char + text[at:]
        elif kind == "delete" and text:
            text = text[:at] + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        else:
            text = text[:at] + text[at:] + text[at:]
    return text


@st.composite
def objects_like(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """``template`` with some fields replaced by any JSON, dropped, or added; or any JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    obj = dict(template)
    chosen = draw(st.lists(st.sampled_from(sorted(obj)), max_size=3, unique=True)) if obj else []
    for key in chosen:
        if draw(st.booleans()):
            del obj[key]
        else:
            obj[key] = draw(json_values)
    obj.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return obj


def _json_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=True) + "\n"


def _signed(obj: Any, signer: str) -> str:
    text = _json_line(obj)
    try:
        return note.sign(text, signer)
    except ValueError:
        return ""  # text a note cannot carry (a control character): nothing to sign


# -- device ids and device rows ---------------------------------------------------------------


@FUZZ
@given(nasty_text)
@example("bc:33:ac:ff:fe:fa:55:3d")
@example("BC33-ACFF-FEFA-553D")
@example(" bc 33 ac ff fe fa 55 3d ")
def test_a_device_id_is_read_or_refused_with_a_field_error(text: str) -> None:
    try:
        found = DeviceId.parse(text)
    except FieldError as exc:
        refused = exc
    else:
        assert len(found.value) == 23 and found.value == found.value.upper()
        assert DeviceId.parse(str(found)) == found == DeviceId(found.value)
        assert DeviceId.from_int(found.as_int) == found
        return
    assert refused.field == "device_id"


@FUZZ
@given(
    st.integers(min_value=1, max_value=2**64 - 2),
    st.sampled_from(["-", ":", " ", ".", ""]),
    st.sampled_from([2, 4]),
    st.booleans(),
)
def test_every_common_spelling_of_a_device_id_reads_as_the_same_id(
    number: int, separator: str, group: int, lower: bool
) -> None:
    digits = f"{number:016X}"
    text = separator.join(digits[i : i + group] for i in range(0, 16, group))
    assert DeviceId.parse(text.lower() if lower else text) == DeviceId.from_int(number)


@FUZZ
@given(nasty_text)
def test_device_type_and_inventory_status_are_read_or_refused(text: str) -> None:
    for parse in (DeviceType.parse, InventoryStatus.parse):
        with contextlib.suppress(FieldError):
            parse(text)


device_fields = st.dictionaries(
    st.sampled_from(
        [
            "device_id",
            "device_type",
            "manufacturer",
            "model",
            "firmware_version",
            "inventory_status",
            "asset_owner",
            "smets_version",
            "chf_id",
            "colour",
        ]
    ),
    nasty_text | st.sampled_from([DEVICE, "ESME", "GPF", "Decommissioned", "Acme"]),
)


@FUZZ
@given(device_fields)
def test_a_device_row_gives_a_device_or_every_problem_never_an_exception(
    fields: dict[str, str],
) -> None:
    device, problems = Device.read(fields)
    assert (device is None) == bool(problems)
    assert all(isinstance(p, FieldError) for p in problems)


# -- inspection evidence ---------------------------------------------------------------------

EVIDENCE: dict[str, Any] = {
    "metrology_seal_intact": True,
    "cpa_boundary_intact": False,
    "outer_covers_opened": ["terminal"],
    "security_seal": "broken",
    "alerts": [{"code": "0x8F3F", "at": "2026-03-02T10:00:00Z"}],
    "legitimate_reasons": [
        {"kind": "supplier_job", "reference": "J-1", "covers": ["terminal"], "alert_codes": []}
    ],
    "other_findings": "scratches",
}


@st.composite
def evidence_like(draw: st.DrawFn) -> Any:
    """The inspection's evidence with parts replaced by any JSON, inside lists too."""
    obj = draw(objects_like(EVIDENCE))
    if isinstance(obj, dict) and draw(st.booleans()):
        for key in ("alerts", "legitimate_reasons"):
            if isinstance(obj.get(key), list) and obj[key] and isinstance(obj[key][0], dict):
                obj[key] = [draw(objects_like(obj[key][0]))]
    return obj


@FUZZ
@given(evidence_like())
@example({**EVIDENCE, "outer_covers_opened": [{}]})
@example(
    {**EVIDENCE, "legitimate_reasons": [{**EVIDENCE["legitimate_reasons"][0], "covers": [[]]}]}
)
def test_inspection_evidence_is_read_or_refused_naming_the_field(obj: Any) -> None:
    assume(isinstance(obj, dict))
    try:
        found = evidence_from_json(obj)
    except EvidenceError:
        return
    stored = evidence_to_json(found)
    assert evidence_to_json(evidence_from_json(stored)) == stored


# -- manifests -------------------------------------------------------------------------------

COLUMNS = [
    "device_id",
    "device_type",
    "manufacturer",
    "model",
    "firmware_version",
    "inventory_status",
    "asset_owner",
]


def _rows_are_well_formed(rows: list[ManifestRow]) -> None:
    for row in rows:
        assert isinstance(row.line, int) and row.line >= 1
        if row.problem is None:
            Device.read(row.fields)  # never raises; its problems go in the report


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["csv", "json", "xml"]))
def test_a_manifest_of_any_bytes_is_read_or_refused_as_a_file(data: bytes, kind: str) -> None:
    try:
        rows = parse_manifest(data, kind)
    except ManifestFormatError:
        return
    _rows_are_well_formed(rows)


@FUZZ
@given(st.lists(st.lists(nasty_text, max_size=9), max_size=5), st.booleans())
def test_a_csv_manifest_with_any_rows_is_read_or_refused(rows: list[list[str]], bom: bool) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for values in rows:
        writer.writerow(values)
    data = ("\ufeff" if bom else "") + out.getvalue()
    try:
        parsed = parse_manifest(data.encode("utf-8", errors="surrogatepass"), "csv")
    except ManifestFormatError:
        return
    _rows_are_well_formed(parsed)


@FUZZ
@given(json_values | st.dictionaries(st.just("devices"), json_values))
def test_a_json_manifest_of_any_shape_is_read_or_refused(value: Any) -> None:
    try:
        rows = parse_manifest(json.dumps(value).encode(), "json")
    except ManifestFormatError:
        return
    _rows_are_well_formed(rows)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=2**64 - 2),
            st.sampled_from(list(DeviceType)),
            st.text(
                alphabet=st.characters(
                    min_codepoint=0x20, max_codepoint=0x2FFF, exclude_characters="\x7f"
                ),
                min_size=1,
                max_size=20,
            ).filter(lambda t: t == t.strip() and t.strip()),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_a_manifest_written_as_csv_reads_back_as_the_same_devices(
    devices: list[tuple[int, DeviceType, str]],
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for number, device_type, text in devices:
        writer.writerow(
            [DeviceId.from_int(number), device_type.name, text, text, text, "Decommissioned", text]
        )
    rows = parse_manifest(out.getvalue().encode(), "csv")
    read = [Device.from_fields(row.fields) for row in rows]
    assert [(d.id.as_int, d.type, d.manufacturer) for d in read] == devices


# -- signed notes ----------------------------------------------------------------------------

VALID_NOTE = note.sign("triage.example/ledger\n42\nsome text — with é\n", FACILITY_SIGNER)


@FUZZ
@given(mutated(VALID_NOTE))
def test_a_changed_signed_note_is_refused_or_reads_as_the_original(changed: str) -> None:
    keys = [FACILITY_VERIFIER, TOOL_VERIFIER]
    for data in (changed, changed.encode("utf-8", errors="surrogatepass")):
        try:
            text = note.verify(data, keys)
        except VerificationError:
            continue
        assert text == note.verify(VALID_NOTE, keys)


@FUZZ
@given(st.one_of(nasty_text, st.binary(max_size=300)))
def test_any_note_is_verified_or_refused(data: str | bytes) -> None:
    with contextlib.suppress(VerificationError):
        note.verify(data, [FACILITY_VERIFIER])


# -- checkpoints -----------------------------------------------------------------------------

checkpoints = st.builds(
    Checkpoint,
    origin=st.text(
        alphabet=st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f"),
        min_size=1,
        max_size=40,
    ),
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root_hash=st.binary(min_size=32, max_size=32),
)


@FUZZ
@given(nasty_text | checkpoints.map(format_checkpoint).flatmap(mutated))
def test_a_checkpoint_body_is_read_or_refused_and_reads_back_as_written(text: str) -> None:
    try:
        found = parse_checkpoint(text)
    except VerificationError:
        return
    assert format_checkpoint(found) == text


@FUZZ
@given(checkpoints)
def test_a_checkpoint_round_trips(checkpoint: Checkpoint) -> None:
    signed = sign_checkpoint(checkpoint, FACILITY_SIGNER)
    assert open_checkpoint(signed, [FACILITY_VERIFIER], checkpoint.origin) == checkpoint


SIGNED_CHECKPOINT = sign_checkpoint(Checkpoint(ORIGIN, 7, bytes(range(32))), FACILITY_SIGNER)


@FUZZ
@given(mutated(SIGNED_CHECKPOINT) | nasty_text)
def test_a_changed_signed_checkpoint_is_refused_or_is_the_original(changed: str) -> None:
    try:
        found = open_checkpoint(changed, [FACILITY_VERIFIER], ORIGIN)
    except VerificationError:
        return
    assert found == Checkpoint(ORIGIN, 7, bytes(range(32)))


# -- receipts --------------------------------------------------------------------------------


def _entries(count: int, other_device_on_odd: bool = False) -> list[bytes]:
    """A small log's entries about DEVICE (and, on odd indexes if asked, another device)."""
    return [
        Entry(
            type="device.received",
            at=AT + timedelta(minutes=n),
            actor=Ref("operator", "ben"),
            facility="triage.example",
            subject=Ref(
                "device", "00-11-22-33-44-55-66-77" if other_device_on_odd and n % 2 else DEVICE
            ),
            data={"step": n},
        ).to_bytes()
        for n in range(count)
    ]


def _receipt() -> str:
    log = Log(MemoryLogStorage())
    device = Ref("device", DEVICE)
    log.append(_entries(7, other_device_on_odd=True))
    checkpoint = log.issue_checkpoint(ORIGIN, FACILITY_SIGNER)
    return build_receipt(log, ORIGIN, device, [0, 2, 4, 6], checkpoint)


RECEIPT = _receipt()
RECEIPT_OBJ = json.loads(RECEIPT)


@FUZZ
@given(st.one_of(nasty_text, st.binary(max_size=300), json_values.map(json.dumps)))
def test_any_receipt_is_verified_or_refused(data: str | bytes) -> None:
    with contextlib.suppress(VerificationError):
        verify_receipt(data, [FACILITY_VERIFIER])


@FUZZ
@given(mutated(RECEIPT))
def test_a_changed_receipt_is_refused_or_proves_the_same_entries(changed: str) -> None:
    try:
        verified = verify_receipt(changed, [FACILITY_VERIFIER])
    except VerificationError:
        return
    original = verify_receipt(RECEIPT, [FACILITY_VERIFIER])
    assert verified.entries == original.entries
    assert verified.checkpoint == original.checkpoint


def _ledger_export() -> bytes:
    log = Log(MemoryLogStorage())
    entries = _entries(5)
    log.append(entries)
    checkpoint = log.issue_checkpoint(ORIGIN, FACILITY_SIGNER)
    return b"".join(export_lines(ORIGIN, checkpoint.note, checkpoint.size, entries))


LEDGER_EXPORT = _ledger_export()


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        nasty_text.map(_as_bytes),
        mutated(LEDGER_EXPORT.decode()).map(_as_bytes),
    )
)
def test_any_ledger_export_is_verified_or_refused_and_a_changed_one_holds_the_same_entries(
    data: bytes,
) -> None:
    try:
        verified = verify_export(io.BytesIO(data), [FACILITY_VERIFIER])
    except VerificationError:
        return
    # Whatever passes is the signed log itself: the same entries, byte for byte.
    assert data.split(b"\n")[1:] == LEDGER_EXPORT.split(b"\n")[1:]
    assert verified.checkpoint.size == 5


@st.composite
def receipts_with_one_part_replaced(draw: st.DrawFn) -> dict[str, Any]:
    obj = json.loads(RECEIPT)
    where = draw(st.sampled_from(["top", "subject", "entry"]))
    value = draw(json_values)
    if where == "top":
        obj[draw(st.sampled_from(sorted(obj)))] = value
    elif where == "subject":
        obj["subject"][draw(st.sampled_from(["kind", "id"]))] = value
    else:
        item = obj["entries"][draw(st.integers(0, len(obj["entries"]) - 1))]
        item[draw(st.sampled_from(["index", "entry", "proof"]))] = value
    return dict(obj)


@FUZZ
@given(receipts_with_one_part_replaced())
def test_a_receipt_with_any_part_replaced_is_refused_or_unchanged(obj: dict[str, Any]) -> None:
    try:
        verified = verify_receipt(json.dumps(obj), [FACILITY_VERIFIER])
    except VerificationError:
        return
    assert verified.entries == verify_receipt(RECEIPT, [FACILITY_VERIFIER]).entries


# -- work orders and tool results ------------------------------------------------------------

ORDER = WorkOrder(
    id="wo-1",
    facility="TF-1",
    tool_id="BENCH-1",
    device_id=DEVICE,
    job_id="job-1",
    operator_id="ben",
    action=FACTORY_RESET,
    profile="esme-v1",
    nonce=NONCE,
    issued_at=AT,
    expires_at=AT + timedelta(minutes=15),
)
RESULT = ToolResult(
    work_order_id="wo-1",
    nonce=NONCE,
    tool_id="BENCH-1",
    device_id=DEVICE,
    outcome=ResetOutcome.COMPLETED,
    before={"tariffs": "a" * 64},
    after={"tariffs": "b" * 64},
    detail="done",
    completed_at=AT + timedelta(minutes=2),
)
SIGNED_ORDER = ORDER.sign(FACILITY_SIGNER)
SIGNED_RESULT = RESULT.sign(TOOL_SIGNER)


@FUZZ
@given(mutated(SIGNED_ORDER) | nasty_text)
def test_a_changed_work_order_is_refused_or_is_the_original(changed: str) -> None:
    try:
        found = WorkOrder.open(changed, FACILITY_VERIFIER)
    except WorkOrderRefused:
        return
    assert found == ORDER


@FUZZ
@given(mutated(SIGNED_RESULT) | nasty_text)
def test_a_changed_tool_result_is_refused_or_is_the_original(changed: str) -> None:
    try:
        found = ToolResult.open(changed, TOOL_VERIFIER)
    except WorkOrderRefused:
        return
    assert found == RESULT


@FUZZ
@given(objects_like(ORDER.to_json()))
def test_any_content_signed_by_the_facility_is_a_valid_work_order_or_refused(obj: Any) -> None:
    signed = _signed(obj, FACILITY_SIGNER)
    assume(signed)
    try:
        found = WorkOrder.open(signed, FACILITY_VERIFIER)
    except WorkOrderRefused:
        return
    assert found.to_json()["format"] == WORK_ORDER_FORMAT
    assert WorkOrder.open(found.sign(FACILITY_SIGNER), FACILITY_VERIFIER) == found


@FUZZ
@given(objects_like(RESULT.to_json()))
def test_any_content_signed_by_the_tool_is_a_valid_result_or_refused(obj: Any) -> None:
    signed = _signed(obj, TOOL_SIGNER)
    assume(signed)
    try:
        found = ToolResult.open(signed, TOOL_VERIFIER)
    except WorkOrderRefused:
        return
    assert found.to_json()["format"] == TOOL_RESULT_FORMAT
    assert ToolResult.open(found.sign(TOOL_SIGNER), TOOL_VERIFIER) == found


def test_a_work_order_signed_by_another_key_of_the_same_name_is_refused() -> None:
    with pytest.raises(WorkOrderRefused, match="not signed by the facility"):
        WorkOrder.open(ORDER.sign(OTHER_SIGNER), FACILITY_VERIFIER)


# -- signed agent requests -------------------------------------------------------------------


@FUZZ
@given(nasty_text | st.datetimes(timezones=st.just(UTC)).map(format_time).flatmap(mutated))
def test_a_request_time_is_read_or_refused_with_a_value_error(text: str) -> None:
    try:
        found = parse_time(text)
    except ValueError:
        return
    assert found.utcoffset() == timedelta(0)
    assert parse_time(format_time(found)) == found


def _request(method: str, target: str, body: bytes) -> tuple[str, str, bytes]:
    sent = format_time(AT)
    message = agent_request.request_message(method, target, sent, NONCE, body)
    return sent, target, note.sign_message(message, TOOL_SIGNER)


@FUZZ
@given(
    st.sampled_from(["GET", "POST", "get", "PUT"]),
    nasty_text,
    st.binary(max_size=100),
    st.binary(max_size=80) | st.sampled_from([b"", b"\x00" * 64]),
)
def test_any_signature_on_an_agent_request_verifies_or_is_refused(
    method: str, target: str, body: bytes, signature: bytes
) -> None:
    message = agent_request.request_message(method, target, format_time(AT), NONCE, body)
    try:
        note.verify_message(message, signature, TOOL_VERIFIER)
    except VerificationError:
        return
    raise AssertionError("a signature the tool never made verified")


@FUZZ
@given(
    st.sampled_from(["method", "target", "time", "nonce", "body", "signature"]),
    st.binary(min_size=1, max_size=20),
)
def test_an_agent_request_changed_anywhere_is_refused(part: str, junk: bytes) -> None:
    method, target, body = "POST", "/api/v1/agent/results", b'{"result": "x"}'
    sent, _, signature = _request(method, target, body)
    nonce = NONCE
    text = junk.hex()
    if part == "method":
        method = "PUT"
    elif part == "target":
        target += "?" + text
    elif part == "time":
        sent = format_time(AT + timedelta(microseconds=1 + junk[0]))
    elif part == "nonce":
        nonce = (text * 32)[:32]
        assume(nonce != NONCE)
    elif part == "body":
        body += junk
    else:
        signature = bytes(a ^ b for a, b in zip(signature, junk.ljust(64, b"\x00"), strict=False))
        assume(any(junk))
    message = agent_request.request_message(method, target, sent, nonce, body)
    with pytest.raises(VerificationError):
        note.verify_message(message, signature, TOOL_VERIFIER)
