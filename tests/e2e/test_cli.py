"""The `triage` command as an operator and an auditor use it."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys

from tests.e2e.conftest import Triage
from triage.ledger import checkpoint, rfc6962


def test_init_creates_a_private_key_and_never_overwrites_it(triage: Triage) -> None:
    first = json.loads(triage.run("init", "--json").stdout)
    key_file = triage.data_dir / "keys" / "facility.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((triage.data_dir / "keys").stat().st_mode) == 0o700
    secret = key_file.read_text()
    assert secret.startswith("PRIVATE+KEY+device-triage.local/demo+")
    second = json.loads(triage.run("init", "--json").stdout)
    assert key_file.read_text() == secret
    assert second["verifier_key"] == first["verifier_key"]
    assert (first["key_created"], second["key_created"]) == (True, False)
    assert triage.run("keys", "show").stdout.strip() == first["verifier_key"]
    assert "PRIVATE" not in triage.run("keys", "show").stdout


def _admin_token(triage: Triage) -> str:
    """The first administrator (entries 1 to 7: added with an activation code, activated,
    enrolled, signed in, their token, signed out) and their token, in $TRIAGE_TOKEN."""
    token = triage.first_admin("ada")
    triage.env["TRIAGE_TOKEN"] = token
    return token


def test_checkpoint_and_proofs_verify_offline(triage: Triage) -> None:
    vkey = json.loads(triage.run("init", "--json").stdout)["verifier_key"]
    _admin_token(triage)
    signed = json.loads(triage.run("ledger", "checkpoint", "--json").stdout)["checkpoint"]
    body = checkpoint.open_checkpoint(signed, [vkey], "device-triage.local/demo")
    proof = json.loads(triage.run("ledger", "prove", "--index", "0").stdout)
    rfc6962.verify_inclusion(
        base64.b64decode(proof["leaf_hash"]),
        proof["index"],
        proof["size"],
        [base64.b64decode(h) for h in proof["proof"]],
        body.root_hash,
    )
    consistency = json.loads(triage.run("ledger", "consistency", "--from", "8").stdout)
    assert consistency["proof"] == []
    result = triage.run("ledger", "verify")
    assert result.stdout.startswith("ok: 8 entries, 1 checkpoints verified")


def test_errors_are_clear_and_exit_non_zero(triage: Triage) -> None:
    missing = triage.run("ledger", "verify", check=False)
    assert missing.returncode == 2
    assert "run 'triage init'" in missing.stderr
    triage.run("init")
    anonymous = triage.run("ledger", "verify", check=False)
    assert anonymous.returncode == 2
    assert "needs your API token" in anonymous.stderr
    _admin_token(triage)
    beyond = triage.run("ledger", "prove", "--index", "9", check=False)
    assert beyond.returncode == 2
    assert "index 9 is not in a tree of size 8" in beyond.stderr
    key_file = triage.data_dir / "keys" / "facility.key"
    key_file.chmod(0o644)
    exposed = triage.run("ledger", "checkpoint", check=False)
    assert exposed.returncode == 2
    assert "chmod 600" in exposed.stderr
    bad_id = triage.run(
        "init", "--facility-id", "Bad Id", "--data-dir", str(triage.data_dir / "x"), check=False
    )
    assert bad_id.returncode == 2
    assert "facility id 'Bad Id'" in bad_id.stderr


HELP_PROBE = """
import sys
from triage.entrypoints.cli import app
for args in (["--help"], ["ledger", "--help"], ["device", "seal", "--help"], ["backup", "--help"]):
    try:
        app(args)
    except SystemExit:
        pass
heavy = ("triage.bootstrap", "triage.adapters", "sqlalchemy", "fastapi", "reportlab")
print(sorted(name for name in heavy if name in sys.modules), file=sys.stderr)
"""


def test_help_starts_without_the_database_web_or_pdf_libraries() -> None:
    """`triage --help` answers at once: nothing of the database, web or PDF stack is loaded
    until a command runs."""
    probe = subprocess.run(
        [sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Usage:" in probe.stdout
    assert probe.stderr.strip().splitlines()[-1] == "[]"
