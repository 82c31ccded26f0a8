"""A writer killed with SIGKILL at random moments loses nothing it acknowledged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from triage import bootstrap
from triage.services import ledger as ledger_service

KILLS = {"sqlite": 25, "postgresql": 10}


@pytest.mark.slow
def test_sigkilled_writer_loses_no_acknowledged_append(app: bootstrap.App, backend: str) -> None:
    rng = random.Random(9162)
    acked: set[int] = set()
    for round_number in range(KILLS[backend]):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.ledger_writer",
                "--url",
                app.settings.database_url,
                "--count",
                "100000",
                "--tag",
                f"r{round_number}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(rng.uniform(0.4, 1.2))  # start-up takes ~0.3 s; kill mid-stream
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        # A torn last line means the process died while printing: that append was not acked.
        acked.update(int(line.split()[1]) for line in out.splitlines() if line.count(" ") == 2)
        # Every kill leaves a log that verifies and that later writers extend without a gap.
        report = ledger_service.verify(
            app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
        )
        assert report.ok, (round_number, report.first_problem())
    with app.uow(write=False) as uow:
        stored = [
            index for batch in uow.ledger.storage.read_entries(0, 10**9) for index, _ in batch
        ]
    assert stored == list(range(len(stored))), "a gap appeared"
    assert acked <= set(stored), f"acknowledged but lost: {sorted(acked - set(stored))[:10]}"
    assert len(acked) > KILLS[backend], "the writer was killed before it could append anything"
