"""Dependencies point inward only (docs/architecture.md): every ``import`` in src/triage, read
from the source, is checked against what its layer may use."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "triage"

# What each layer may import from triage (its own layer included); a layer is the first part of
# the module's name under triage.
MAY_USE: dict[str, set[str]] = {
    "ledger": {"ledger"},
    "errors": {"ledger", "errors"},
    "domain": {"ledger", "errors", "domain"},
    "config": {"ledger", "errors", "domain", "config"},
    "services": {"ledger", "errors", "domain", "config", "services"},
    "adapters": {"ledger", "errors", "domain", "config", "services", "adapters"},
    "bootstrap": {"ledger", "errors", "domain", "config", "services", "adapters", "bootstrap"},
    "entrypoints": {"ledger", "errors", "domain", "config", "services", "bootstrap", "entrypoints"},
}
# GBCS decoding (triage.gbcs) is pure, like the ledger: every layer may use it.
MAY_USE["gbcs"] = set()
for _allowed in MAY_USE.values():
    _allowed.add("gbcs")
# DUIS messages (triage.duis, issue 20) read domain values; services and outer layers use them.
MAY_USE["duis"] = {"ledger", "errors", "domain", "duis", "gbcs"}
for _layer_name in ("services", "adapters", "bootstrap", "entrypoints"):
    MAY_USE[_layer_name].add("duis")
# The witness and the monitor (triage.witness, issue 21) are a program of their own, run apart
# from any facility: they speak the ledger's formats and nothing of the facility's layers; only
# the command line reaches them.
MAY_USE["witness"] = {"ledger", "witness", "gbcs"}
MAY_USE["entrypoints"].add("witness")
# Libraries that belong to one outer layer only.
ADAPTER_LIBRARIES = {"sqlalchemy", "alembic", "psycopg", "argon2", "pyotp", "reportlab", "trestle"}
# The bench agent is its own composition root: it builds its device connector itself.
AGENT = "entrypoints/agent.py"


def _layer(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _wrong_imports(path: Path, where: str, layer: str) -> list[str]:
    wrong = []
    for line, module in _imports(path):
        top, _, rest = module.partition(".")
        if top == "triage":
            used = rest.split(".")[0]
            allowed = MAY_USE[layer] | ({"adapters"} if where == AGENT else set())
            if used and used not in allowed:
                wrong.append(f"{where}:{line} ({layer}) imports {module}")
        elif top in ADAPTER_LIBRARIES and layer not in ("adapters", "bootstrap"):
            wrong.append(f"{where}:{line} ({layer}) imports {module}")
    return wrong


def test_every_import_points_inward() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        layer = _layer(path)
        if layer in MAY_USE:  # not triage/__init__.py
            wrong += _wrong_imports(path, path.relative_to(SRC).as_posix(), layer)
    assert wrong == []


def test_an_outward_import_is_reported(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sqlalchemy\nfrom triage.adapters.database import Database\n"
        "from triage.domain.job import TriageJob\n"
    )
    assert _wrong_imports(probe, "domain/probe.py", "domain") == [
        "domain/probe.py:1 (domain) imports sqlalchemy",
        "domain/probe.py:2 (domain) imports triage.adapters.database",
    ]
    assert _wrong_imports(probe, "services/probe.py", "services") == [
        "services/probe.py:1 (services) imports sqlalchemy",
        "services/probe.py:2 (services) imports triage.adapters.database",
    ]
    assert _wrong_imports(probe, "bootstrap.py", "bootstrap") == []
