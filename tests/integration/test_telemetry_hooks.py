"""FastAPI's OpenTelemetry hooks (issue 22): consulted on every request only where the process
is configured for OpenTelemetry. Without a provider FastAPI sends nothing, yet it asked
OpenTelemetry's global providers on each request whether one had been set since. Counted, not
timed."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace

from triage.bootstrap import App
from triage.entrypoints.asgi import create_app, telemetry

SQLITE = pytest.mark.parametrize("backend", ["sqlite"])


def _providers_asked(app: App, monkeypatch: pytest.MonkeyPatch) -> int:
    client = TestClient(create_app(app))
    asked = 0
    ask = trace.get_tracer_provider

    def counting() -> trace.TracerProvider:
        nonlocal asked
        asked += 1
        return ask()

    monkeypatch.setattr(trace, "get_tracer_provider", counting)
    for _ in range(3):
        assert client.get("/api/v1/health").status_code == 200
    return asked


@SQLITE
def test_without_opentelemetry_configured_no_request_asks_for_a_provider(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith(("OTEL_", "FASTAPI_OTEL_"))]:
        monkeypatch.delenv(name)

    assert _providers_asked(app, monkeypatch) == 0


@SQLITE
@pytest.mark.parametrize(
    "variable", ["OTEL_SERVICE_NAME", "OTEL_TRACES_EXPORTER", "FASTAPI_OTEL_AUTO_CONFIGURE"]
)
def test_configured_by_its_environment_fastapi_traces_each_request(
    app: App, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "true" if variable.startswith("FASTAPI") else "triage")

    assert _providers_asked(app, monkeypatch) >= 3


def test_the_settings_name_every_signal_off_or_keep_fastapis_defaults() -> None:
    assert telemetry({}) == {"tracing": False, "metrics": False, "logs": False}
    assert telemetry({"PATH": "/usr/bin", "OTELLO": "not ours"}) is not None
    assert telemetry({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}) is None
