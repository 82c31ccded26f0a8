"""Issue 21's "done when", end to end on a running facility, two running witnesses and the
`triage` command, on both databases:

a receipt verifies with a quorum of two witness cosignatures and nothing kept by the reader (no
kept checkpoint, not even the facility's key: only the policy); Go's tlog package verifies the
served tiles against the served checkpoint; `triage witness follow` detects a rollback; and a
history rewritten and re-signed with the facility's own key is refused by both witnesses, is
never published as cosigned, raises the quorum alert, and the monitor says so.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from tests.e2e.conftest import TRIAGE, Facility, Triage, running_facility, stop
from tests.integration.ledger_rows import all_entries, set_entry
from tests.interop.go_tlog import go_check
from tests.pgserver import PgCluster
from tests.witnesses import serve_witness
from triage.adapters.devices.simulated import DeviceSpec
from triage.adapters.tables import ledger_checkpoint, ledger_head, ledger_tile
from triage.ledger import checkpoint as checkpoints
from triage.ledger.errors import VerificationError
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.policy import parse_policy, verify_checkpoint
from triage.services import witnessing

OWNER = "MAP-1"  # registered by running_facility
DEVICE = "BC-33-AC-FF-FE-21-00-01"
HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
TLOG = "/api/v1/ledger/tlog"
_numbers = itertools.count()


@dataclass
class RunningWitness:
    name: str
    directory: Path
    url: str
    vkey: str
    proc: subprocess.Popen[str]


def _witness_cli(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRIAGE, "witness", *args, "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=True,
    )


def _start_witness(name: str, directory: Path, origin: str, log_vkey: str) -> RunningWitness:
    """A witness of its own (key, database, process), following the facility's log."""
    vkey = _witness_cli(directory, "keygen", name).stdout.strip().splitlines()[-1]
    _witness_cli(directory, "log", "add", origin, log_vkey)
    proc, url = serve_witness(directory)
    return RunningWitness(name, directory, url, vkey, proc)


@pytest.fixture
def facility(
    backend: str, triage: Triage, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Facility]:
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        triage.env["TRIAGE_DATABASE_URL"] = cluster.create_database(f"witnessed{next(_numbers)}")
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


@pytest.fixture
def witnesses(facility: Facility, tmp_path: Path) -> Iterator[list[RunningWitness]]:
    origin = facility.vkey.split("+", 1)[0]  # the facility key's name is its log's origin
    started = [
        _start_witness(f"witness.test/{name}", tmp_path / name, origin, facility.vkey)
        for name in ("w1", "w2")
    ]
    try:
        yield started
    finally:
        stop(*(w.proc for w in started))


