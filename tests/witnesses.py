"""A witness for the tests: `triage witness serve` of a directory, on a free loopback port."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import TRIAGE, free_port


def serve_witness(directory: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the witness of ``directory`` (its key made already) and wait until it answers;
    (the process, its URL). The caller stops the process."""
    port = free_port()
    proc = subprocess.Popen(
        [*TRIAGE, "witness", "serve", "--dir", str(directory), "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the witness did not start: {proc.communicate()[1]}")
        time.sleep(0.1)
