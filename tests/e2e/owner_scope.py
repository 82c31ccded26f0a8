"""Reading as another asset owner's person: every GET route of the running app (the API and
the web pages), taken from the app itself at test time, asked with the real ids of one owner's
devices, jobs, consignments, files and dispatches. tests/e2e/test_chain_of_custody.py uses it;
a route added later is tried too, and one whose path has a parameter ``fillers_for`` cannot
fill fails there, naming its path.
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

import httpx
from fastapi.routing import iter_route_contexts

from tests.e2e.conftest import Facility, Triage
from triage.entrypoints.asgi import create_app

_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


def get_routes(triage: Triage) -> list[str]:
    """Every GET route of the app (the included routers' too, shown in the OpenAPI document
    or not)."""
    with triage.opened() as application:
        routes = create_app(application).routes
    return sorted(
        {
            str(getattr(context.route, "path", ""))
            for context in iter_route_contexts(routes)
            if "GET" in (getattr(context.route, "methods", None) or ())
        }
    )


def fillers_for(
    owner: str,
    devices: list[str],
    jobs: list[str],
    consignments: list[str],
    files: list[str],
    dispatches: list[str],
    stocktakes: tuple[str, ...] = ("no-such-stocktake",),
    duis_batches: tuple[str, ...] = ("no-such-batch",),
    duis_requests: tuple[str, ...] = ("no-such-request",),
) -> dict[str, list[str]]:
    """Path parameters filled with one owner's real ids (consignments: ids and references;
    files: SHA-256 digests of its evidence files), and a value of the right shape for the
    others (those routes are refused by permission)."""
    return {
        "device_id": devices,
        "job_id": jobs,
        "consignment_id": consignments,
        "asset_owner": [owner],
        "reference": consignments,
        "owner_id": [owner],
        "sha256": files,
        "fmt": ["csv", "pdf", "json"],
        "dispatch_id": dispatches,
        "stocktake_id": list(stocktakes),
        "operator_id": ["sup"],
        "assessment_id": ["no-such-assessment"],
        # Seal batches and DUIS request batches share the name.
        "batch_id": ["no-such-batch", *duis_batches],
        "request_id": list(duis_requests),
        "incident_id": ["no-such-incident"],
        "reconciliation_id": ["no-such-reconciliation"],
        "serial": ["SL-2001"],
        "evidence_id": ["no-such-evidence"],
        "kind": ["photo"],
        "code": ["shred"],
        # The ledger's tile read API (issue 21): the first tile and bundle.
        "level": ["0"],
        "index": ["000"],
    }


def paths_of(template: str, fillers: dict[str, list[str]]) -> list[str]:
    names = _PARAM.findall(template)
    unknown = [n for n in names if n not in fillers]
    assert not unknown, f"{template}: say in _fillers what to try for {unknown}"
    paths = []
    for values in itertools.product(*(fillers[n] for n in names)):
        path = template
        for name, value in zip(names, values, strict=True):
            path = re.sub(r"\{" + name + r"(?::[a-z]+)?\}", quote(value, safe=""), path, count=1)
        paths.append(path)
    return paths


def reads_leaking(
    f: Facility,
    routes: list[str],
    fillers: dict[str, list[str]],
    secrets: list[str],
    token: str,
    browser: httpx.Client,
) -> tuple[int, list[tuple[str, int, list[str]]]]:
    """Every GET route, with every filling of its path, asked with ``token`` (the API) or
    ``browser`` (the pages): how many paths were tried, and those whose answer (other than 401,
    403 or 404) shows any of ``secrets``."""
    tried, leaks = 0, []
    for template in routes:
        for path in paths_of(template, fillers):
            if path.startswith("/api/"):
                answer = f.client.get(path, headers={"Authorization": f"Bearer {token}"})
            else:
                answer = browser.get(path, follow_redirects=False)
            tried += 1
            if answer.status_code in (401, 403, 404):
                continue
            body = answer.content.decode("utf-8", errors="replace")
            shown = [s for s in secrets if s in body or s.lower() in body]
            if shown:
                leaks.append((path, answer.status_code, shown))
    return tried, leaks
