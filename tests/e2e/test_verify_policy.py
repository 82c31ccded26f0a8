"""`triage verify --policy`: a reader who kept no checkpoint trusts a receipt or a ledger export
because its checkpoint carries a quorum of witness cosignatures (C2SP tlog-policy,
tlog-cosignature), and is told which witnesses vouched."""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from triage.domain.signed_document import sign_document
from triage.ledger import note
from triage.ledger.cosignature import cosign, generate_cosigner_key, note_with_signatures
from triage.ledger.entry import Entry, Ref
from triage.ledger.export import export_lines
from triage.ledger.log import Log, StoredCheckpoint
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.receipt import build_receipt

ORIGIN = "triage.example/ledger"
DEVICE = Ref("device", "BC-33-AC-FF-FE-FA-55-3D")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]


def triage(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRIAGE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


class Facility:
    """A facility's log of a few entries about one device, signed, and two witnesses (plus one
    the verifier's policy does not know) that cosign its checkpoint."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.signer, self.vkey = note.generate_key(ORIGIN)
        self.log = Log(MemoryLogStorage())
        entries = [
            Entry(
                type="device.received",
                at=START + timedelta(minutes=n),
                actor=Ref("operator", "alice"),
                facility="triage.example",
                subject=DEVICE,
                data={"step": n},
            ).to_bytes()
            for n in range(5)
        ]
        self.log.append(entries)
        self.kept = self.log.issue_checkpoint(ORIGIN, self.signer)  # a reader kept this one
        self.log.append([entries[0]])
        self.checkpoint = self.log.issue_checkpoint(ORIGIN, self.signer)
        self.files = itertools.count(1)
        self.witnesses = {
            name: generate_cosigner_key(f"witness.example/{name}") for name in ("w1", "w2", "w3")
        }

    def cosigned(self, *names: str) -> StoredCheckpoint:
        body = note.verify(self.checkpoint.note, [self.vkey])
        lines = [cosign(body, self.witnesses[n][0], 1_772_442_000) for n in names]
        return StoredCheckpoint(
            self.checkpoint.size, note_with_signatures(self.checkpoint.note, lines)
        )

    def receipt(self, *names: str) -> Path:
        path = self.dir / f"receipt-{'-'.join(names) or 'none'}.json"
        path.write_text(
            build_receipt(self.log, ORIGIN, DEVICE, [0, 2, 4], self.cosigned(*names)),
            encoding="utf-8",
        )
        return path

    def export(self, *names: str) -> Path:
        path = self.dir / f"export-{'-'.join(names) or 'none'}.jsonl"
        stored = self.cosigned(*names)
        entries = (self.log.entry(i) for i in range(stored.size))
        path.write_bytes(b"".join(export_lines(ORIGIN, stored.note, stored.size, entries)))
        return path

    def policy(
        self, *, log: bool = True, quorum: str = "group both all w1 w2\nquorum both"
    ) -> Path:
        lines = ["# the witnesses the asset owner trusts"]
        lines += [f"log {self.vkey}"] if log else []
        lines += [f"witness {n} {self.witnesses[n][1]} http://127.0.0.1:8100" for n in ("w1", "w2")]
        path = self.dir / f"policy-{next(self.files)}.txt"
        path.write_text("\n".join([*lines, quorum]) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def facility(tmp_path: Path) -> Facility:
    return Facility(tmp_path)


def test_a_receipt_with_two_cosignatures_verifies_with_the_policy_alone(
    facility: Facility,
) -> None:
    receipt = facility.receipt("w1", "w2")
    checked = triage("verify", receipt, "--policy", facility.policy())
    assert checked.returncode == 0, checked.stderr
    assert "ok: 3 entries about device" in checked.stdout
    assert "witnessed by w1, w2: quorum met" in checked.stdout

    report = json.loads(triage("verify", receipt, "--policy", facility.policy(), "--json").stdout)
    assert report["ok"] and report["witnesses"] == ["w1", "w2"]
    assert report["checkpoint_size"] == 6

    # A policy without a log line takes the facility's key from --key.
    keyed = triage(
        "verify", receipt, "--key", facility.vkey, "--policy", facility.policy(log=False)
    )
    assert keyed.returncode == 0 and "witnessed by w1, w2: quorum met" in keyed.stdout
    # Without a policy the cosignatures are ignored and the receipt verifies as before.
    plain = json.loads(triage("verify", receipt, "--key", facility.vkey, "--json").stdout)
    assert plain["ok"] and plain["witnesses"] == []


def test_a_receipt_below_quorum_or_with_a_stranger_is_refused(facility: Facility) -> None:
    policy = facility.policy()
    short = triage("verify", facility.receipt("w1"), "--policy", policy)
    assert short.returncode == 1
    assert "FAILED: the checkpoint of size 6 is not cosigned by a quorum" in short.stdout
    assert "quorum both: 2 of (w1, w2); cosigned by w1: not met" in short.stdout

    stranger = triage("verify", facility.receipt("w1", "w3"), "--policy", policy, "--json")
    assert stranger.returncode == 1
    assert "cosigned by w1: not met" in json.loads(stranger.stdout)["error"]


def test_a_forged_cosignature_is_refused(facility: Facility) -> None:
    receipt = facility.receipt("w1", "w2")
    obj = json.loads(receipt.read_text(encoding="utf-8"))
    # w2's line replaced by a line in w2's name and key ID signed with another key.
    impostor, _ = generate_cosigner_key("witness.example/w2")
    body = note.verify(obj["checkpoint"], [facility.vkey])
    fake = cosign(body, impostor, 1_772_442_000)
    w2_id = facility.witnesses["w2"][1].split("+")[1]
    real = next(line for line in obj["checkpoint"].splitlines() if "witness.example/w2" in line)
    blob = bytes.fromhex(w2_id) + base64.b64decode(fake.split(" ")[2])[4:]
    obj["checkpoint"] = obj["checkpoint"].replace(
        real, f"— witness.example/w2 {base64.b64encode(blob).decode()}"
    )
    receipt.write_text(json.dumps(obj), encoding="utf-8")
    forged = triage("verify", receipt, "--policy", facility.policy())
    assert forged.returncode == 1 and "bad cosignature by witness.example/w2+" in forged.stdout


def test_a_ledger_export_verifies_with_the_policy(facility: Facility) -> None:
    export = facility.export("w2", "w1")
    kept = facility.dir / "kept.txt"
    kept.write_text(facility.kept.note, encoding="utf-8")
    checked = triage("verify", export, "--policy", facility.policy(), "--checkpoint", kept)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "the whole ledger of triage.example/ledger, 6 entries" in checked.stdout
    assert "passes through your checkpoint at size 5" in checked.stdout
    assert "witnessed by w1, w2: quorum met" in checked.stdout
    report = json.loads(triage("verify", export, "--policy", facility.policy(), "--json").stdout)
    assert report["witnesses"] == ["w1", "w2"] and report["size"] == 6

    short = triage("verify", facility.export("w2"), "--policy", facility.policy())
    assert short.returncode == 1 and "cosigned by w2: not met" in short.stdout


def test_quorum_none_says_no_cosignature_was_needed(facility: Facility) -> None:
    checked = triage(
        "verify", facility.receipt(), "--policy", facility.policy(quorum="quorum none")
    )
    assert checked.returncode == 0
    assert "quorum none: no cosignature needed" in checked.stdout


def test_usage_errors_are_clear(facility: Facility) -> None:
    receipt = facility.receipt("w1", "w2")
    neither = triage("verify", receipt)
    assert neither.returncode == 2
    assert "give --key (the facility's verifier key) or --policy" in neither.stderr

    bad = facility.dir / "bad-policy.txt"
    bad.write_text(f"log {facility.vkey}\ngroup g any w1\nquorum g\n", encoding="utf-8")
    refused = triage("verify", receipt, "--policy", bad)
    assert refused.returncode == 2
    assert f"--policy {bad}: policy line 2: group g: member 'w1' is not a witness" in " ".join(
        refused.stderr.split()
    )

    not_text = facility.dir / "policy.bin"
    not_text.write_bytes(b"quorum none\n\xff\n")
    assert "not UTF-8 text" in triage("verify", receipt, "--policy", not_text).stderr


def test_signed_documents_still_need_the_signers_key(facility: Facility) -> None:
    document = facility.dir / "dispatch.json"
    document.write_bytes(sign_document("dispatch-note", {"n": 1}, facility.signer).to_json())
    ok = triage("verify", document, "--key", facility.vkey)
    assert ok.returncode == 0 and "ok: a dispatch-note signed by this key" in ok.stdout
    without = triage("verify", document, "--policy", facility.policy())
    assert without.returncode == 2
    assert "a signed document is checked with its signer's key: give --key" in without.stderr
