"""Hostile HTTP against a real `triage serve`: bodies too large are refused before they are read
(declared or streamed), file names never become paths, and every response carries the security
headers, whatever answered it (API, page, static file, error)."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.e2e.conftest import Triage, start_server, stop
from triage.entrypoints.api.hardening import Hardening
from triage.entrypoints.request_bodies import DEFAULT_BODY_LIMIT, MiB, body_limit

KiB = 1024


@dataclass
class Served:
    triage: Triage
    client: httpx.Client
    admin: str
    operator: str

    def ledger_size(self) -> int:
        response = self.client.get("/api/v1/ledger", headers=self.auth(self.admin))
        return int(response.json()["size"])

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    triage = Triage(tmp_path_factory.mktemp("hardening") / "var")
    triage.run("init")
    admin = triage.first_admin()
    operator = triage.staff(admin, "ben", "bench_operator", bench="B1")
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        yield Served(triage, client, admin, operator)
    finally:
        client.close()
        stop(server)


def _raw(served: Served, head: str, parts: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` and then ``parts`` on a socket of our own (so that the body can be cut
    short or left unfinished), and read the whole answer until the server closes."""
    url = urlsplit(str(served.client.base_url))
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        # At once, so that nothing sent arrives after the server has answered and closed (the
        # server's kernel would answer such late bytes with a reset, losing the answer).
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + b"".join(parts))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    headers = {}
    for line in header_block.decode().split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def _head(method: str, path: str, token: str, *extra: str) -> str:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        *extra,
    ]
    return "\n".join(lines) + "\n"


def test_a_body_declared_too_large_is_refused_before_any_of_it_is_read(served: Served) -> None:
    before = served.ledger_size()
    # Ten gigabytes declared, ten bytes sent: an answer at all means the server did not wait
    # for the rest (the socket would otherwise time out).
    status, headers, body = _raw(
        served,
        _head("POST", "/api/v1/devices/scan", served.operator, "Content-Length: 10000000000"),
        [b'{"device_'],
    )
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["status"] == 413 and "larger than 1 MiB" in problem["detail"]
    assert served.ledger_size() == before


def test_a_web_form_too_large_gets_a_page_that_says_so(served: Served) -> None:
    status, headers, body = _raw(
        served,
        "POST /login HTTP/1.1\nHost: 127.0.0.1\n"
        "Content-Type: application/x-www-form-urlencoded\nContent-Length: 10000000000\n",
        [b"operator_id="],
    )
    assert status == 413
    assert headers["content-type"].startswith("text/html")
    assert headers["content-security-policy"].startswith("default-src 'self'")
    page = body.decode()
    assert "<h1>Content too large</h1>" in page and "larger than 1 MiB" in page
    assert 'href="/static/app.css"' in page and 'href="/"' in page


