"""Hostile input through the real `triage` command and a real `triage serve`: endless files,
lone surrogates and JSON nested too deep are refused at once with a message naming the problem,
never read to the end, never a traceback, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Triage, start_server, stop
from tests.unit.fuzz.strategies import FACILITY_VERIFIER, LEDGER_EXPORT, RECEIPT


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    triage = Triage(tmp_path_factory.mktemp("limits") / "var")
    triage.run("init")
    server, http = start_server(triage, "--checkpoint-interval", "0")
    try:
        yield http
    finally:
        http.close()
        stop(server)


def _output(result: object) -> str:
    return f"{getattr(result, 'stdout', '')}{getattr(result, 'stderr', '')}"


def test_verify_of_endless_input_is_refused_at_once(triage: Triage) -> None:
    result = triage.run("verify", "/dev/zero", "--key", FACILITY_VERIFIER, check=False)
    assert result.returncode == 1, _output(result)
    assert "FAILED: receipt: larger than 16 MiB" in result.stdout
    assert "Traceback" not in _output(result)


def test_verify_of_an_export_with_an_endless_kept_checkpoint_is_refused(
    triage: Triage, tmp_path: Path
) -> None:
    export = tmp_path / "ledger.jsonl"
    export.write_bytes(LEDGER_EXPORT)
    args = ("verify", str(export), "--key", FACILITY_VERIFIER)
    assert triage.run(*args).returncode == 0  # the export itself is good
    result = triage.run(*args, "--checkpoint", "/dev/zero", check=False)
    assert result.returncode == 1, _output(result)
    assert "/dev/zero: larger than 64 KiB: not a signed checkpoint" in result.stdout
    assert "Traceback" not in _output(result)


def test_verify_names_the_receipt_entry_holding_a_lone_surrogate(
    triage: Triage, tmp_path: Path
) -> None:
    receipt = json.loads(RECEIPT)
    receipt["entries"][3]["entry"] = receipt["entries"][3]["entry"].replace("ben", "b\ud800n")
    damaged = tmp_path / "receipt.json"
    damaged.write_text(json.dumps(receipt), encoding="ascii")  # \ud800, as JSON writes it
    result = triage.run("verify", str(damaged), "--key", FACILITY_VERIFIER, "--json", check=False)
    assert result.returncode == 1, _output(result)
    error = json.loads(result.stdout)["error"]
    assert error.startswith("receipt: not valid UTF-8 text at entries[3].entry")
    assert "Traceback" not in _output(result)


@pytest.mark.parametrize("levels", [33, 900, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/jobs/J-1/inspection"])
def test_a_json_body_nested_too_deep_is_a_422_naming_where(
    client: httpx.Client, path: str, levels: int
) -> None:
    body = '{"operator_id": ' + "[" * levels + "]" * levels + "}"
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == ("body: nested deeper than 32 levels at line 1, column 48")


def test_a_lone_surrogate_in_a_json_body_is_a_422_naming_the_field(
    client: httpx.Client,
) -> None:
    body = '{"operator_id": "ad\\ud800min", "password": "x", "second_factor": "123456"}'
    response = client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("body: not valid UTF-8 text at operator_id")
