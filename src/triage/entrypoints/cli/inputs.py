"""Reading the files commands are given, never more than a limit."""

from __future__ import annotations

import sys
from pathlib import Path

from triage.domain.bounded import read_at_most


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The file (or stdin for '-'), refused once it passes ``limit`` bytes: a device such as
    /dev/zero, or a file of many GiB, is never read to the end."""
    if str(path) == "-":
        return read_at_most(sys.stdin.buffer, limit, what)
    with path.open("rb") as file:
        return read_at_most(file, limit, what)


def read_scans(path: Path) -> list[str]:
    """Serials as a scanner typed them: one per line, blank lines ignored; '-' is stdin."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]
