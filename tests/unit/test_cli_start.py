"""What a `triage` command loads at start (issue 22): a command that needs no database, no
server, no PDF and no network starts without importing their libraries, so a person does not
wait for them at every step. Each case runs the command in a fresh interpreter, as a person
does, and looks at what it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.entrypoints.cli import COMMANDS
from triage.ledger import note
from triage.ledger.entry import Entry, Ref
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.receipt import build_receipt

# The libraries (and the parts of the product) only the database, the server, the documents
# or the network need.
BACKEND = [
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "reportlab",
    "openpyxl",
    "httpx",
    "triage.bootstrap",
    "triage.adapters.unit_of_work",
    "triage.entrypoints.schemas",
]
# Typer itself brings pydantic (it checks parameters with it) once a command is built, so only
# the bare `triage --help`, which builds none, goes without it; nor does it need the services,
# the settings or the signatures (cryptography).
BARE_HELP = [*BACKEND, "pydantic", "cryptography", "triage.services", "triage.config"]

PROBE = """
import json, sys
sys.argv = ["triage", *json.loads(sys.argv[1])]
from triage.entrypoints.cli import main
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code or 0
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _start(args: list[str]) -> tuple[int, set[str], str]:
    """Run `triage ARGS` in a fresh interpreter: its exit code, the modules it imported (a
    package counts when any of its modules was imported) and its output."""
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True
    )
    assert ran.stdout.strip(), ran.stderr
    *output, last = ran.stdout.rstrip("\n").split("\n")
    found = json.loads(last)
    loaded = set(found["modules"])
    loaded |= {name.rsplit(".", n)[0] for name in found["modules"] for n in range(1, 4)}
    return found["code"], loaded, "\n".join(output) + ran.stderr


def _heavy(loaded: set[str], heavy: list[str]) -> list[str]:
    return [name for name in heavy if name in loaded]


def test_the_bare_help_loads_no_backend_nor_pydantic() -> None:
    code, loaded, output = _start(["--help"])
    assert code == 0 and "witness" in output
    assert _heavy(loaded, BARE_HELP) == []


@pytest.mark.parametrize("group", sorted(COMMANDS))
def test_a_groups_help_loads_no_backend_nor_services(group: str) -> None:
    code, loaded, output = _start([group, "--help"])
    assert code == 0 and "Usage" in output, output
    # Options that show a default (`triage ledger witnesses set --attempts`, `triage seals
    # report unused --days`) take it from the domain, not from the service that uses it.
    assert _heavy(loaded, [*BACKEND, "triage.services"]) == []


def test_verifying_a_receipt_offline_loads_no_backend(tmp_path: Path) -> None:
    origin = "triage.example/ledger"
    signer, verifier = note.generate_key(origin)
    log = Log(MemoryLogStorage())
    device = Ref("device", "BC-33-AC-FF-FE-FA-55-3D")
    entry = Entry(
        type="device.received",
        at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        actor=Ref("operator", "alice"),
        facility="triage.example",
        subject=device,
        data={"step": 0},
    )
    log.append([entry.to_bytes()])
    receipt = tmp_path / "receipt.json"
    receipt.write_text(
        build_receipt(log, origin, device, [0], log.issue_checkpoint(origin, signer))
    )
    code, loaded, output = _start(["verify", str(receipt), "--key", verifier])
    assert code == 0, output
    assert _heavy(loaded, [*BACKEND, "triage.services"]) == []


def test_making_keys_loads_no_backend_nor_http(tmp_path: Path) -> None:
    """A witness's key and a bench tool's key are made offline."""
    code, loaded, output = _start(
        ["witness", "keygen", "witness.example/w1", "--dir", str(tmp_path / "w")]
    )
    assert code == 0, output
    assert _heavy(loaded, [*BACKEND, "triage.services"]) == []
    tool_key = tmp_path / "tool.key"
    code, loaded, output = _start(
        ["agent", "keygen", "--tool-id", "BENCH-1", "--out", str(tool_key)]
    )
    assert code == 0 and tool_key.exists(), output
    assert _heavy(loaded, [*BACKEND, "triage.services"]) == []


def test_a_database_command_loads_no_server_pdf_nor_http(tmp_path: Path) -> None:
    """`triage keys show` opens the installation (SQLAlchemy, the ledger's store) and loads
    nothing of the server, the PDF documents, the spreadsheets or HTTP."""
    data_dir = str(tmp_path / "var")
    code, _, output = _start(["init", "--data-dir", data_dir])
    assert code == 0, output
    code, loaded, output = _start(["keys", "show", "--data-dir", data_dir])
    assert code == 0 and output.startswith("device-triage.local/demo+"), output
    assert "sqlalchemy" in loaded and "triage.bootstrap" in loaded  # it opened the database
    server_pdf_http = ["fastapi", "starlette", "uvicorn", "reportlab", "openpyxl", "httpx"]
    assert _heavy(loaded, server_pdf_http) == []
    # Nor the parts of the product it does not use: the repositories, the projector and the
    # domain they read and write load when a command first uses them (a fifth of a database
    # command's start, and most of the test suite's time is such starts).
    unused = [name for name in loaded if name.endswith("_repository")]
    unused += _heavy(loaded, ["triage.adapters.projector", "triage.domain.assurance_records"])
    assert unused == []
