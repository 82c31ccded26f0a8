"""The witness's HTTP interface: the spec's paths, status codes and content types, and its
bounded inputs (the protocol has no authentication)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.unit.witness.logs import SignedLog
from triage.ledger import note
from triage.ledger.cosignature import verify_cosignatures
from triage.ledger.witness_protocol import origin_hash
from triage.witness import store as store_module
from triage.witness.app import create_app
from triage.witness.errors import WitnessKeyError
from triage.witness.keys import generate_key
from triage.witness.service import MAX_REQUEST_BYTES, follow_log
from triage.witness.store import WitnessStore


@pytest.fixture
def log() -> SignedLog:
    return SignedLog().grow(12)


@pytest.fixture
def client(tmp_path: Path, log: SignedLog) -> Iterator[TestClient]:
    generate_key(tmp_path, "witness.example/w1")
    follow_log(WitnessStore(tmp_path), log.origin, log.vkey, datetime.now(UTC))
    with TestClient(create_app(tmp_path)) as client:
        yield client


def test_the_root_says_what_it_is_and_its_key(client: TestClient, tmp_path: Path) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    assert "tlog-witness" in answer.text and "witness.example/w1+" in answer.text


def test_add_checkpoint_then_the_monitoring_read(client: TestClient, log: SignedLog) -> None:
    path = f"/{origin_hash(log.origin)}/checkpoint"
    assert client.get(path).status_code == 404
    answer = client.post("/add-checkpoint", content=log.request(0))
    assert answer.status_code == 200 and answer.text.startswith("— witness.example/w1 ")
    served = client.get(path)
    assert served.status_code == 200
    note.verify(served.text, [log.vkey])
    cosigner = client.get("/").text.rsplit(" ", 1)[1].strip()
    assert verify_cosignatures(served.text, [cosigner])[1][0].line == answer.text


def test_a_conflict_is_409_with_the_size_as_text_x_tlog_size(
    client: TestClient, log: SignedLog
) -> None:
    assert client.post("/add-checkpoint", content=log.request(0)).status_code == 200
    answer = client.post("/add-checkpoint", content=log.request(3))
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "text/x.tlog.size"
    assert answer.content == b"12\n"


def test_errors_are_plain_text_saying_what_is_wrong(client: TestClient) -> None:
    answer = client.post("/add-checkpoint", content=b"hello")
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert "malformed add-checkpoint request" in answer.text


def test_a_body_over_64_kib_is_413_declared_or_streamed(client: TestClient) -> None:
    big = b"old 0\n" + b"A" * MAX_REQUEST_BYTES
    assert client.post("/add-checkpoint", content=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds as it is read
        for _ in range(3):
            yield b"B" * (MAX_REQUEST_BYTES // 2)

    answer = client.post("/add-checkpoint", content=chunks())
    assert answer.status_code == 413
    assert f"request body over {MAX_REQUEST_BYTES} bytes" in answer.text


def test_only_the_spec_methods_are_answered(client: TestClient, log: SignedLog) -> None:
    assert client.get("/add-checkpoint").status_code == 405
    assert client.post(f"/{origin_hash(log.origin)}/checkpoint").status_code == 405


def test_the_server_does_not_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(WitnessKeyError, match="no witness key"):
        create_app(tmp_path)


def test_a_database_locked_too_long_is_503_and_nothing_is_cosigned(
    client: TestClient, log: SignedLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "_BUSY_TIMEOUT_SECONDS", 0.05)
    with closing(sqlite3.connect(tmp_path / store_module.DB_FILE, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        answer = client.post("/add-checkpoint", content=log.request(0))
        db.execute("ROLLBACK")
    assert answer.status_code == 503 and "try again" in answer.text
    assert answer.headers["retry-after"] == "1"
    assert client.get(f"/{origin_hash(log.origin)}/checkpoint").status_code == 404
