"""How the API learns who an operator is, and what that costs a request (issue 22).

A route that requires a permission and whose endpoint asks for the operator used to be solved
by FastAPI as a tree of four dependencies on every request (the permission's check, the
operator, the bearer scheme, the cookie scheme), each one's cache key rebuilt and its
parameters solved again. One dependency now reads the header and the cookie itself and keeps
the operator in the request's scope for the others. Counted, not timed; and what a caller and
the OpenAPI document see is unchanged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi import routing as fastapi_routing
from fastapi.dependencies import utils as dependency_utils
from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed
from tests.people import enrol
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.services import tokens

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

GUARDED = "/api/v1/facility/settings"  # requires triage:read, and its endpoint asks who


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many dependency trees FastAPI solved, and how many tokens were checked."""
    counts: Counter[str] = Counter()
    solve = dependency_utils.solve_dependencies

    async def solving(*args: Any, **kwargs: Any) -> Any:
        counts["solved"] += 1
        return await solve(*args, **kwargs)

    check = tokens.authenticate_token

    def checking(*args: Any, **kwargs: Any) -> Any:
        counts["tokens"] += 1
        return check(*args, **kwargs)

    # FastAPI's request handler imported it by name; it calls itself by its module's name.
    monkeypatch.setattr(dependency_utils, "solve_dependencies", solving)
    monkeypatch.setattr(fastapi_routing, "solve_dependencies", solving)
    monkeypatch.setattr(tokens, "authenticate_token", checking)
    return counts


def test_a_guarded_request_is_authenticated_once_with_one_level_of_dependencies(
    staffed: Staffed, counted: Counter[str]
) -> None:
    sup = enrol(staffed.app, staffed.admin, "sup")
    client = TestClient(create_app(staffed.app))

    response = client.get(GUARDED, headers={"Authorization": f"Bearer {sup.token}"})

    assert response.status_code == 200, response.text
    assert counted["tokens"] == 1
    # The route's own tree, the permission's check and the endpoint's operator: nothing under
    # them (before: the bearer and the cookie schemes under the operator, under the check).
    assert counted["solved"] == 3


def test_the_permission_is_still_checked_before_anything_else(staffed: Staffed) -> None:
    auditor = enrol(staffed.app, staffed.admin, "ann", [Role.AUDITOR])
    client = TestClient(create_app(staffed.app))
    headers = {"Authorization": f"Bearer {auditor.token}"}

    # A body that would not validate: the caller without the permission learns only that.
    refused = client.post("/api/v1/devices/scan", headers=headers, json={"device_id": 5})

    assert refused.status_code == 403, refused.text
    assert "may not device.scan" in refused.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Basic c3VwOnB3", "Bearer", "Bearer ", "Token {token}", "{token}", "Bearer wrong-{token}"],
)
def test_anything_but_a_bearer_token_of_the_facility_is_refused(
    staffed: Staffed, authorization: str
) -> None:
    sup = enrol(staffed.app, staffed.admin, "sup")
    client = TestClient(create_app(staffed.app))

    response = client.get(GUARDED, headers={"Authorization": authorization.format(token=sup.token)})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["title"] == "Unauthenticated"


def test_the_scheme_is_not_case_sensitive(staffed: Staffed) -> None:
    sup = enrol(staffed.app, staffed.admin, "sup")
    client = TestClient(create_app(staffed.app))

    response = client.get(GUARDED, headers={"Authorization": f"bearer  {sup.token} "})

    assert response.status_code == 200, response.text


def test_the_openapi_document_names_both_ways_in_for_exactly_the_operator_operations(
    staffed: Staffed,
) -> None:
    spec = TestClient(create_app(staffed.app)).get("/api/v1/openapi.json").json()

    assert spec["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An operator's API token.",
        },
        "APIKeyCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "triage_session",
            "description": (
                "A web session (from POST /api/v1/auth/login); changes need X-CSRF-Token."
            ),
        },
    }
    either: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {"APIKeyCookie": []}]
    kinds: Counter[str] = Counter()
    for methods in spec["paths"].values():
        for operation in methods.values():
            access = operation["x-access"]
            kind = access if access in ("tool", "public") else "operator"
            kinds[kind] += 1
            assert operation.get("security") == (either if kind == "operator" else None), operation[
                "operationId"
            ]
    assert kinds["operator"] > 150 and kinds["tool"] and kinds["public"]
