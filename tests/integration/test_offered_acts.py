"""A page offers only the acts the person looking at it may take (issue 18, item 3): stores,
who may open a device at intake but not inspect it, are shown no inspection form, where they
were shown it and refused only after filling it in; the server still refuses the act itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed
from tests.integration.test_threshold_pages import _csrf, _signed_in
from triage.entrypoints.asgi import create_app
from triage.services import intake

DEVICE = "BC-33-AC-FF-FE-FA-88-01"


def test_stores_are_offered_no_inspection_and_the_bench_operator_is(staffed: Staffed) -> None:
    staffed.manifest("C-88", [DEVICE])
    scanned = intake.scan_device(staffed.app.uow, staffed.ben, DEVICE)
    assert scanned.job is not None
    job = f"/bench/jobs/{scanned.job.id}"
    app = create_app(staffed.app)
    with TestClient(app) as stores_client, TestClient(app) as bench_client:
        stores = _signed_in(stores_client, staffed, "stella", "")
        page = stores.get(job)
        assert page.status_code == 200
        assert 'id="inspection"' not in page.text
        assert "Record the inspection" not in page.text
        assert re.search(r'id="not-yours">Next: a bench operator or supervisor records', page.text)
        # Not offered, and still refused when sent anyway.
        refused = stores.post(
            f"{job}/inspect",
            data={"metrology_seal_intact": "yes", "cpa_boundary_intact": "yes",
                  "csrf_token": _csrf(page)},
            follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 403

        bench = _signed_in(bench_client, staffed, "ben", "B1")
        offered = bench.get(job)
        assert 'id="inspection"' in offered.text and 'id="not-yours"' not in offered.text
