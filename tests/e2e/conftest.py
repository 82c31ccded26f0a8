"""End-to-end helpers: the real `triage` command in a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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

    def first_admin(self, operator_id: str = "admin", name: str = "Ada") -> str:
        """The first administrator (no credentials needed yet) and their API token."""
        out = self.run(
            "operator",
            "add",
            operator_id,
            "--name",
            name,
            "--role",
            "administrator",
            "--issue-token",
            "--json",
        ).stdout
        return str(json.loads(out)["token"])

    def staff(self, admin: str, operator_id: str, role: str, bench: str | None = None) -> str:
        """An operator added by ``admin``, and a token of theirs (for ``bench`` when given)."""
        self.run(
            "operator",
            "add",
            operator_id,
            "--name",
            operator_id,
            "--role",
            role,
            "--token",
            admin,
        )
        at_bench = ("--bench", bench) if bench else ()
        out = self.run(
            "operator", "token", operator_id, *at_bench, "--token", admin, "--json"
        ).stdout
        return str(json.loads(out)["token"])


@pytest.fixture
def triage(tmp_path: Path) -> Triage:
    return Triage(tmp_path / "var")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(triage: Triage, *args: str) -> tuple[subprocess.Popen[str], httpx.Client]:
    """`triage serve` on a free loopback port, waited for until it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [*TRIAGE, "serve", "--port", str(port), *args],
        env=triage.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/api/v1/health").status_code == 200:
                return proc, client
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"server did not start: {proc.communicate()[1]}")
        time.sleep(0.1)


def stop(*procs: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL whatever has not stopped within 15 seconds."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
