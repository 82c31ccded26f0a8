"""What finding a request's route costs (issue 22): each route is asked once.

FastAPI (0.165) keeps an included router as a router of its own: a request was matched against
the routes of every router before its own, and then against its own router's routes a second
time, each try through several layers of scope bookkeeping; and a 405 asked every route six
times more (once for each method it might allow), about 2,200 tries for one unauthenticated
request. The application now holds the routes themselves, in the same order, and a 405 asks
each route once for its methods. Counted, not timed: how many times each route is asked
whether a request is its own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from tests.routes import asked
from triage.bootstrap import App
from triage.entrypoints.asgi import create_app

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
__all__ = ["asked"]  # the fixture, used by name


def _in_order(routes: list[Any]) -> list[BaseRoute]:
    """The routes a request may be matched against, in order (those of an included router
    in its place)."""
    found: list[BaseRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found.extend(_in_order(included.routes) if included is not None else [route])
    return found


def test_a_request_asks_each_route_before_its_own_once(app: App, asked: Counter[int]) -> None:
    client = TestClient(create_app(app))
    routes = _in_order(client.app.router.routes)  # type: ignore[attr-defined]
    target = next(r for r in routes if getattr(r, "path", None) == "/api/v1/jobs/{job_id}")

    response = client.get("/api/v1/jobs/no-such-job")

    assert response.status_code == 401  # routed, then refused: no token
    assert asked[id(target)] == 1
    assert max(asked.values()) == 1
    assert set(asked) == {id(r) for r in routes[: routes.index(target) + 1]}


def test_a_405_asks_each_route_at_most_twice_and_names_every_method(
    app: App, asked: Counter[int]
) -> None:
    client = TestClient(create_app(app))

    response = client.request("PATCH", "/api/v1/assessments")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    # Once by the router, once for the methods the path allows.
    assert asked and max(asked.values()) <= 2


def test_a_405_on_a_path_of_one_route_names_its_method(app: App) -> None:
    client = TestClient(create_app(app))

    response = client.request("PATCH", "/api/v1/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
