"""Every use case and query function of the services is called by at least one
fake-unit-of-work test in this folder: a new use case without one fails here.

A use case is a public function of a service module that something outside the services calls
(an entrypoint, the bootstrap, a benchmark). Public functions only other services call (shared
helpers such as ``common.make_entry`` or ``anomaly.after_refusal``) are tested through the use
cases that call them."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import triage.services
import triage.services.views

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
# The ports are protocols, faked rather than tested.
NOT_USE_CASES = {"triage.services.ports"}
SRC = ROOT / "src" / "triage"
OUTSIDE_THE_SERVICES = [
    *(path for path in sorted(SRC.rglob("*.py")) if SRC / "services" not in path.parents),
    *sorted((ROOT / "bench").rglob("*.py")),
]


def _public_functions() -> set[tuple[str, str]]:
    found = set()
    for package in (triage.services, triage.services.views):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            if info.ispkg or info.name in NOT_USE_CASES:
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if (
                    inspect.isfunction(value)
                    and not name.startswith("_")
                    and value.__module__ == info.name
                ):
                    found.add((info.name, name))
    return found


def _reached_from(paths: list[Path]) -> set[tuple[str, str]]:
    """(module, function) pairs the code in ``paths`` reaches: ``module.function`` through an
    imported module, or a function imported by name."""
    reached = set()
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    local = alias.asname or alias.name
                    if candidate.startswith("triage.services") and _is_module(candidate):
                        modules[local] = candidate
                    elif node.module.startswith("triage.services"):
                        reached.add((node.module, alias.name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("triage.services") and alias.asname:
                        modules[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                reached.add((modules[node.value.id], node.attr))
    return reached


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def test_every_use_case_has_a_fake_unit_of_work_test() -> None:
    use_cases = _public_functions() & _reached_from(OUTSIDE_THE_SERVICES)
    assert len(use_cases) > 150  # the walks found the services and their callers
    tests = _reached_from(sorted(HERE.glob("test_*.py")))
    untested = sorted(f"{m}.{f}" for m, f in use_cases - tests)
    assert untested == []
