"""The lifecycle diagram in the docs is the one the code generates."""

from __future__ import annotations

from pathlib import Path

from triage.domain import lifecycle

ARCHITECTURE = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"


def test_architecture_page_shows_the_lifecycle_the_code_enforces() -> None:
    assert lifecycle.mermaid() in ARCHITECTURE.read_text()
