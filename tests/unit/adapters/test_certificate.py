"""The triage certificate PDF: only from a verified receipt of a released device, with a QR code
of the receipt digest."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from triage.adapters.pdf.certificate import (
    certificate_filename,
    destruction_certificate_filename,
    qr_payload,
    render_certificate,
    render_destruction_certificate,
)
from triage.domain.reset_profile import EMPTY_DIGEST
from triage.entrypoints.cli import app as cli
from triage.errors import Conflict
from triage.ledger.cosignature import cosign, generate_cosigner_key, note_with_signatures
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import VerificationError
from triage.ledger.log import Log, StoredCheckpoint
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.note import generate_key
from triage.ledger.policy import parse_policy, verify_checkpoint
from triage.ledger.receipt import build_receipt, receipt_digest, verify_receipt

ORIGIN = "device-triage.local/demo"
DEVICE = "BC-33-AC-FF-FE-FA-55-3D"
SEAL = "SEAL-000417"
WORK_ORDER = "6f1c2a8e-4d0b-4b7e-9a57-3f5e2c9d1a11"
JOB = "3d5b1a9c-07e4-4c51-8f0e-0d2b6c7a9e42"
FACILITY = "Demo Triage Facility"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

DEVICE_DATA = {
    "id": DEVICE,
    "type": 1,
    "manufacturer": "Acme Metering",
    "model": "E470 SMETS2",
    "firmware_version": "3.2.1",
    "inventory_status": "Decommissioned",
    "asset_owner": "North Meter Assets Ltd",
    "smets_version": "SMETS2",
    "chf_id": None,
}

# (entry type, actor, new state, extra data) for one full job, received to released.
RELEASED_JOB: list[tuple[str, Ref, str, dict[str, Any]]] = [
    ("device.received", Ref("operator", "alice"), "received", {"device": DEVICE_DATA}),
    ("device.inspected", Ref("operator", "alice"), "inspected", {"evidence": {}}),
    (
        "device.decided",
        Ref("system", "tamper-policy"),
        "eligible",
        {
            "seq": 1,
            "outcome": "eligible",
            "reasons": [{"rule": "none", "outcome": "eligible", "text": "no tamper evidence"}],
            "policy": {"id": "tamper-default", "version": "1.2", "hash": "ab" * 32},
        },
    ),
    (
        "reset.authorised",
        Ref("operator", "bob"),
        "reset_authorised",
        {"work_order_id": WORK_ORDER, "tool_id": "bench-7", "attempt": 1},
    ),
    ("reset.completed", Ref("tool", "bench-7"), "reset_done", {"work_order_id": WORK_ORDER}),
    (
        "reset.verified",
        Ref("system", "system"),
        "verified",
        {"work_order_id": WORK_ORDER, "failures": []},
    ),
    ("seal.fitted", Ref("operator", "bob"), "sealed", {"serial": SEAL}),
    ("device.released", Ref("operator", "carol"), "released", {"seal_serial": SEAL}),
]


class Ledger:
    """A real in-memory log with entries about the device among entries about others."""

    def __init__(self) -> None:
        self.log = Log(MemoryLogStorage())
        self.signer, self.verifier = generate_key(ORIGIN)
        self.device_indexes: list[int] = []
        self.clock = START
        self._noise = 0

    def add(self, entry_type: str, actor: Ref, data: dict[str, Any], device: str = DEVICE) -> None:
        self.clock += timedelta(minutes=7)
        entry = Entry(entry_type, self.clock, actor, "demo", Ref("device", device), data)
        index = self.log.append([entry.to_bytes()])
        if device == DEVICE:
            self.device_indexes.append(index)

    def noise(self) -> None:
        """An entry about some other device, so the proofs are not trivial."""
        self._noise += 1
        self.add(
            "device.inspected",
            Ref("operator", "dave"),
            {},
            f"00-00-00-00-00-00-00-{self._noise:02X}",
        )

    def job(self, steps: list[tuple[str, Ref, str, dict[str, Any]]], job_id: str = JOB) -> None:
        for entry_type, actor, state, extra in steps:
            self.noise()
            self.add(entry_type, actor, {"job_id": job_id, "state": state, **extra})

    def receipt(self, cosigners: Sequence[str] = ()) -> str:
        """The device's receipt, its checkpoint cosigned by each of ``cosigners`` (signer keys
        of witnesses), as the facility publishes it."""
        self.noise()
        checkpoint = self.log.issue_checkpoint(ORIGIN, self.signer)
        body = checkpoint.note.split("\n\n")[0] + "\n"
        lines = [cosign(body, signer, 1_800_000_000 + n) for n, signer in enumerate(cosigners)]
        cosigned = StoredCheckpoint(checkpoint.size, note_with_signatures(checkpoint.note, lines))
        return build_receipt(self.log, ORIGIN, Ref("device", DEVICE), self.device_indexes, cosigned)


@pytest.fixture
def ledger() -> Ledger:
    ledger = Ledger()
    for _ in range(5):
        ledger.noise()
    ledger.add(
        "consignment.device_expected",
        Ref("operator", "alice"),
        {"consignment_id": "c-1", "device": DEVICE_DATA},
    )
    return ledger


@pytest.fixture
def released(ledger: Ledger) -> tuple[str, str]:
    """A receipt of a released device and the verifier key."""
    ledger.job(RELEASED_JOB)
    return ledger.receipt(), ledger.verifier


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_certificate_states_the_verified_facts(released: tuple[str, str]) -> None:
    receipt, key = released
    pdf = render_certificate(receipt, key, FACILITY)
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = flat(pdf_text(pdf))
    verified = verify_receipt(receipt, [key])
    root = base64.b64encode(verified.checkpoint.root_hash).decode()
    for fact in (
        "Triage certificate",
        FACILITY,
        ORIGIN,
        DEVICE,
        "Electricity smart meter (ESME)",
        "Acme Metering",
        "E470 SMETS2",
        "3.2.1",
        "North Meter Assets Ltd",
        JOB,
        "eligible",
        "tamper-default version 1.2",
        WORK_ORDER,
        SEAL,
        "RELEASED",
        "device.released",
        "operator carol",
        f"size {verified.checkpoint.size}",
        root,
    ):
        assert fact in text, fact
    released_at = verified.entries[-1][1].at
    assert f"{released_at:%Y-%m-%d %H:%M:%S} UTC by operator carol" in text
    # Only the job's entries are tabled (not the consignment's expectation of the device).
    assert "consignment.device_expected" not in text
    for entry_type, _, _, _ in RELEASED_JOB:
        assert entry_type in text


def test_qr_code_carries_the_receipt_digest_and_its_checkpoint(released: tuple[str, str]) -> None:
    receipt, key = released
    digest = receipt_digest(receipt, verify_receipt(receipt, [key]))
    checkpoint = json.loads(receipt)["checkpoint"]
    assert qr_payload(receipt, key) == f"{digest}\n{checkpoint}"
    assert qr_payload(receipt.encode(), key) == f"{digest}\n{checkpoint}"
    text = flat(pdf_text(render_certificate(receipt.encode(), key, FACILITY)))
    assert digest in text
    assert f"Verify: triage verify RECEIPT --key {key}" in text


def _printed_qr(pdf: bytes, tmp_path: Path) -> str:
    """What a reader scanning the printed certificate's QR code gets (150 dpi, zbarimg)."""
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "certificate.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "page.png"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    return decoded.stdout.strip()