def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit(served: Served) -> None:
    before = served.ledger_size()
    chunk = b"x" * (64 * KiB)
    # Exactly the limit, then one byte more, then no end: the byte past the limit is the last
    # one sent, so the server has read everything else when it answers.
    framed = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (DEFAULT_BODY_LIMIT // len(chunk))
    framed.append(b"1\r\nx\r\n")
    status, headers, body = _raw(
        served,
        _head("POST", "/api/v1/devices/scan", served.operator, "Transfer-Encoding: chunked"),
        framed,
    )
    # The final zero-length chunk was never sent: the answer came with the body unfinished.
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 413
    assert served.ledger_size() == before


def test_a_streamed_body_under_the_limit_is_read_as_usual(served: Served) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"device_id": '
        yield b'"BC-33-AC-FF-FE-FA-55-3D"}'

    response = served.client.post(
        "/api/v1/devices/scan",
        content=chunks(),
        headers={**served.auth(served.operator), "Content-Type": "application/json"},
    )
    # Read and understood: refused by the triage rules (no approval yet), not for its size.
    assert response.status_code not in (400, 413, 422), response.text
    assert response.json()["status"] == response.status_code


def test_upload_endpoints_take_files_larger_than_a_json_body(served: Served) -> None:
    content = b"%PDF-1.7\n" + b"0" * (2 * MiB)
    response = served.client.post(
        "/api/v1/assurance/evidence",
        params={"name": "penetration-test", "title": "Pen test 2026", "filename": "pen.pdf"},
        content=content,
        headers={**served.auth(served.admin), "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(content)
    # The bench photo form allows a 5 MiB photo: 2 MiB passes the size check and goes on to
    # the page, which sends someone not signed in to the login.
    # (The body is declared and never sent: the page does not read it before the sign-in.)
    status, headers, _ = _raw(
        served,
        "POST /bench/jobs/x/photo HTTP/1.1\nHost: 127.0.0.1\nContent-Type: multipart/form-data; "
        f"boundary=b\nContent-Length: {2 * MiB}\nConnection: close\n",
        [],
    )
    assert status == 303 and headers["location"].startswith("/login")
    status, _, _ = _raw(
        served,
        "POST /bench/jobs/x/photo HTTP/1.1\nHost: 127.0.0.1\nContent-Type: multipart/form-data; "
        f"boundary=b\nContent-Length: {6 * MiB}\n",
        [],
    )
    assert status == 413


# -- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/etc/passwd",
        "C:\\boot.ini",
        "evil\x00.pdf",
        "..",
        "sub/dir.pdf",
    ],
)
def test_a_file_name_with_a_path_in_it_is_refused(served: Served, filename: str) -> None:
    before = served.ledger_size()
    response = served.client.post(
        "/api/v1/assurance/evidence",
        params={"name": "penetration-test", "title": "Pen test 2026", "filename": filename},
        content=b"%PDF-1.7\nsomething",
        headers={**served.auth(served.admin), "Content-Type": "application/pdf"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "filename" in response.json()["detail"]
    assert served.ledger_size() == before


def test_a_long_or_odd_file_name_is_reduced_to_a_safe_name(served: Served) -> None:
    odd = "rapport d'essai <2026> ; \u00e9t\u00e9 " + "x" * 150 + ".pdf"
    response = served.client.post(
        "/api/v1/assurance/evidence",
        params={"name": "penetration-test", "title": "Pen test 2026", "filename": odd},
        content=b"%PDF-1.7\nanother",
        headers={**served.auth(served.admin), "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    kept = response.json()["filename"]
    assert len(kept) <= 120 and kept.endswith(".pdf")
    assert all(c.isascii() and (c.isalnum() or c in "._ -") for c in kept), kept
    download = served.client.get(
        f"/api/v1/assurance/evidence/{response.json()['id']}/file",
        headers=served.auth(served.admin),
    )
    assert download.headers["content-disposition"] == f'attachment; filename="{kept}"'
    # Served as a download that can run nothing, whatever type the uploader claimed.
    assert "default-src 'none'" in download.headers["content-security-policy"]


def test_evidence_is_kept_only_under_the_data_directory(served: Served) -> None:
    data_dir = served.triage.data_dir.resolve()
    stored = [p for p in data_dir.rglob("*") if p.is_file() and "evidence" in p.parts]
    assert stored, "the uploads above stored files under the data directory"
    for path in stored:
        assert path.resolve().is_relative_to(data_dir)
        assert len(path.name) == 64 and all(c in "0123456789abcdef" for c in path.name)
    assert not list(data_dir.parent.rglob("passwd"))


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/..%2f..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/api/app.py",
        "/static/..\\..\\pages.py",
    ],
)
def test_static_files_never_leave_their_directory(served: Served, path: str) -> None:
    response = served.client.get(path)
    assert response.status_code == 404
    assert b"[project]" not in response.content and b"def " not in response.content


# -- security headers ------------------------------------------------------------------------


def _sample(served: Served) -> dict[str, httpx.Response]:
    client = served.client
    admin = served.auth(served.admin)
    status, headers, _ = _raw(
        served,
        _head("POST", "/api/v1/devices/scan", served.operator, "Content-Length: 99999999"),
        [],
    )
    assert status == 413
    return {
        "public API": client.get("/api/v1/health"),
        "API with a token": client.get("/api/v1/ledger", headers=admin),
        "CSV download": client.get("/api/v1/access-review?format=csv", headers=admin),
        "OpenAPI document": client.get("/api/v1/openapi.json"),
        "API reference": client.get("/api/v1/docs"),
        "401": client.get("/api/v1/ledger"),
        "404 in the API": client.get("/api/v1/no-such-thing"),
        "404 anywhere": client.get("/no-such-page"),
        "405": client.delete("/api/v1/health"),
        "422": client.get("/api/v1/ledger/proofs/inclusion?index=-1", headers=admin),
        "login page": client.get("/login"),
        "redirect to the login": client.get("/"),
        "stylesheet": client.get("/static/app.css"),
        "413": httpx.Response(413, headers=headers),
    }


def test_every_response_carries_the_security_headers(served: Served) -> None:
    for what, response in _sample(served).items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", what
        assert headers["x-frame-options"] == "DENY", what
        assert headers["referrer-policy"] == "no-referrer", what
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, what
        assert "http:" not in policy and "https:" not in policy, what
        # Plain HTTP on loopback: no HSTS (it would pin localhost to HTTPS).
        assert "strict-transport-security" not in headers, what
        if what == "stylesheet":
            assert "no-store" not in headers.get("cache-control", ""), what
        else:
            assert headers["cache-control"] == "no-store", what


def test_pages_keep_their_own_policy_and_everything_else_loads_nothing(served: Served) -> None:
    sample = _sample(served)
    assert sample["login page"].headers["content-security-policy"].startswith("default-src 'self'")
    for what in ("public API", "API with a token", "404 anywhere", "redirect to the login"):
        assert sample[what].headers["content-security-policy"].startswith("default-src 'none'")


def test_a_405_names_every_method_of_the_path(served: Served) -> None:
    response = served.client.request(
        "PATCH", "/api/v1/assessments", headers=served.auth(served.admin)
    )
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert {"GET", "POST"} <= set(response.headers["allow"].replace(" ", "").split(","))


def test_the_api_reference_is_served_from_here_with_no_scripts(served: Served) -> None:
    response = served.client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page
    assert "http://" not in page and "https://" not in page
    spec = served.client.get("/api/v1/openapi.json").json()
    for path in spec["paths"]:
        assert path in page


def test_a_server_sends_hsts_only_over_https(served: Served) -> None:
    # Behind a TLS proxy the server is told the scheme with X-Forwarded-Proto, believed only
    # from a proxy it is told to trust: then it sends HSTS.
    forwarded = {"X-Forwarded-Proto": "https"}
    assert (
        "strict-transport-security"
        not in served.client.get("/api/v1/health", headers=forwarded).headers
    )
    server, client = start_server(
        served.triage, "--checkpoint-interval", "0", "--trusted-proxy", "127.0.0.1"
    )
    try:
        response = client.get("/api/v1/health", headers=forwarded)
        assert response.headers["strict-transport-security"].startswith("max-age=")
    finally:
        client.close()
        stop(server)


# -- in process: what the application does wrong still leaves in good shape -----------------


def _in_process(app: ASGIApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return anyio.run(call)


def test_an_unexpected_error_is_a_problem_with_the_headers_and_no_trace() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret internals")

    response = _in_process(Hardening(broken), "GET", "/api/v1/anything")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-frame-options"] == "DENY"
    assert "secret" not in response.text and response.json()["status"] == 500


def test_a_cut_off_body_stays_413_even_if_the_application_swallows_the_refusal() -> None:
    async def swallowing(scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(HTTPException):
            while (await receive()).get("more_body"):
                pass
        await PlainTextResponse("accepted")(scope, receive, send)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"x" * 8
        yield b"x" * 8

    app = Hardening(swallowing, default_limit=10)
    response = _in_process(app, "POST", "/api/v1/upload", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["detail"].startswith("body: larger than")


def test_a_route_takes_the_body_limit_it_declares_and_no_other_route_does() -> None:
    app = FastAPI()

    @app.post("/api/upload/{name}")
    @body_limit(64)
    async def upload(request: Request, name: str) -> int:
        return len(await request.body())

    @app.put("/api/upload/{name}")
    async def replace(request: Request, name: str) -> int:
        return len(await request.body())

    app.add_middleware(Hardening, default_limit=16, routes=app.routes)
    assert _in_process(app, "POST", "/api/upload/a", content=b"x" * 64).json() == 64
    refused = _in_process(app, "POST", "/api/upload/a", content=b"x" * 65)
    assert refused.status_code == 413 and "larger than" in refused.json()["detail"]
    # The same path with another method is another route: the default limit.
    assert _in_process(app, "PUT", "/api/upload/a", content=b"x" * 17).status_code == 413
    assert _in_process(app, "PUT", "/api/upload/a", content=b"x" * 16).json() == 16
