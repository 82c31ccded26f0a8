"""Consignment manifests (CSV or JSON) read into numbered rows of text fields."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.domain.consignment import ManifestRow
from triage.domain.manifest import OPTIONAL, REQUIRED, ManifestFormatError, parse_manifest

HEADER = ",".join(REQUIRED)
VALUES = {
    "device_id": "BC-33-AC-FF-FE-FA-55-3D",
    "device_type": "ESME",
    "manufacturer": "Acme Meters",
    "model": "AM-200",
    "firmware_version": "4.2.1",
    "inventory_status": "returned",
    "asset_owner": "MAP-17",
}
ROW = ",".join(VALUES[c] for c in REQUIRED)


def _csv(*lines: str, end: str = "\n") -> bytes:
    return "".join(line + end for line in lines).encode()


def _one(rows: list[ManifestRow]) -> ManifestRow:
    assert len(rows) == 1
    return rows[0]


# --- CSV: header --------------------------------------------------------------------------------


def test_plain_csv_row_is_read_as_text_fields_at_line_2() -> None:
    row = _one(parse_manifest(_csv(HEADER, ROW), "csv"))
    assert row == ManifestRow(2, VALUES)


@pytest.mark.parametrize(
    "header",
    [
        "Device_ID,Device_Type,Manufacturer,Model,Firmware_Version,Inventory_Status,Asset_Owner",
        "DEVICE ID,DEVICE TYPE,MANUFACTURER,MODEL,FIRMWARE VERSION,INVENTORY STATUS,ASSET OWNER",
        " device id ,  device  type,manufacturer , model,"
        "firmware-version,Inventory-Status,asset owner",
        "device_id,type,manufacturer,model,firmware,inventory_status,asset_owner_reference",
        "Device ID,Type,Manufacturer,Model,Firmware,Inventory Status,Asset Owner Reference",
        "\tdevice_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\t",
    ],
)
def test_header_spelling_variations_name_the_same_columns(header: str) -> None:
    row = _one(parse_manifest(_csv(header, ROW), "csv"))
    assert row.fields == VALUES


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_byte_order_mark_and_line_endings_are_accepted(end: str) -> None:
    data = b"\xef\xbb\xbf" + _csv(HEADER, ROW, ROW, end=end)
    rows = parse_manifest(data, "csv")
    assert rows == [ManifestRow(2, VALUES), ManifestRow(3, VALUES)]


def test_columns_may_come_in_any_order() -> None:
    columns = list(reversed(REQUIRED))
    data = _csv(",".join(columns), ",".join(VALUES[c] for c in columns))
    assert _one(parse_manifest(data, "csv")).fields == VALUES


def test_values_are_kept_as_written() -> None:
    # Cleaning values is the device's job; the reader only splits the file into fields.
    data = _csv(HEADER, ' bc33acfffefa553d ,ESME,"Acme, Meters",AM-200,04.2,returned,MAP-17')
    fields = _one(parse_manifest(data, "csv")).fields
    assert fields["device_id"] == " bc33acfffefa553d "
    assert fields["manufacturer"] == "Acme, Meters"
    assert fields["firmware_version"] == "04.2"


# --- CSV: optional columns, blank lines, line numbers -----------------------------------------


def test_optional_columns_are_read_when_given() -> None:
    data = _csv(HEADER + ",SMETS Version,CHF ID", ROW + ",2,00-DB-12-34-56-78-9A-BC")
    fields = _one(parse_manifest(data, "csv")).fields
    assert fields == {**VALUES, "smets_version": "2", "chf_id": "00-DB-12-34-56-78-9A-BC"}


@pytest.mark.parametrize("empty", ["", " ", "\t", '"  "'])
def test_optional_column_left_empty_is_absent(empty: str) -> None:
    data = _csv(HEADER + ",smets_version,chf_id", ROW + f",{empty},{empty}")
    fields = _one(parse_manifest(data, "csv")).fields
    assert fields == VALUES
    for column in OPTIONAL:
        assert column not in fields


def test_required_column_left_empty_is_kept_empty_for_validation_to_report() -> None:
    data = _csv(HEADER, ROW.replace("AM-200", ""))
    fields = _one(parse_manifest(data, "csv")).fields
    assert fields["model"] == ""


def test_blank_lines_are_skipped_and_still_counted() -> None:
    data = _csv(HEADER, "", ROW, "   ", ",,,,,,", " , , ,,,,", "", ROW, "")
    assert [r.line for r in parse_manifest(data, "csv")] == [3, 8]


def test_header_only_manifest_has_no_rows() -> None:
    assert parse_manifest(_csv(HEADER), "csv") == []


def test_line_numbers_count_newlines_inside_quoted_fields() -> None:
    multi = ROW.replace("Acme Meters", '"Acme\nMeters\nLtd"')
    data = _csv(HEADER, multi, ROW, "", ROW)
    rows = parse_manifest(data, "csv")
    assert rows[0].fields["manufacturer"] == "Acme\nMeters\nLtd"
    # The header is line 1, the quoted field takes lines 2 to 4.
    assert [r.line for r in rows[1:]] == [5, 7]


def test_a_row_spanning_several_lines_is_numbered_by_its_first_line() -> None:
    multi = ROW.replace("Acme Meters", '"Acme\nMeters\nLtd"')
    rows = parse_manifest(_csv(HEADER, multi), "csv")
    assert _one(rows).line == 2


@pytest.mark.parametrize(
    ("line", "count"),
    [(ROW + ",extra", 8), (ROW.rsplit(",", 1)[0], 6), ("just-one-value", 1)],
)
def test_wrong_number_of_values_is_a_row_problem_not_a_file_error(line: str, count: int) -> None:
    rows = parse_manifest(_csv(HEADER, ROW, line, ROW), "csv")
    assert rows[0] == ManifestRow(2, VALUES)
    assert rows[1] == ManifestRow(3, problem=f"has {count} values for {len(REQUIRED)} columns")
    assert rows[2] == ManifestRow(4, VALUES)


# --- CSV: bad files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (HEADER + ",colour", "colour"),
        (HEADER + ",CHF Identifier", "chf_identifier"),
        (HEADER.replace("model", "modle"), "modle"),
    ],
)
def test_unknown_column_is_a_file_error_naming_it(header: str, named: str) -> None:
    with pytest.raises(ManifestFormatError, match="unknown column") as caught:
        parse_manifest(_csv(header, ROW + ",x"), "csv")
    assert named in str(caught.value)


def test_header_with_an_empty_column_name_says_which_column() -> None:
    with pytest.raises(ManifestFormatError) as caught:
        parse_manifest(_csv(HEADER + ",", ROW + ","), "csv")
    assert re.search(r"empty|blank|no name|unnamed|column 8", str(caught.value))


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_column_is_a_file_error_naming_it(missing: str) -> None:
    columns = [c for c in REQUIRED if c != missing]
    with pytest.raises(ManifestFormatError, match="missing column") as caught:
        parse_manifest(_csv(",".join(columns), ",".join(VALUES[c] for c in columns)), "csv")
    assert str(caught.value).endswith(missing)


@pytest.mark.parametrize(
    ("extra", "repeated"),
    [
        ("device_id", "device_id"),
        ("Device ID", "device_id"),
        ("type", "device_type"),
        ("firmware", "firmware_version"),
        ("Asset Owner Reference", "asset_owner"),
        ("chf_id,CHF ID", "chf_id"),
    ],
)
def test_repeated_column_is_a_file_error_naming_it(extra: str, repeated: str) -> None:
    with pytest.raises(ManifestFormatError, match="given twice") as caught:
        parse_manifest(_csv(HEADER + "," + extra), "csv")
    assert str(caught.value).endswith(repeated)


def test_empty_file_is_a_file_error() -> None:
    for data in (b"", b"\xef\xbb\xbf"):
        with pytest.raises(ManifestFormatError, match="needs a header row"):
            parse_manifest(data, "csv")


def test_oversized_field_is_a_file_error_naming_the_line() -> None:
    huge = ROW.replace("AM-200", "x" * 200_000)
    with pytest.raises(ManifestFormatError, match=r"^line 3: field larger than field limit"):
        parse_manifest(_csv(HEADER, ROW, huge), "csv")


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_not_utf8_is_a_file_error_naming_the_byte(kind: str) -> None:
    good = _csv(HEADER, ROW)
    data = good + b"caf\xe9"
    with pytest.raises(ManifestFormatError, match=f"not UTF-8: byte {len(good) + 3} of the file"):
        parse_manifest(data, kind)


def test_not_utf8_after_a_byte_order_mark_names_the_byte_in_the_file() -> None:
    data = b"\xef\xbb\xbf" + _csv(HEADER, ROW) + b"caf\xe9"
    bad = data.index(b"\xe9")
    with pytest.raises(ManifestFormatError, match=f"byte {bad} of the file"):
        parse_manifest(data, "csv")


def test_unknown_manifest_kind_is_refused() -> None:
    with pytest.raises(ManifestFormatError, match="unknown manifest format 'xlsx'"):
        parse_manifest(_csv(HEADER, ROW), "xlsx")


# --- JSON ---------------------------------------------------------------------------------------


def test_json_list_of_devices() -> None:
    rows = parse_manifest(json.dumps([VALUES, VALUES]).encode(), "json")
    assert rows == [ManifestRow(1, VALUES), ManifestRow(2, VALUES)]


def test_json_object_with_a_devices_list() -> None:
    data = json.dumps({"consignment": "C-9", "devices": [VALUES]}).encode()
    assert parse_manifest(data, "json") == [ManifestRow(1, VALUES)]


def test_json_with_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + json.dumps([VALUES]).encode()
    assert parse_manifest(data, "json") == [ManifestRow(1, VALUES)]


def test_json_keys_are_read_like_csv_headers() -> None:
    item = {"Device ID": "d", "Type": "ESME", "Firmware": "1", "Asset Owner Reference": "MAP"}
    fields = _one(parse_manifest(json.dumps([item]).encode(), "json")).fields
    assert fields == {
        "device_id": "d",
        "device_type": "ESME",
        "firmware_version": "1",
        "asset_owner": "MAP",
    }


@pytest.mark.parametrize("item", [["a", "b"], "BC-33-AC-FF-FE-FA-55-3D", 17, None, True])
def test_json_item_that_is_not_an_object_is_a_row_problem(item: object) -> None:
    rows = parse_manifest(json.dumps([VALUES, item, VALUES]).encode(), "json")
    assert rows == [
        ManifestRow(1, VALUES),
        ManifestRow(2, problem="is not an object"),
        ManifestRow(3, VALUES),
    ]


def test_json_numbers_become_text() -> None:
    item = {**VALUES, "firmware_version": 42, "model": 4.5, "smets_version": 2}
    fields = _one(parse_manifest(json.dumps([item]).encode(), "json")).fields
    assert fields["firmware_version"] == "42"
    assert fields["model"] == "4.5"
    assert fields["smets_version"] == "2"


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_json_optional_field_empty_or_null_is_absent(empty: str | None) -> None:
    item = {**VALUES, "smets_version": empty, "chf_id": empty}
    assert _one(parse_manifest(json.dumps([item]).encode(), "json")).fields == VALUES


def test_json_required_field_null_is_kept_empty_for_validation_to_report() -> None:
    item = {**VALUES, "model": None}
    assert _one(parse_manifest(json.dumps([item]).encode(), "json")).fields["model"] == ""


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("[{", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"device": []}', "is a list of devices"),
        ('{"devices": {"a": 1}}', "is a list of devices"),
        ('"devices"', "is a list of devices"),
        ("42", "is a list of devices"),
    ],
)
def test_json_that_is_not_a_device_list_is_a_file_error(data: str, problem: str) -> None:
    with pytest.raises(ManifestFormatError, match=problem):
        parse_manifest(data.encode(), "json")


def test_empty_json_list_has_no_rows() -> None:
    assert parse_manifest(b"[]", "json") == []
    assert parse_manifest(b'{"devices": []}', "json") == []


# --- property -----------------------------------------------------------------------------------

_printable = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\r\t\",'; "),
    max_size=12,
)
_row = st.fixed_dictionaries({column: _printable for column in REQUIRED + OPTIONAL}).filter(
    lambda row: any(v.strip() for v in row.values())
)


@given(rows=st.lists(_row, max_size=8), header_order=st.permutations(REQUIRED + OPTIONAL))
def test_any_rows_written_as_csv_parse_back_to_the_same_values(
    rows: list[dict[str, str]], header_order: list[str]
) -> None:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=header_order)
    writer.writeheader()
    writer.writerows(rows)
    parsed = parse_manifest(out.getvalue().encode(), "csv")
    expected = [{k: v for k, v in row.items() if k in REQUIRED or v.strip()} for row in rows]
    assert [dict(r.fields) for r in parsed] == expected
    assert all(r.problem is None for r in parsed)
    lines = [r.line for r in parsed]
    assert lines == sorted(set(lines))
    assert all(line >= 2 for line in lines)
