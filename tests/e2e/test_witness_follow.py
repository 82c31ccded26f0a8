"""An auditor follows a running facility's log with the real `triage witness follow`, through the
tile read API: each new entry is verified as the log grows, and when the facility is rolled back
(its database and data directory put back as they were) the monitor says ROLLBACK and exits 2."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Triage, start_server, stop
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.services import operators

PREFIX = "/api/v1/ledger/tlog"


def _follow(
    triage: Triage, url: str, vkey: str, state: Path, token: str
) -> subprocess.CompletedProcess[str]:
    return triage.run(
        "witness",
        "follow",
        url,
        "--key",
        vkey,
        "--state",
        str(state),
        "--token",
        token,
        "--json",
        check=False,
    )


def _report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def _url(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/") + PREFIX


def _grow(triage: Triage, count: int) -> None:
    """``count`` operators registered, an entry each, through the use case (in this process)."""
    with triage.opened() as app:
        for number in range(count):
            operators.create_operator(
                app.uow, Caller.system("test"), f"grow{number}", "Grown", frozenset({Role.AUDITOR})
            )


def _size(triage: Triage) -> int:
    """The size of a new checkpoint the facility signs now."""
    return int(json.loads(triage.run("ledger", "checkpoint", "--json").stdout)["size"])


def test_follow_verifies_a_growing_log_and_says_rollback_when_the_facility_is_rolled_back(
    triage: Triage, tmp_path: Path
) -> None:
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin()
    auditor = triage.staff(admin, "audrey", "auditor")
    triage.env["TRIAGE_TOKEN"] = admin
    first_size = _size(triage)
    # The facility as it is now, database and data directory, taken while no server runs.
    earlier = tmp_path / "earlier"
    shutil.copytree(triage.data_dir, earlier)
    state = tmp_path / "monitor"

    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        url = _url(client)
        refused = _follow(triage, url, vkey, state, "")
        assert refused.returncode == 1
        assert "refused access (401)" in refused.stderr

        first = _report(_follow(triage, url, vkey, state, auditor))
        assert (first["from_size"], first["to_size"]) == (0, first_size)
        assert first["entries_verified"] == first_size

        # The log grows across a tile boundary and the facility signs a new checkpoint.
        _grow(triage, 300)
        second_size = _size(triage)
        second = _report(_follow(triage, url, vkey, state, auditor))
        assert (second["from_size"], second["to_size"]) == (first_size, second_size)
        assert second["entries_verified"] == second_size - first_size > 256

        unchanged = _report(_follow(triage, url, vkey, state, auditor))
        assert unchanged["entries_verified"] == 0
    finally:
        client.close()
        stop(server)

    # The facility is rolled back: its database and data directory put back as they were.
    shutil.rmtree(triage.data_dir)
    shutil.copytree(earlier, triage.data_dir)
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        url = _url(client)  # another port: the state follows the log by its origin
        rolled_back = _follow(triage, url, vkey, state, auditor)
        assert rolled_back.returncode == 2, rolled_back.stderr
        assert "ROLLBACK DETECTED" in rolled_back.stderr
        assert f"size {second_size}" in rolled_back.stderr
        assert f"size {first_size}" in rolled_back.stderr
        alarm = json.loads(rolled_back.stdout)
        assert alarm["alarm"] == "ROLLBACK"
        assert (alarm["kept"]["size"], alarm["served"]["size"]) == (second_size, first_size)
        evidence = json.loads(Path(alarm["evidence"]).read_text())
        assert evidence["served"]["checkpoint"] == alarm["served"]["checkpoint"]
        assert evidence["kept"]["checkpoint"] != evidence["served"]["checkpoint"]

        # Said again at the next run: the state was not advanced, nothing was forgotten.
        again = _follow(triage, url, vkey, state, auditor)
        assert again.returncode == 2
        assert "ROLLBACK DETECTED" in again.stderr
    finally:
        client.close()
        stop(server)
