"""Every use-case test gets a fresh fake unit-of-work factory (see tests/unit/fakes.py)."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory


@pytest.fixture
def factory() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()