def test_printed_qr_code_decodes_to_the_digest(released: tuple[str, str], tmp_path: Path) -> None:
    receipt, key = released
    decoded = _printed_qr(render_certificate(receipt, key, FACILITY), tmp_path)
    assert decoded == qr_payload(receipt, key).strip()


def test_the_printed_qr_code_s_checkpoint_verifies_with_a_witness_policy(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Issue 21: the QR code carries the cosigned checkpoint: a reader with only the printed
    certificate and the facility's witness policy checks that two witnesses cosigned it."""
    ledger.job(RELEASED_JOB)
    witnesses = [generate_cosigner_key(f"witness-{n}.example.org/w") for n in "ab"]
    policy = parse_policy(
        f"log {ledger.verifier}\n"
        f"witness A {witnesses[0][1]}\nwitness B {witnesses[1][1]}\n"
        "group both all A B\nquorum both\n"
    )
    receipt = ledger.receipt(cosigners=[signer for signer, _ in witnesses])

    decoded = _printed_qr(render_certificate(receipt, ledger.verifier, FACILITY), tmp_path)

    digest, _, checkpoint = decoded.partition("\n")
    assert digest == receipt_digest(receipt, verify_receipt(receipt, [ledger.verifier]))
    witnessed = verify_checkpoint(checkpoint + "\n", policy, ORIGIN)
    assert witnessed.witnesses == ("A", "B")
    assert witnessed.checkpoint == verify_receipt(receipt, [], policy=policy).checkpoint


def test_override_is_shown_with_its_justification(ledger: Ledger) -> None:
    steps = list(RELEASED_JOB)
    steps.insert(
        3,
        (
            "decision.overridden",
            Ref("operator", "sam"),
            "eligible",
            {"seq": 2, "outcome": "eligible", "justification": "seal replaced by the DNO"},
        ),
    )
    ledger.job(steps)
    text = flat(pdf_text(render_certificate(ledger.receipt(), ledger.verifier, FACILITY)))
    assert "by override of operator sam" in text
    assert "seal replaced by the DNO" in text
    assert "tamper-default version 1.2" in text


def test_a_long_job_still_fits_one_page(ledger: Ledger) -> None:
    retries = [step for step in RELEASED_JOB if step[0].startswith("reset.")] * 15
    ledger.job(RELEASED_JOB[:3] + retries + RELEASED_JOB[-2:])
    pdf = render_certificate(ledger.receipt(), ledger.verifier, FACILITY)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = flat(pdf_text(pdf))
    assert "entries not shown: see the receipt" in text
    assert "device.received" in text
    assert "device.released" in text
    assert SEAL in text


def test_device_not_released_is_refused(ledger: Ledger) -> None:
    ledger.job(RELEASED_JOB[:-1])
    with pytest.raises(Conflict, match=r"was not released.*sealed"):
        render_certificate(ledger.receipt(), ledger.verifier, FACILITY)


def test_device_back_in_triage_after_release_is_refused(ledger: Ledger) -> None:
    ledger.job(RELEASED_JOB)
    ledger.job(RELEASED_JOB[:2], job_id="second-job")
    with pytest.raises(Conflict, match="latest triage job second-job is inspected"):
        render_certificate(ledger.receipt(), ledger.verifier, FACILITY)


def test_device_never_received_is_refused(ledger: Ledger) -> None:
    with pytest.raises(Conflict, match="never received"):
        render_certificate(ledger.receipt(), ledger.verifier, FACILITY)


def _tamper(receipt: str, change: Callable[[str], str]) -> str:
    obj = json.loads(receipt)
    item = next(i for i in obj["entries"] if '"seal.fitted"' in i["entry"])
    changed = change(item["entry"])
    assert len(changed) == len(item["entry"]) and changed != item["entry"]
    item["entry"] = changed
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def test_tampered_receipt_is_refused(released: tuple[str, str]) -> None:
    receipt, key = released
    forged = _tamper(receipt, lambda entry: entry.replace(SEAL, SEAL[:-1] + "8"))
    with pytest.raises(VerificationError, match="is not proven in the log"):
        render_certificate(forged, key, FACILITY)
    with pytest.raises(VerificationError):
        qr_payload(forged, key)


def test_wrong_verifier_key_is_refused(released: tuple[str, str]) -> None:
    receipt, _ = released
    _, other_key = generate_key(ORIGIN)
    with pytest.raises(VerificationError):
        render_certificate(receipt, other_key, FACILITY)


def test_certificate_filename() -> None:
    assert certificate_filename(DEVICE) == f"triage-certificate-{DEVICE}.pdf"
    assert certificate_filename("bc33acfffefa553d") == f"triage-certificate-{DEVICE}.pdf"


def test_the_certificate_names_the_line_triage_verify_prints(
    released: tuple[str, str], tmp_path: Path
) -> None:
    receipt, key = released
    text = flat(pdf_text(render_certificate(receipt, key, FACILITY)))
    told = re.search(
        r'prints a line "(\S+) DTR1 \.\.\.": what follows "\1" must equal the line under the QR',
        text,
    )
    assert told is not None, text
    path = tmp_path / "receipt.json"
    path.write_text(receipt)

    run = CliRunner().invoke(cli, ["verify", str(path), "--key", key])  # plain, not --json

    assert run.exit_code == 0, run.output
    label = told.group(1) + " "
    [line] = [line for line in run.stdout.splitlines() if line.startswith(label)]
    shown = line.removeprefix(label)
    assert shown == qr_payload(receipt, key).split("\n")[0]  # the QR code's first line
    assert shown in text  # the line under the QR code


# What the tool read back of a few items before and after the reset (SHA-256 digests).
BEFORE = {
    "mpxn": "1" * 64,
    "tariffs": "2" * 64,
    "security_log": "3" * 64,
    "device_identity": "4" * 64,
}
AFTER = {"mpxn": EMPTY_DIGEST, "tariffs": EMPTY_DIGEST, "security_log": "3" * 64,
         "device_identity": "4" * 64}  # fmt: skip


def _with_read_back(steps: list[tuple[str, Ref, str, dict[str, Any]]]) -> list[Any]:
    """The job's steps with the digests the tool reported on its completed reset."""
    return [
        (t, actor, state, {**extra, "before": BEFORE, "after": AFTER})
        if t == "reset.completed"
        else (t, actor, state, extra)
        for t, actor, state, extra in steps
    ]


def test_the_certificate_lists_each_reset_item_as_cleared_or_kept(ledger: Ledger) -> None:
    ledger.job(_with_read_back(RELEASED_JOB))
    text = flat(pdf_text(render_certificate(ledger.receipt(), ledger.verifier, FACILITY)))
    assert "Cleared (2) mpxn, tariffs" in text
    assert "Kept (2) device_identity, security_log" in text


def test_the_items_listed_are_those_of_the_verified_reset(ledger: Ledger) -> None:
    """A failed attempt read back other digests: the certificate lists the verified one's."""
    failed = ("reset.completed", Ref("tool", "bench-7"), "reset_done",
              {"work_order_id": "first-order", "before": BEFORE, "after": BEFORE})  # fmt: skip
    steps = _with_read_back(RELEASED_JOB)
    ledger.job([*steps[:4], failed, *steps[4:]])
    text = flat(pdf_text(render_certificate(ledger.receipt(), ledger.verifier, FACILITY)))
    assert "Cleared (2) mpxn, tariffs" in text


def test_no_item_list_without_a_read_back(released: tuple[str, str]) -> None:
    receipt, key = released
    text = flat(pdf_text(render_certificate(receipt, key, FACILITY)))
    assert "Cleared (" not in text and "Kept (" not in text


# A job that ended with the device destroyed: damage found, quarantined, destroyed.
DESTROYED_JOB: list[tuple[str, Ref, str, dict[str, Any]]] = [
    *RELEASED_JOB[:3],
    ("device.quarantined", Ref("operator", "sam"), "quarantined",
     {"reason": "case cracked, terminal cover burnt"}),
    ("device.destroyed", Ref("operator", "sam"), "destroyed", {"reference": "WEEE-2026-0042"}),
]  # fmt: skip


def test_certificate_of_destruction_states_who_what_how_and_the_proven_entry(
    ledger: Ledger,
) -> None:
    ledger.job(DESTROYED_JOB)
    receipt = ledger.receipt()
    pdf = render_destruction_certificate(receipt, ledger.verifier, FACILITY)
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = flat(pdf_text(pdf))
    verified = verify_receipt(receipt, [ledger.verifier])
    [(index, destroyed)] = [(i, e) for i, e in verified.entries if e.type == "device.destroyed"]
    root = base64.b64encode(verified.checkpoint.root_hash).decode()
    for fact in (
        "Certificate of destruction",
        "DESTROYED",
        FACILITY,
        ORIGIN,
        DEVICE,
        "Acme Metering",
        "E470 SMETS2",
        JOB,
        f"{destroyed.at:%Y-%m-%d %H:%M:%S} UTC by operator sam",
        "securely destroyed",
        "WEEE-2026-0042",
        "case cracked, terminal cover burnt",
        f"index {index} (device.destroyed)",
        f"size {verified.checkpoint.size}",
        root,
        qr_payload(receipt, ledger.verifier).split("\n")[0],
        f"Verify: triage verify RECEIPT --key {ledger.verifier}",
    ):
        assert fact in text, fact
    assert "RELEASED" not in text


def test_certificate_of_destruction_is_refused_for_a_device_not_destroyed(
    ledger: Ledger,
) -> None:
    ledger.job(RELEASED_JOB)
    with pytest.raises(Conflict, match=r"was not destroyed: .* is released"):
        render_destruction_certificate(ledger.receipt(), ledger.verifier, FACILITY)
    ledger.job(DESTROYED_JOB[:-1], job_id="second-job")
    with pytest.raises(Conflict, match="second-job is quarantined"):
        render_destruction_certificate(ledger.receipt(), ledger.verifier, FACILITY)


def test_a_destroyed_device_has_no_triage_certificate(ledger: Ledger) -> None:
    ledger.job(DESTROYED_JOB)
    with pytest.raises(Conflict, match="only issued for a released device"):
        render_certificate(ledger.receipt(), ledger.verifier, FACILITY)


def test_certificate_of_destruction_only_from_a_receipt_that_verifies(ledger: Ledger) -> None:
    ledger.job(DESTROYED_JOB)
    receipt = ledger.receipt()
    obj = json.loads(receipt)
    item = next(i for i in obj["entries"] if '"device.destroyed"' in i["entry"])
    item["entry"] = item["entry"].replace("WEEE-2026-0042", "WEEE-2026-0043")
    with pytest.raises(VerificationError, match="is not proven in the log"):
        render_destruction_certificate(json.dumps(obj), ledger.verifier, FACILITY)
    _, other_key = generate_key(ORIGIN)
    with pytest.raises(VerificationError):
        render_destruction_certificate(receipt, other_key, FACILITY)


def test_destruction_certificate_filename() -> None:
    assert destruction_certificate_filename("bc33acfffefa553d") == (
        f"certificate-of-destruction-{DEVICE}.pdf"
    )
