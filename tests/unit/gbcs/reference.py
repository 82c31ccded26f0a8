"""The DCC's RTDS 4.5.0 6.13 responses (../shared/testdata/gbcs beside the repository, or
$TRIAGE_GBCS_TESTDATA): GPL-3.0 test data, read here as data only."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage.gbcs import LogEntry

REFERENCE = Path(
    os.environ.get(
        "TRIAGE_GBCS_TESTDATA",
        Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "gbcs",
    )
)
FILES = sorted(REFERENCE.glob("*.HEX"))
SUCCESS = [f for f in FILES if "_SUCCESS_" in f.name]
FAILED = [f for f in FILES if "_SUCCESS_" not in f.name]
SECURITY_LOG_FAILURES = [f for f in FAILED if f.name.startswith(("CS10b", "ECS35b", "ECS35d"))]


def ids(paths: list[Path]) -> list[str]:
    """Test ids: the use case and outcome of each file."""
    return [p.name.removesuffix("_RESPONSE_GBCS.HEX") for p in paths]


def expected(path: Path) -> dict[str, Any]:
    """The reference parser's reading of a SUCCESS file."""
    found: dict[str, Any] = json.loads(Path(f"{path}.expected.json").read_text(encoding="utf-8"))
    return found


def expected_entries(path: Path) -> tuple[LogEntry, ...]:
    """The entries a SUCCESS file holds, as our LogEntry (ZigBee: log id and event data)."""
    entries = []
    for item in expected(path)["entries"]:
        at = datetime.strptime(item["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if "log_id" in item:
            extra: tuple[int | str, ...] = (item["log_id"], item.get("event_data_hex", ""))
        else:
            extra = tuple(item["extra"])
        entries.append(LogEntry(int(item["code"], 16), at, extra))
    return tuple(entries)
