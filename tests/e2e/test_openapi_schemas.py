"""Every operation the API publishes says what it answers: a JSON schema for a JSON answer, or
the media type of the file it sends. A new route that returns an untyped dict fails here."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from triage import bootstrap
from triage.entrypoints.asgi import create_app

METHODS = ("get", "put", "post", "delete", "patch")


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _untyped(spec: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """A schema that says nothing: missing, empty, or an object with no properties."""
    if not schema:
        return True
    found = _resolve(spec, schema)
    if found.get("type") == "object" and "properties" not in found:
        return "additionalProperties" not in found and "description" not in found
    return not (set(found) & {"type", "anyOf", "oneOf", "allOf", "enum", "properties"})


def _problems(spec: dict[str, Any]) -> list[str]:
    problems = []
    for path, methods in spec["paths"].items():
        for method in METHODS:
            operation = methods.get(method)
            if operation is None:
                continue
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content", {})
                if not content:
                    problems.append(f"{method.upper()} {path} {status}: no content declared")
                for media, body in content.items():
                    if media == "application/json" and _untyped(spec, body.get("schema")):
                        problems.append(f"{method.upper()} {path} {status}: {media} has no schema")
    return problems


def test_every_operation_declares_what_it_answers(app: bootstrap.App) -> None:
    with TestClient(create_app(app)) as client:
        spec = client.get("/api/v1/openapi.json").json()
    assert len(spec["paths"]) > 50
    assert _problems(spec) == []


def test_a_route_without_a_response_model_is_named() -> None:
    spec: dict[str, Any] = {
        "paths": {
            "/api/v1/things": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {}}}},
                        "422": {"content": {"application/problem+json": {}}},
                    }
                }
            },
            "/api/v1/files": {"get": {"responses": {"200": {"content": {"application/pdf": {}}}}}},
        }
    }
    assert _problems(spec) == ["GET /api/v1/things 200: application/json has no schema"]
