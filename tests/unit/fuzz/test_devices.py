"""Hostile input to the parsers of device ids, device rows, inspection evidence and manifests:
whatever the text or bytes, each parser either returns a valid value or raises its own
documented error, never another exception; and what a formatter writes, its parser reads back
unchanged, the security log a simulated device sends included (strategies and keys:
``strategies.py``)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from tests.unit.fuzz.strategies import (
    DEVICE,
    FUZZ,
    json_values,
    nasty_text,
    objects_like,
)
from triage import gbcs
from triage.adapters.devices.simulated import log_digest, security_log_response
from triage.domain.consignment import ManifestRow
from triage.domain.device import (
    Device,
    DeviceId,
    DeviceType,
    FieldError,
    InventoryStatus,
)
from triage.domain.evidence_codec import (
    evidence_from_json,
    evidence_to_json,
    inspection_from_json,
)
from triage.domain.manifest import ManifestFormatError, parse_manifest
from triage.domain.tamper_policy import EvidenceError

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
        {
            "kind": "supplier_job",
            "reference": "J-1",
            "covers": ["terminal"],
            "alert_codes": [],
            "on": "2026-03-01",
        }
    ],
    "other_findings": "scratches",
    "security_log": {"source": "tool", "sha256": "ab" * 32, "use_case": "ECS35b", "reason": None},
}
# What the inspector sends: no alerts (they come from the device's log), or a typed log.
INSPECTION: dict[str, Any] = {
    **{k: v for k, v in EVIDENCE.items() if k not in ("alerts", "security_log")},
    "typed_log": {
        "reason": "log unreadable: optical port broken",
        "alerts": [{"code": "0x8F3F", "at": "2026-03-02T10:00:00Z"}],
    },
}


@st.composite
def evidence_like(draw: st.DrawFn, like: dict[str, Any] = EVIDENCE) -> Any:
    """The inspection's evidence with parts replaced by any JSON, inside lists too."""
    obj = draw(objects_like(like))
    if isinstance(obj, dict) and draw(st.booleans()):
        for key in ("alerts", "legitimate_reasons"):
            if isinstance(obj.get(key), list) and obj[key] and isinstance(obj[key][0], dict):
                obj[key] = [draw(objects_like(obj[key][0]))]
        for key in ("security_log", "typed_log"):
            if isinstance(obj.get(key), dict):
                obj[key] = draw(objects_like(obj[key]))
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


@FUZZ
@given(evidence_like(INSPECTION))
@example({**INSPECTION, "alerts": EVIDENCE["alerts"]})
@example({**INSPECTION, "typed_log": {"reason": "", "alerts": []}})
def test_an_inspection_is_read_without_alerts_or_refused(obj: Any) -> None:
    assume(isinstance(obj, dict))
    try:
        found = inspection_from_json(obj)
    except EvidenceError:
        return
    assert "alerts" not in obj, "alerts come from the device's log, never from the inspector"
    assert found.evidence.alerts == ()
    assert (found.typed_log is None) == (obj.get("typed_log") is None)


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


# -- the simulated device's security log -----------------------------------------------------

GBCS_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
log_entries = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=0xFFFF),
        st.integers(min_value=0, max_value=2**32 - 1).map(
            lambda seconds: GBCS_EPOCH + timedelta(seconds=seconds)
        ),
    ),
    max_size=40,
)


@FUZZ
@given(
    st.integers(min_value=1, max_value=2**64 - 2),
    st.sampled_from([t for t in DeviceType if t is not DeviceType.TYPE2]),  # TYPE2 keeps none
    log_entries,
    st.integers(min_value=1, max_value=2**40),
)
def test_any_log_a_simulated_device_holds_reaches_the_decoder_unchanged(
    number: int, device_type: DeviceType, entries: list[tuple[int, datetime]], counter: int
) -> None:
    device_id = DeviceId.from_int(number).value
    raw = gbcs.encode(security_log_response(device_id, device_type, entries, counter))
    decoded = gbcs.decode(raw)
    assert [(e.code, e.at) for e in decoded.entries] == entries
    assert (decoded.device_id, decoded.originator_counter) == (device_id, counter)
    assert decoded.is_security_log
    assert gbcs.decode(raw.hex(" ")) == decoded
    # The digest the device reports for its log changes with any entry added to it.
    longer = [*entries, (0x8F52, GBCS_EPOCH)]
    assert log_digest(device_id, device_type, longer) != log_digest(device_id, device_type, entries)
