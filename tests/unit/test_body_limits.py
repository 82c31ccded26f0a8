"""Which body limit a request gets (``Hardening.limit_for``): its route's declared limit, else
the default; found without asking a route whose path cannot be the request's (issue 22: every
POST asked every route that declared a limit, the web forms' included, on every request).

No "from __future__ import annotations": FastAPI reads the endpoints' annotations.
"""

from collections import Counter

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRouter
from starlette.types import Scope

from tests.routes import asked
from triage.entrypoints.api.hardening import Hardening
from triage.entrypoints.request_bodies import DEFAULT_BODY_LIMIT, body_limit

__all__ = ["asked"]  # the fixture, used by name


def _hardening() -> Hardening:
    router = APIRouter()

    @router.post("/api/v1/dispatches/{dispatch_id}/acknowledgement")
    @body_limit(5_000_000)
    def acknowledge(dispatch_id: str) -> None: ...

    @router.post("/stores/seals/{batch}/upload")
    @body_limit(100)
    def upload(batch: str) -> None: ...

    @router.post("/api/v1/jobs/{job_id}/seal")
    def seal(job_id: str) -> None: ...

    return Hardening(FastAPI(), routes=router.routes)


def _scope(path: str, method: str = "POST", root_path: str = "") -> Scope:
    return {"type": "http", "method": method, "path": root_path + path, "root_path": root_path}


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/dispatches/d-1/acknowledgement", 5_000_000),
        ("/stores/seals/b-7/upload", 100),  # smaller than the default: still its own
        ("/api/v1/dispatches/d-1/acknowledgement/more", DEFAULT_BODY_LIMIT),
        ("/api/v1/dispatches", DEFAULT_BODY_LIMIT),
        ("/api/v1/jobs/j-1/seal", DEFAULT_BODY_LIMIT),
    ],
)
def test_a_request_gets_its_routes_limit_or_the_default(path: str, limit: int) -> None:
    hardening = _hardening()
    assert hardening.limit_for(_scope(path)) == limit
    assert hardening.limit_for(_scope(path, root_path="/triage")) == limit


def test_a_request_by_another_method_gets_the_default() -> None:
    assert _hardening().limit_for(_scope("/stores/seals/b-7/upload", "GET")) == DEFAULT_BODY_LIMIT


def test_only_routes_whose_path_can_be_the_requests_are_asked(asked: Counter[int]) -> None:
    hardening = _hardening()
    upload = next(r for r, _, _ in hardening.declared if "upload" in getattr(r, "path", ""))

    assert hardening.limit_for(_scope("/api/v1/jobs/j-1/seal")) == DEFAULT_BODY_LIMIT
    assert not asked
    assert hardening.limit_for(_scope("/stores/seals/b-7/upload")) == 100
    assert asked == {id(upload): 1}
