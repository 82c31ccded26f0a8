"""An auditor takes the whole ledger home: `triage ledger export` (or the API's download) and
`triage verify` with nothing but the verifier key and the checkpoints they kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Triage, start_server, stop


def test_an_auditor_exports_the_ledger_and_verifies_it_at_home(
    triage: Triage, tmp_path: Path
) -> None:
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin("ada")
    auditor = triage.staff(admin, "audrey", "auditor")
    bench = triage.staff(admin, "ben", "bench_operator")
    out = tmp_path / "ledger.jsonl"
    refused = triage.run("ledger", "export", str(out), "--token", auditor, check=False)
    assert refused.returncode == 2 and "no signed checkpoint" in refused.stderr
    assert not out.exists()

    kept = tmp_path / "kept.txt"  # the auditor keeps the checkpoint shown on this visit
    kept.write_text(json.loads(triage.run("ledger", "checkpoint", "--json", "--token", admin)
                               .stdout)["checkpoint"])  # fmt: skip
    triage.staff(admin, "stella", "stores")  # the ledger grows
    triage.run("ledger", "checkpoint", "--token", admin)
    done = json.loads(triage.run("ledger", "export", str(out), "--token", auditor, "--json").stdout)
    assert out.read_bytes().count(b"\n") == done["size"] + 1

    checked = triage.run("verify", str(out), "--key", vkey, "--checkpoint", str(kept))
    kept_size = int(kept.read_text().splitlines()[1])
    assert f"{done['size']} entries" in checked.stdout
    assert f"passes through your checkpoint at size {kept_size}" in checked.stdout
    report = json.loads(triage.run("verify", str(out), "--key", vkey, "--json").stdout)
    assert report["ok"] and report["size"] == done["size"] and report["entry_types"]

    # A kept checkpoint that is not text is refused, naming the file.
    binary = tmp_path / "kept.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    bad = triage.run("verify", str(out), "--key", vkey, "--checkpoint", str(binary), check=False)
    assert bad.returncode == 1 and f"{binary}: not a signed checkpoint" in bad.stdout

    # One entry changed on the way: refused, saying what is wrong.
    lines = out.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"ada"', b'"eve"')
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(b"\n".join(lines))
    failed = triage.run("verify", str(forged), "--key", vkey, check=False)
    assert failed.returncode == 1 and "do not have the root signed" in failed.stdout
    # An export never overwrites a file.
    again = triage.run("ledger", "export", str(out), "--token", auditor, check=False)
    assert again.returncode == 2 and "never overwrites" in again.stderr

    # The same file from the API, for the auditor; refused to a bench operator.
    server, client = start_server(triage, "--checkpoint-interval", "0", "--evidence-interval", "0")
    try:
        download = client.get(
            "/api/v1/ledger/export", headers={"Authorization": f"Bearer {auditor}"}
        )
        assert download.status_code == 200, download.text
        assert download.content == out.read_bytes()
        assert "attachment" in download.headers["content-disposition"]
        denied = client.get("/api/v1/ledger/export", headers={"Authorization": f"Bearer {bench}"})
        assert denied.status_code == 403
    finally:
        client.close()
        stop(server)
