"""Read Inventory responses by command line: stores import the DCC's 8.2 response (a
difference from the manifest raised as an exception, the refusal said); an administrator sets
the refused statuses; a hostile file is refused with a clear error and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.duis_responses import XXE, Listed, read_inventory
from tests.e2e.conftest import Triage

DEVICE = "BC-33-AC-FF-FE-FA-59-21"
HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"


def test_read_inventory_responses_and_the_smi_policy_by_cli(triage: Triage, tmp_path: Path) -> None:
    triage.run("init")
    admin = triage.first_admin()
    stella = triage.staff(admin, "stella", "stores")
    triage.run("asset-owner", "add", "MAP-1", "--name", "Meter Assets One", "--token", admin)
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + f"{DEVICE},ESME,Acme,E1,1.0,Decommissioned,MAP-1\n")
    triage.run(
        "consignment", "import", str(manifest), "--reference", "C-1", "--asset-owner", "MAP-1",
        "--token", stella,
    )  # fmt: skip
    hostile = tmp_path / "xxe.xml"
    hostile.write_bytes(XXE)
    refused = triage.run("duis", "import-inventory", str(hostile), "--token", stella, check=False)
    assert refused.returncode != 0 and "a DTD/entity declaration is refused" in refused.stderr

    response = tmp_path / "82.xml"
    response.write_bytes(
        read_inventory(Listed(DEVICE, "ESME", "Suspended", "Acme", "E2", None, "1.0"))
    )
    done = triage.run("duis", "import-inventory", str(response), "--token", stella).stdout
    assert f"{DEVICE}: Suspended (consignment " in done
    assert "model: manifest 'E1', DCC 'E2'" in done

    denied = triage.run("duis", "smi-policy", "--refuse", "Suspended", "--token", stella,
                        check=False)  # fmt: skip
    assert denied.returncode != 0
    triage.run("duis", "smi-policy", "--refuse", "Suspended", "--refuse", "Commissioned",
               "--token", admin)  # fmt: skip
    shown = json.loads(triage.run("duis", "smi-policy", "--token", stella, "--json").stdout)
    assert shown == {"refuse": ["Commissioned", "Suspended"]}
    again = triage.run("duis", "import-inventory", str(response), "--token", stella, check=False)
    assert again.returncode != 0 and "imported already" in again.stderr
