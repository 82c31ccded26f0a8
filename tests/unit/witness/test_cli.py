"""`triage witness keygen | log add/list/remove | status`: on the witness's own directory."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from tests.unit.witness.logs import SignedLog
from triage.entrypoints.cli.witness import app
from triage.ledger.cosignature import parse_cosigner_key
from triage.witness.keys import KEY_FILE, load_key
from triage.witness.service import Witness
from triage.witness.store import WitnessStore

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env, terminal_width=200)
    return result.exit_code, result.output


def test_keygen_prints_the_vkey_and_never_overwrites(tmp_path: Path) -> None:
    directory = tmp_path / "w"
    code, out = _run("keygen", "witness.example/w1", "--dir", str(directory))
    assert code == 0, out
    assert parse_cosigner_key(out.strip()).name == "witness.example/w1"
    assert stat.S_IMODE((directory / KEY_FILE).stat().st_mode) == 0o600
    code, out = _run("keygen", "witness.example/w2", "--dir", str(directory))
    assert code == 2 and "already exists" in out
    assert load_key(directory).name == "witness.example/w1"


def test_the_directory_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"TRIAGE_WITNESS_DIR": str(tmp_path / "from-env")}
    code, out = _run("keygen", "w1", "--json", env=env)
    assert code == 0, out
    assert json.loads(out)["directory"] == str(tmp_path / "from-env")
    assert (tmp_path / "from-env" / KEY_FILE).exists()


def test_logs_are_added_listed_and_removed(tmp_path: Path) -> None:
    log = SignedLog()
    d = ["--dir", str(tmp_path)]
    assert _run("log", "add", log.origin, log.vkey, *d) == (0, f"following {log.origin}\n")
    code, out = _run("log", "add", log.origin, log.vkey, *d)
    assert code == 0 and "already following" in out
    code, out = _run("log", "list", *d, "--json")
    assert [entry["vkey"] for entry in json.loads(out)["logs"]] == [log.vkey]
    assert _run("log", "remove", log.origin, *d) == (0, f"no longer following {log.origin}\n")
    code, out = _run("log", "remove", log.origin, *d)
    assert code == 2 and "does not follow origin" in out
    assert "following no log" in _run("log", "list", *d)[1]


def test_a_key_named_otherwise_than_the_origin_is_followed_with_a_warning(tmp_path: Path) -> None:
    log = SignedLog("facility.example/log")
    code, out = _run("log", "add", "other.example/log", log.vkey, "--dir", str(tmp_path))
    assert code == 0 and "warning" in out and "'facility.example/log'" in out


def test_a_bad_log_key_is_refused(tmp_path: Path) -> None:
    code, out = _run("log", "add", "x.example/log", "not-a-key", "--dir", str(tmp_path))
    assert code == 2 and "log verifier key" in out


def test_status_shows_the_cosigned_size_and_the_refusals(tmp_path: Path) -> None:
    d = ["--dir", str(tmp_path)]
    assert _run("keygen", "witness.example/w1", *d)[0] == 0
    log = SignedLog().grow(7)
    assert _run("log", "add", log.origin, log.vkey, *d)[0] == 0
    witness = Witness(load_key(tmp_path), WitnessStore(tmp_path))
    assert witness.add_checkpoint(log.request(0)).status == 200
    fork = SignedLog(log.origin, log.signer).grow(7, tag="forged")
    assert witness.add_checkpoint(fork.request(7)).status == 422

    code, out = _run("status", *d, "--json")
    assert code == 0, out
    status = json.loads(out)
    assert status["name"] == "witness.example/w1"
    [followed] = status["logs"]
    assert followed["origin"] == log.origin and followed["following"]
    assert followed["cosigned"]["size"] == 7 and followed["refusals"] == 1
    [refusal] = status["refusals"]
    assert refusal["status"] == 422 and "FORK" in refusal["reason"]
    assert refusal["request"].startswith("old 7\n")

    code, out = _run("status", *d)
    assert f"{log.origin}: cosigned size 7 at " in out and "1 refusal(s) kept" in out
    assert "422: FORK" in out


def test_status_needs_the_witness_key(tmp_path: Path) -> None:
    code, out = _run("status", "--dir", str(tmp_path))
    assert code == 2 and "no witness key" in out
