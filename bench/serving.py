"""`triage serve` for a benchmark: a facility's data directory on a free loopback port, its
periodic work off (nothing runs that the benchmark does not ask for), waited for until it
answers, and stopped afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]
QUIET = ["--checkpoint-interval", "0", "--evidence-interval", "0", "--sweep-interval", "0"]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(data_dir: Path, tlog_public: bool) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The server of the facility in ``data_dir`` (SQLite there), its tile read API public or
    not: (the process, its base URL). SystemExit when it does not answer within a minute."""
    port = free_port()
    env = {**os.environ, "TRIAGE_DATA_DIR": str(data_dir)}
    env.pop("TRIAGE_DATABASE_URL", None)
    env["TRIAGE_TLOG_PUBLIC"] = "1" if tlog_public else "0"
    proc = subprocess.Popen(
        [*TRIAGE, "serve", "--port", str(port), *QUIET],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield proc, base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
