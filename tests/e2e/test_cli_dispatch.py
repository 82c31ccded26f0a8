"""The facility's side of a dispatch by command line (issue 19 item 2): opened, listed, shown,
refused for what cannot go in it, and cancelled; each command needs the caller's token."""

from __future__ import annotations

import json

from tests.e2e.conftest import Triage


def test_stores_open_list_and_cancel_a_dispatch_by_cli(triage: Triage) -> None:
    triage.run("init")
    admin = triage.first_admin()
    stella = triage.staff(admin, "stella", "stores")
    ben = triage.staff(admin, "ben", "bench_operator")
    triage.run("asset-owner", "add", "MAP-1", "--name", "Meter Assets One", "--token", admin)

    opened = json.loads(
        triage.run("dispatch", "create", "MAP-1", "--token", stella, "--json").stdout
    )
    dispatch_id = opened["id"]
    assert (opened["state"], opened["asset_owner"]) == ("open", "MAP-1")
    listed = json.loads(triage.run("dispatch", "list", "--token", stella, "--json").stdout)
    assert [d["id"] for d in listed["dispatches"]] == [dispatch_id]

    refused = triage.run("dispatch", "create", "MAP-1", "--token", ben, check=False)
    assert refused.returncode != 0 and "dispatch.manage" in refused.stderr
    rma = triage.run(
        "dispatch", "create", "MAP-1", "--destination", "manufacturer", "--token", stella,
        check=False,
    )  # fmt: skip
    assert rma.returncode != 0 and "RMA reference" in rma.stderr
    unknown = triage.run(
        "dispatch", "pack", dispatch_id, "BC-33-AC-FF-FE-FA-55-3D", "--seal", "SL-1",
        "--viewed", "--verified", "--tugged", "--twisted", "--token", stella, check=False,
    )  # fmt: skip
    assert unknown.returncode != 0 and "never received" in unknown.stderr
    empty = triage.run("dispatch", "close", dispatch_id, "--token", stella, check=False)
    assert empty.returncode != 0 and "no device packed" in empty.stderr

    triage.run("dispatch", "cancel", dispatch_id, "--token", stella)
    shown = triage.run("dispatch", "show", dispatch_id, "--token", stella).stdout
    assert f"dispatch {dispatch_id}: cancelled" in shown
