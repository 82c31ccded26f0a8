"""Counting how many times each route is asked whether a request is its own (issue 22: finding
a request's route, and its body limit, was a cost of every request). Counted, not timed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How many times each route (by id) was asked whether a request is its own (an
    ``APIRoute`` asking its ``Route`` part counts once)."""
    counts: Counter[int] = Counter()
    inside: set[int] = set()
    for cls in (APIRoute, Route):

        def counting(self: BaseRoute, scope: Any, original: Any = cls.matches) -> Any:
            if id(self) in inside:
                return original(self, scope)
            counts[id(self)] += 1
            inside.add(id(self))
            try:
                return original(self, scope)
            finally:
                inside.discard(id(self))

        monkeypatch.setattr(cls, "matches", counting)
    return counts
