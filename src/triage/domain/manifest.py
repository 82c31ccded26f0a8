"""Reading consignment manifests (CSV or JSON) into numbered rows of text fields."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping

from triage.domain.bounded import InputLimitError, load_json
from triage.domain.consignment import ManifestRow
from triage.domain.device import OPTIONAL_FIELDS, REQUIRED_FIELDS

# As large as the API and the CLI accept (tens of thousands of devices).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
REQUIRED = REQUIRED_FIELDS
OPTIONAL = OPTIONAL_FIELDS
ALIASES = {
    "asset_owner_reference": "asset_owner",
    "type": "device_type",
    "firmware": "firmware_version",
}


class ManifestFormatError(ValueError):
    """The file as a whole cannot be read as a manifest (not a bad row: a bad file)."""


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def parse_manifest(data: bytes, kind: str) -> list[ManifestRow]:
    """Every row with its line number; CSV lines count from the header (line 1), JSON rows are
    numbered by their position in the list."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestFormatError(
            f"manifest is not UTF-8: byte {exc.start + bom} of the file"
        ) from exc
    if kind == "json":
        return _json_rows(text)
    if kind == "csv":
        return _csv_rows(text)
    raise ManifestFormatError(f"unknown manifest format {kind!r}: use csv or json")


def _check_columns(columns: list[str]) -> None:
    for position, column in enumerate(columns, start=1):
        if not column:
            raise ManifestFormatError(
                f"column {position} of the header has no name (a trailing comma?)"
            )
    unknown = [c for c in columns if c not in REQUIRED and c not in OPTIONAL]
    if unknown:
        raise ManifestFormatError(
            f"unknown column(s) {', '.join(unknown)}; columns are {', '.join(REQUIRED + OPTIONAL)}"
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ManifestFormatError(f"missing column(s): {', '.join(missing)}")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ManifestFormatError(f"column(s) given twice: {', '.join(repeated)}")


def _csv_rows(text: str) -> list[ManifestRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ManifestFormatError("manifest is empty: it needs a header row") from None
    except csv.Error as exc:
        raise ManifestFormatError(f"line 1: {exc}") from exc
    columns = [_column(c) for c in header]
    _check_columns(columns)
    rows = []
    try:
        # A row is numbered by the line it starts on, even when a quoted value spans lines.
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(columns):
                shape = f"has {len(values)} values for {len(columns)} columns"
                rows.append(ManifestRow(start, problem=shape))
                continue
            rows.append(ManifestRow(start, _fields(dict(zip(columns, values, strict=True)))))
    except csv.Error as exc:
        raise ManifestFormatError(f"line {reader.line_num}: {exc}") from exc
    return rows


def _json_rows(text: str) -> list[ManifestRow]:
    try:
        items = load_json(text, "manifest", max_bytes=MAX_MANIFEST_BYTES)
    except InputLimitError as exc:
        raise ManifestFormatError(str(exc)) from None
    if isinstance(items, dict) and isinstance(items.get("devices"), list):
        items = items["devices"]
    if not isinstance(items, list):
        raise ManifestFormatError('a JSON manifest is a list of devices (or {"devices": [...]})')
    rows = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(ManifestRow(number, problem="is not an object"))
            continue
        fields = {_column(str(k)): "" if v is None else str(v) for k, v in item.items()}
        rows.append(ManifestRow(number, _fields(fields)))
    return rows


def _fields(raw: Mapping[str, str]) -> dict[str, str]:
    """Optional columns left empty are absent, not empty text."""
    return {k: v for k, v in raw.items() if not (k in OPTIONAL and not v.strip())}
