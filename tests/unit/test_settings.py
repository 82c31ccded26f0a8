"""The one Settings: what the environment sets, and the intervals a fresh installation uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from triage.config import Settings


def test_triage_facility_picks_the_facility_to_open(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRIAGE_FACILITY", "north")
    assert Settings.from_env(tmp_path).facility == "north"
    monkeypatch.setenv("TRIAGE_FACILITY", "")
    assert Settings.from_env(tmp_path).facility is None


def test_a_fresh_installation_keeps_the_documented_intervals(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path)
    # What the security policy and the user guide promise: sessions end after 15 idle minutes
    # or 8 hours, an account locks after 5 failures in a row, a late result has 2 minutes.
    assert settings.session_idle_timeout == timedelta(minutes=15)
    assert settings.session_absolute_timeout == timedelta(hours=8)
    assert settings.account_lock_failures == 5
    assert settings.source_lock_failures == 20
    assert settings.work_order_expiry_grace == timedelta(minutes=2)