def _follow(f: Facility, state: Path, policy: Path) -> subprocess.CompletedProcess[str]:
    url = str(f.client.base_url).rstrip("/") + TLOG
    return subprocess.run(
        [
            *TRIAGE,
            "witness",
            "follow",
            url,
            "--key",
            f.vkey,
            "--policy",
            str(policy),
            "--state",
            str(state),
            "--token",
            f.tokens["sam"],
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _published(f: Facility) -> str:
    answer = f.client.get(
        TLOG + "/checkpoint", headers={"Authorization": f"Bearer {f.tokens['sam']}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def _rewrite_and_re_sign(triage: Triage) -> int:
    """What an intruder holding the database and the facility's key does: change entry 50,
    rebuild bundles, tiles and head to match, and sign a checkpoint of the forged tree with the
    facility's own key, stored as the latest. Returns its size."""
    with triage.opened() as app:
        log_id = app.facility.id
        with app.database.engine.begin() as conn:
            if app.database.dialect == "sqlite":
                conn.execute(text("PRAGMA foreign_keys = OFF"))
            size = int(
                conn.execute(
                    select(ledger_head.c.size).where(ledger_head.c.log_id == log_id)
                ).scalar_one()
            )
            entries = all_entries(conn, size)
            forged = json.loads(entries[50])
            forged["data"] = {"forged": "an entry that never was"}
            entries[50] = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
            set_entry(conn, 50, entries[50])
            rebuilt = MemoryLogStorage()
            Log(rebuilt).append(entries)
            conn.execute(delete(ledger_tile).where(ledger_tile.c.log_id == log_id))
            conn.execute(
                ledger_tile.insert(),
                [
                    {"log_id": log_id, "level": k.level, "idx": k.index, "hashes": v}
                    for k, v in rebuilt.tiles.items()
                ],
            )
            conn.execute(
                update(ledger_head)
                .where(ledger_head.c.log_id == log_id)
                .values(size=size, root=rebuilt.head.root)
            )
            body = checkpoints.Checkpoint(app.origin, size, rebuilt.head.root)
            conn.execute(
                ledger_checkpoint.insert().values(
                    log_id=log_id,
                    size=size,
                    note=checkpoints.sign_checkpoint(body, app.signer_key()),
                    issued_at=datetime.now(UTC),
                )
            )
    return size


def test_witnesses_a_receipt_go_s_tlog_a_rollback_and_a_re_signed_rewrite(
    facility: Facility, witnesses: list[RunningWitness], tmp_path: Path
) -> None:
    f, run = facility, facility.triage.run
    w1, w2 = witnesses
    admin, sup, sam = (f.tokens[w] for w in ("admin", "sup", "sam"))

    # The administrator records the witness policy: both witnesses must cosign.
    chosen = tmp_path / "witnesses.txt"
    chosen.write_text(
        f"witness w1 {w1.vkey} {w1.url}\n"
        f"witness w2 {w2.vkey} {w2.url}\n"
        "group both all w1 w2\n"
        "quorum both\n"
    )
    run("ledger", "witnesses", "set", str(chosen), "--alert-after", "5", "--token", admin)

    # Some triage: a consignment and the device's scan.
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + f"{DEVICE},ESME,Acme,E1,1.0,Decommissioned,{OWNER}\n")
    run("consignment", "import", str(manifest), "--reference", "C-21", "--asset-owner", OWNER,
        "--token", sup)  # fmt: skip
    f.call("ben", "POST", "/devices/scan", json={"device_id": DEVICE})

    # A receipt, proven against a checkpoint both witnesses cosigned.
    receipt = tmp_path / "receipt.json"
    run("device", "receipt", DEVICE, "--out", str(receipt), "--token", sup)
    policy = tmp_path / "verifier-policy.txt"
    policy.write_text(run("ledger", "witnesses", "policy", "--token", sam).stdout)
    assert f.vkey in policy.read_text()  # the facility's log line, added by the system

    # The reader holds nothing but the policy: no kept checkpoint, not even --key.
    reader = tmp_path / "reader"
    reader.mkdir()
    checked = subprocess.run(
        [*TRIAGE, "verify", str(receipt), "--policy", str(policy), "--json"],
        capture_output=True, text=True, timeout=60, cwd=reader,
        env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["ok"] is True and sorted(verdict["witnesses"]) == ["w1", "w2"], verdict
    # One cosignature short of the quorum, the same receipt is refused.
    short = json.loads(receipt.read_text())
    short["checkpoint"] = "".join(
        line for line in short["checkpoint"].splitlines(keepends=True) if w2.name not in line
    )
    cut = tmp_path / "short.json"
    cut.write_text(json.dumps(short))
    refused = run("verify", str(cut), "--policy", str(policy), check=False)
    assert refused.returncode == 1 and "quorum" in (refused.stdout + refused.stderr)

    # Go's tlog package reads the served tiles and checks them against the served checkpoint.
    base = str(f.client.base_url).rstrip("/") + TLOG
    first = _published(f)
    verify_checkpoint(first, parse_policy(policy.read_text()))
    go = go_check(base, f.vkey, sam, tmp_path / "go")
    assert go.returncode == 0, go.stdout + go.stderr

    # Two monitors follow the log; the log grows and is cosigned again.
    followed, other = tmp_path / "monitor-1", tmp_path / "monitor-2"
    for state in (followed, other):
        assert _follow(f, state, policy).returncode == 0
    # (a change of the policy's alert time is a state change like any other: the ledger grows)
    run("ledger", "witnesses", "set", str(chosen), "--alert-after", "4", "--token", admin)
    run("ledger", "checkpoint", "--token", sam)
    grown = _published(f)
    assert checkpoints.parse_checkpoint(grown.split("\n\n")[0] + "\n").size > (
        checkpoints.parse_checkpoint(first.split("\n\n")[0] + "\n").size
    )
    assert verify_checkpoint(grown, parse_policy(policy.read_text())).witnesses == ("w1", "w2")
    for state in (followed, other):
        assert _follow(f, state, policy).returncode == 0

    # A rollback: the newest checkpoint disappears and the older one is published again.
    with f.triage.opened() as app, app.database.engine.begin() as conn:
        newest = conn.execute(
            select(ledger_checkpoint.c.size).order_by(ledger_checkpoint.c.size.desc()).limit(1)
        ).scalar_one()
        conn.execute(delete(ledger_checkpoint).where(ledger_checkpoint.c.size == newest))
    rolled = _follow(f, other, policy)
    assert rolled.returncode == 2, rolled.stdout + rolled.stderr
    assert "ROLLBACK" in rolled.stderr, rolled.stderr

    # A history rewritten and re-signed with the facility's key: both witnesses refuse it.
    forged_size = _rewrite_and_re_sign(f.triage)
    gathered = json.loads(run("ledger", "witnesses", "gather", "--token", sam, "--json").stdout)
    outcomes = {o["witness"]: o for o in gathered["outcomes"]}
    assert set(outcomes) == {"w1", "w2"}, gathered
    for outcome in outcomes.values():
        assert not outcome["cosigned"] and "422" in json.dumps(outcome), outcome
    assert gathered["quorum_met"] is False
    for witness in (w1, w2):  # each kept the refused checkpoint as evidence
        kept = json.loads(_witness_cli(witness.directory, "status", "--json").stdout)
        assert json.dumps(kept).count(str(forged_size)) >= 1, kept

    # Never published as cosigned: the served checkpoint carries no witness's line.
    published = _published(f)
    assert checkpoints.parse_checkpoint(published.split("\n\n")[0] + "\n").size == forged_size
    assert w1.name not in published and w2.name not in published, published
    with pytest.raises(VerificationError, match="quorum"):
        verify_checkpoint(published, parse_policy(policy.read_text()))

    # Once it has stayed below quorum past the policy's time: one alert for the security manager.
    with f.triage.opened() as app:
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert witnessing.sweep_quorum(app.uow, later) is not None
        assert witnessing.sweep_quorum(app.uow, later + timedelta(minutes=1)) is None
    alerts = f.call("sam", "GET", "/alerts")["items"]
    quorum = [a for a in alerts if a["metric"] == "witness_quorum"]
    assert len(quorum) == 1 and str(forged_size) in json.dumps(quorum[0]["detail"]), quorum

    # The monitor that followed the genuine log says so, loudly.
    alarmed = _follow(f, followed, policy)
    assert alarmed.returncode == 2, alarmed.stdout + alarmed.stderr
