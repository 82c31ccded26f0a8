"""Asset owners by command line: the owner makes its key offline, an administrator registers
it, changes and deactivates it, and adds a person of it; a consignment for an owner that is not
registered, or a manifest row naming another owner, is refused saying why."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.e2e.conftest import Triage
from triage.ledger import note

HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"


def test_an_owner_is_registered_changed_and_given_its_people_by_cli(
    triage: Triage, tmp_path: Path
) -> None:
    # At the owner, offline: the signing key stays there, only the verifier key is sent.
    keys = tmp_path / "owner-keys"
    vkey = triage.run("asset-owner", "keygen", "MAP-9", "--out", str(keys)).stdout.strip()
    note.parse_verifier_key(vkey)
    written = keys / "MAP-9.key"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert written.read_text().startswith("PRIVATE+KEY+MAP-9+")
    again = triage.run("asset-owner", "keygen", "MAP-9", "--out", str(keys), check=False)
    assert again.returncode == 2 and "never overwritten" in again.stderr

    triage.run("init")
    admin = triage.first_admin()
    sup = triage.staff(admin, "sup", "supervisor")
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + "BC-33-AC-FF-FE-FA-99-01,ESME,Acme,E1,1.0,Decommissioned,MAP-9\n")
    unregistered = triage.run(
        "consignment", "import", str(manifest), "--reference", "C-1", "--asset-owner", "MAP-9",
        "--token", sup, check=False,
    )  # fmt: skip
    assert unregistered.returncode == 2
    assert "not a registered asset owner" in unregistered.stderr
    assert "triage asset-owner add" in unregistered.stderr

    added = triage.run(
        "asset-owner", "add", "MAP-9", "--name", "Meter Assets Nine", "--contact",
        "ops@map9.test", "--verifier-key", vkey, "--token", admin, "--json",
    )  # fmt: skip
    assert json.loads(added.stdout)["verifier_key"] == vkey
    listed = json.loads(triage.run("asset-owner", "list", "--token", sup, "--json").stdout)
    assert [o["id"] for o in listed["asset_owners"]] == ["MAP-9"]
    not_admin = triage.run(
        "asset-owner", "update", "MAP-9", "--contact", "x", "--token", sup, check=False
    )
    assert not_admin.returncode != 0 and "asset_owner.manage" in not_admin.stderr
    triage.run("asset-owner", "update", "MAP-9", "--deactivate", "--token", admin)
    shown = triage.run("asset-owner", "show", "MAP-9", "--token", sup).stdout
    assert "deactivated" in shown and "ops@map9.test" in shown

    refused = triage.run(
        "operator", "add", "olive", "--name", "Olive", "--role", "asset_owner",
        "--asset-owner", "MAP-9", "--token", admin, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "deactivated" in refused.stderr
    no_owner = triage.run(
        "operator", "add", "olive", "--name", "Olive", "--role", "asset_owner",
        "--token", admin, check=False,
    )  # fmt: skip
    assert no_owner.returncode == 2 and "asset_owner:" in no_owner.stderr
    triage.run("asset-owner", "update", "MAP-9", "--active", "--token", admin)
    made = triage.run(
        "operator", "add", "olive", "--name", "Olive", "--role", "asset_owner",
        "--asset-owner", "MAP-9", "--token", admin, "--json",
    )  # fmt: skip
    assert json.loads(made.stdout)["asset_owner"] == "MAP-9"

    # A row naming another owner is refused with its line.
    manifest.write_text(
        HEADER
        + "BC-33-AC-FF-FE-FA-99-01,ESME,Acme,E1,1.0,Decommissioned,MAP-9\n"
        + "BC-33-AC-FF-FE-FA-99-02,ESME,Acme,E1,1.0,Decommissioned,MAP-1\n"
    )
    mixed = triage.run(
        "consignment", "import", str(manifest), "--reference", "C-1", "--asset-owner", "MAP-9",
        "--token", sup, check=False,
    )  # fmt: skip
    assert mixed.returncode == 2
    assert "line 3: asset_owner" in mixed.stderr
