"""A real `triage witness serve` process on a loopback port: it cosigns a log's consistent
checkpoints, refuses a rollback, a fork and a rewritten history without storing anything, keeps
its state across a restart, and of eight racing requests from the same old size cosigns one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.unit.witness.logs import SignedLog
from tests.witnesses import serve_witness
from triage.ledger import note
from triage.ledger.checkpoint import parse_checkpoint
from triage.ledger.cosignature import verify_cosignatures
from triage.ledger.witness_protocol import SIZE_CONTENT_TYPE, origin_hash

TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]


def _triage(*args: str) -> str:
    done = subprocess.run(
        [*TRIAGE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "TRIAGE_WITNESS_DIR"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A witness server process and a client of it."""

    directory: Path
    proc: subprocess.Popen[str]
    client: httpx.Client
    url: str

    def add(self, body: bytes) -> httpx.Response:
        return self.client.post("/add-checkpoint", content=body)

    def stop(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _serve(directory: Path) -> Served:
    proc, url = serve_witness(directory)
    return Served(directory, proc, httpx.Client(base_url=url, timeout=30), url)


@dataclass
class Setup:
    directory: Path
    vkey: str
    log: SignedLog


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    directory = tmp_path / "witness"
    vkey = _triage("witness", "keygen", "owner.example/w1", "--dir", str(directory)).strip()
    log = SignedLog("facility.example/log").grow(10)
    _triage("witness", "log", "add", log.origin, log.vkey, "--dir", str(directory))
    return Setup(directory, vkey, log)


@pytest.fixture
def served(setup: Setup) -> Iterator[Served]:
    server = _serve(setup.directory)
    try:
        yield server
    finally:
        server.stop()


def _served_checkpoint(served: Served, setup: Setup) -> str:
    answer = served.client.get(f"/{origin_hash(setup.log.origin)}/checkpoint")
    assert answer.status_code == 200, answer.text
    return answer.text


def _cosigned_size(served: Served, setup: Setup) -> int:
    text = note.verify(_served_checkpoint(served, setup), [setup.log.vkey])
    return parse_checkpoint(text).size


def test_cosigns_refuses_misbehaviour_and_keeps_its_state_across_a_restart(
    setup: Setup, served: Served
) -> None:
    log = setup.log
    first = served.add(log.request(0))
    assert first.status_code == 200, first.text
    verify_cosignatures(log.checkpoint(10) + first.text, [setup.vkey])
    log.grow(10)
    second = served.add(log.request(10))
    assert second.status_code == 200, second.text
    _, [cosig] = verify_cosignatures(log.checkpoint(20) + second.text, [setup.vkey])
    state = _served_checkpoint(served, setup)
    assert state.endswith(cosig.line) and _cosigned_size(served, setup) == 20

    # A rollback: the log signs its earlier size 15 and presents it after 20.
    rollback = served.add(log.request(20, size=15, proof=()))
    assert rollback.status_code == 400 and "ROLLBACK" in rollback.text
    # A fork: another history of the same size under the same key.
    fork = SignedLog(log.origin, log.signer).grow(20, tag="forked")
    answer = served.add(fork.request(20))
    assert answer.status_code == 422 and "FORK" in answer.text
    # A rewritten history: a bigger tree whose own proof does not lead from the cosigned one.
    rewritten = SignedLog(log.origin, log.signer).grow(30, tag="rewritten")
    answer = served.add(rewritten.request(20))
    assert answer.status_code == 422 and "does not verify" in answer.text
    # Someone without the state: told the size to start from.
    stale = served.add(log.request(0))
    assert stale.status_code == 409
    assert stale.headers["content-type"] == SIZE_CONTENT_TYPE and stale.content == b"20\n"

    assert _served_checkpoint(served, setup) == state  # nothing refused was stored

    served.stop()
    restarted = _serve(setup.directory)
    try:
        assert _served_checkpoint(restarted, setup) == state
        again = restarted.add(rewritten.request(20))
        assert again.status_code == 422
        log.grow(5)
        assert restarted.add(log.request(20)).status_code == 200
        assert _cosigned_size(restarted, setup) == 25
    finally:
        restarted.stop()

    status = _triage("witness", "status", "--dir", str(setup.directory))
    assert f"{log.origin}: cosigned size 25" in status and "5 refusal(s) kept" in status


def test_of_eight_racing_requests_from_the_same_old_size_exactly_one_is_cosigned(
    setup: Setup, served: Served
) -> None:
    log = setup.log
    assert served.add(log.request(0)).status_code == 200
    log.grow(8)
    bodies = {size: log.request(10, size=size) for size in range(11, 19)}
    barrier = threading.Barrier(len(bodies))
    answers: dict[int, httpx.Response] = {}

    def submit(size: int) -> None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            barrier.wait()
            answers[size] = client.post("/add-checkpoint", content=bodies[size])

    threads = [threading.Thread(target=submit, args=(size,)) for size in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [200] + [409] * 7, {s: a.text for s, a in answers.items()}
    [winner] = [size for size, answer in answers.items() if answer.status_code == 200]
    assert _cosigned_size(served, setup) == winner
    assert {a.content for a in answers.values() if a.status_code == 409} == {f"{winner}\n".encode()}
    verify_cosignatures(log.checkpoint(winner) + answers[winner].text, [setup.vkey])
