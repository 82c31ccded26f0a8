"""End-to-end helpers: the real `triage` command in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]


class Triage:
    """Runs `triage` commands against one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "TRIAGE_DATA_DIR": str(data_dir)}
        self.env.pop("TRIAGE_DATABASE_URL", None)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*TRIAGE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"triage {' '.join(args)} failed: {result.stderr}")
        return result


@pytest.fixture
def triage(tmp_path: Path) -> Triage:
    return Triage(tmp_path / "var")
