"""The one Settings: what the environment sets, and the intervals a fresh installation uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.config import Settings
from triage.entrypoints.cli import app as cli
from triage.errors import InvalidInput


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


def test_the_facility_works_in_london_time_unless_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TRIAGE_TIME_ZONE", raising=False)
    assert Settings.from_env(tmp_path).time_zone == "Europe/London"
    monkeypatch.setenv("TRIAGE_TIME_ZONE", "Europe/Belfast")
    settings = Settings.from_env(tmp_path)
    assert settings.time_zone == "Europe/Belfast"
    assert str(settings.zone) == "Europe/Belfast"


@pytest.mark.parametrize("zone", ["Europe/Londn", "GMT+25", "../../etc/passwd", "/etc/localtime"])
def test_an_unknown_time_zone_is_refused_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, zone: str
) -> None:
    monkeypatch.setenv("TRIAGE_TIME_ZONE", zone)
    with pytest.raises(InvalidInput, match=r"TRIAGE_TIME_ZONE: .* is not an IANA time zone"):
        Settings.from_env(tmp_path)


@pytest.mark.parametrize("command", [["init"], ["ledger", "status"], ["serve"]])
def test_a_command_refuses_an_unknown_time_zone_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    env = {"TRIAGE_DATA_DIR": str(tmp_path / "var"), "TRIAGE_TIME_ZONE": "Europe/Londn"}

    run = CliRunner().invoke(cli, command, env=env)

    assert run.exit_code != 0
    assert isinstance(run.exception, SystemExit), run.exception  # no traceback
    assert "TRIAGE_TIME_ZONE: 'Europe/Londn' is not an IANA time zone" in run.output
    assert not (tmp_path / "var").exists()  # nothing was created
