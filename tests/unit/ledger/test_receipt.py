"""Receipts: one device's entries with inclusion proofs, checkable offline by anyone."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from triage.ledger import note
from triage.ledger.cosignature import cosign, generate_cosigner_key, note_with_signatures
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import VerificationError
from triage.ledger.log import Log, StoredCheckpoint
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.policy import Policy, parse_policy
from triage.ledger.receipt import (
    MAX_RECEIPT_BYTES,
    RECEIPT_FORMAT,
    build_receipt,
    receipt_digest,
    verify_receipt,
)

ORIGIN = "triage.example/ledger"
DEVICE_A = Ref("device", "BC-33-AC-FF-FE-FA-55-3D")
DEVICE_B = Ref("device", "00-11-22-33-44-55-66-77")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TYPES = ["device.received", "device.inspected", "device.decided", "reset.authorised"]
# Device A's entries sit at even indexes, device B's at odd ones, so A's receipt has gaps.
A_INDEXES = [0, 2, 4, 6, 8]
B_INDEXES = [1, 3, 5, 7, 9]


def _entry(n: int, subject: Ref) -> Entry:
    return Entry(
        type=TYPES[(n // 2) % len(TYPES)],
        at=START + timedelta(minutes=n),
        actor=Ref("operator", "alice"),
        facility="triage.example",
        subject=subject,
        data={"step": n},
    )


class Ledger:
    """A small log about two devices with a signed checkpoint over all of it."""

    def __init__(self) -> None:
        self.signer, self.verifier = note.generate_key(ORIGIN)
        self.log = Log(MemoryLogStorage())
        self.entries = [_entry(n, DEVICE_A if n % 2 == 0 else DEVICE_B) for n in range(10)]
        self.log.append([e.to_bytes() for e in self.entries])
        self.checkpoint = self.log.issue_checkpoint(ORIGIN, self.signer)

    def receipt(self, subject: Ref = DEVICE_A, indexes: list[int] = A_INDEXES) -> str:
        return build_receipt(self.log, ORIGIN, subject, indexes, self.checkpoint)


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger()


def _edit(receipt: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(receipt)
    return obj


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def _refused(receipt: str | bytes, ledger: Ledger, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        verify_receipt(receipt, [ledger.verifier])


# --- accepted ---------------------------------------------------------------------------------


def test_receipt_verifies_and_returns_exactly_the_devices_entries_in_order(
    ledger: Ledger,
) -> None:
    verified = verify_receipt(ledger.receipt(), [ledger.verifier])
    assert verified.origin == ORIGIN
    assert verified.subject == DEVICE_A
    assert verified.checkpoint.size == 10
    assert verified.checkpoint.root_hash == ledger.log.head().root
    assert verified.entries == [(i, ledger.entries[i]) for i in A_INDEXES]


def test_receipt_for_the_other_device_has_only_its_entries(ledger: Ledger) -> None:
    verified = verify_receipt(ledger.receipt(DEVICE_B, B_INDEXES), [ledger.verifier])
    assert verified.entries == [(i, ledger.entries[i]) for i in B_INDEXES]


def test_receipt_verifies_from_bytes_too(ledger: Ledger) -> None:
    verified = verify_receipt(ledger.receipt().encode(), [ledger.verifier])
    assert [i for i, _ in verified.entries] == A_INDEXES


def test_receipt_verifies_against_a_later_checkpoint(ledger: Ledger) -> None:
    later = Ledger()
    later.log.append([_entry(n, DEVICE_B).to_bytes() for n in range(10, 300)])
    checkpoint = later.log.issue_checkpoint(ORIGIN, later.signer)
    receipt = build_receipt(later.log, ORIGIN, DEVICE_A, A_INDEXES, checkpoint)
    verified = verify_receipt(receipt, [later.verifier])
    assert verified.checkpoint.size == 300
    assert verified.entries == [(i, later.entries[i]) for i in A_INDEXES]


def test_build_refuses_entries_beyond_the_checkpoint(ledger: Ledger) -> None:
    small = StoredCheckpoint(4, ledger.checkpoint.note)
    with pytest.raises(ValueError, match="does not cover entry 4"):
        build_receipt(ledger.log, ORIGIN, DEVICE_A, [0, 2, 4], small)


def test_a_receipt_proves_inclusion_not_completeness(ledger: Ledger) -> None:
    # An entry removed from the middle leaves every other proof intact, so the receipt still
    # verifies, with fewer entries: a receipt shows that these entries are in the log, never that
    # they are all the device's entries. Whoever relies on completeness must ask the ledger.
    obj = _edit(ledger.receipt())
    del obj["entries"][2]
    verified = verify_receipt(_dump(obj), [ledger.verifier])
    assert [i for i, _ in verified.entries] == [0, 2, 6, 8]


# --- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize("position", range(len(A_INDEXES)))
def test_entry_text_altered_by_one_character_is_refused_naming_it(
    ledger: Ledger, position: int
) -> None:
    obj = _edit(ledger.receipt())
    item = obj["entries"][position]
    item["entry"] = item["entry"].replace("alice", "alicf")
    _refused(_dump(obj), ledger, f"entry {item['index']} is not proven in the log")


def test_entry_moved_to_another_index_is_refused(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"][1]["index"] = 1
    _refused(_dump(obj), ledger, "entry 1 is not proven in the log")


def test_entry_of_the_other_device_with_its_own_valid_proof_is_refused(ledger: Ledger) -> None:
    theirs = _edit(ledger.receipt(DEVICE_B, B_INDEXES))["entries"][1]
    assert theirs["index"] == 3
    obj = _edit(ledger.receipt())
    obj["entries"][2] = theirs  # between indexes 2 and 6, so the order still holds
    _refused(_dump(obj), ledger, f"entry 3 is about device {DEVICE_B.id}, not device {DEVICE_A.id}")


def test_receipt_relabelled_to_the_other_device_is_refused(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["subject"] = DEVICE_B.to_json()
    _refused(_dump(obj), ledger, f"entry 0 is about device {DEVICE_A.id}")


@pytest.mark.parametrize("hash_position", [0, -1])
def test_proof_hash_altered_is_refused_naming_the_entry(ledger: Ledger, hash_position: int) -> None:
    obj = _edit(ledger.receipt())
    item = obj["entries"][3]
    raw = bytearray(base64.b64decode(item["proof"][hash_position]))
    raw[0] ^= 0x01
    item["proof"][hash_position] = base64.b64encode(bytes(raw)).decode()
    _refused(_dump(obj), ledger, f"entry {item['index']} is not proven in the log")


def test_proof_hash_missing_is_refused_naming_the_entry(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"][1]["proof"].pop()
    _refused(_dump(obj), ledger, "entry 2 is not proven in the log")


def test_proof_not_base64_is_refused_naming_the_entry(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"][1]["proof"][0] = "not base64!"
    _refused(_dump(obj), ledger, "receipt entry 2: proof is not base64")


def test_entries_out_of_order_are_refused(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"][1], obj["entries"][2] = obj["entries"][2], obj["entries"][1]
    _refused(_dump(obj), ledger, "not in increasing index order at 2")


def test_entry_repeated_is_refused(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"].insert(1, obj["entries"][0])
    _refused(_dump(obj), ledger, "not in increasing index order at 0")


def test_index_beyond_the_checkpoint_is_refused(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"][-1]["index"] = 10
    _refused(_dump(obj), ledger, "entry 10 is not proven in the log")


@pytest.mark.parametrize("index", [-1, "2", True, None, 2.0])
def test_entry_without_a_valid_index_is_refused(ledger: Ledger, index: object) -> None:
    obj = _edit(ledger.receipt())
    obj["entries"][1]["index"] = index
    _refused(_dump(obj), ledger, "receipt entry 1 has no valid index")


def test_checkpoint_signed_by_another_key_is_refused(ledger: Ledger) -> None:
    impostor = Ledger()
    obj = _edit(ledger.receipt())
    obj["checkpoint"] = impostor.checkpoint.note
    _refused(_dump(obj), ledger, "no signature by a known key")


def test_receipt_built_by_another_facility_is_refused(ledger: Ledger) -> None:
    _refused(Ledger().receipt(), ledger, "no signature by a known key")


def test_checkpoint_of_another_origin_is_refused() -> None:
    # Same key, another log: its checkpoint must not vouch for this log's entries.
    ledger = Ledger()
    other = ledger.log.issue_checkpoint("other.example/ledger", ledger.signer)
    receipt = build_receipt(ledger.log, ORIGIN, DEVICE_A, A_INDEXES, other)
    _refused(receipt, ledger, "checkpoint origin 'other.example/ledger' is not")


def test_receipt_claiming_another_origin_is_refused(ledger: Ledger) -> None:
    obj = _edit(ledger.receipt())
    obj["origin"] = "other.example/ledger"
    _refused(_dump(obj), ledger, "is not 'other.example/ledger'")


@pytest.mark.parametrize("data", ["", "{", "receipt", b"\xff\xfe{}", "[1, 2"])
def test_receipt_that_is_not_json_is_refused(ledger: Ledger, data: str | bytes) -> None:
    _refused(data, ledger, r"^receipt: not valid (JSON|UTF-8)")


def test_deeply_nested_json_is_refused(ledger: Ledger) -> None:
    _refused("[" * 100_000, ledger, "receipt: nested deeper than 32 levels at line 1, column 33")


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o.pop("format"),
        lambda o: o.update(format="device-triage/receipt/v2"),
        lambda o: o.update(format="device-triage/work-order/v1"),
    ],
)
def test_receipt_in_the_wrong_format_is_refused(ledger: Ledger, change: Any) -> None:
    obj = _edit(ledger.receipt())
    change(obj)
    _refused(_dump(obj), ledger, f"not a receipt in the format {RECEIPT_FORMAT}")


@pytest.mark.parametrize("data", ["[]", '"receipt"', "null"])
def test_json_that_is_not_an_object_is_refused(ledger: Ledger, data: str) -> None:
    _refused(data, ledger, "not a receipt in the format")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("subject", None, "receipt subject is missing"),
        ("subject", {"kind": "device"}, "receipt id is missing"),
        ("origin", "", "receipt origin is missing"),
        ("checkpoint", 7, "receipt checkpoint is missing"),
        ("entries", [], "receipt has no entries"),
        ("entries", {}, "receipt has no entries"),
        ("entries", ["entry"], "receipt entry 0 is not an object"),
    ],
)
def test_receipt_with_missing_parts_is_refused(
    ledger: Ledger, field: str, value: object, problem: str
) -> None:
    obj = _edit(ledger.receipt())
    obj[field] = value
    _refused(_dump(obj), ledger, problem)


def test_oversized_receipt_is_refused_before_it_is_parsed(ledger: Ledger) -> None:
    receipt = ledger.receipt()
    padded = receipt + " " * (MAX_RECEIPT_BYTES + 1 - len(receipt))
    _refused(padded, ledger, "^receipt: larger than 16 MiB$")
    _refused(padded.encode(), ledger, "^receipt: larger than 16 MiB$")


def test_receipt_of_exactly_the_limit_is_not_refused_for_size(ledger: Ledger) -> None:
    receipt = ledger.receipt()
    padded = receipt + " " * (MAX_RECEIPT_BYTES - len(receipt))
    verified = verify_receipt(padded, [ledger.verifier])
    assert [i for i, _ in verified.entries] == A_INDEXES


def test_proven_bytes_that_are_not_an_entry_are_refused_naming_the_index() -> None:
    ledger = Ledger()
    ledger.log.append([b"not an entry"])
    checkpoint = ledger.log.issue_checkpoint(ORIGIN, ledger.signer)
    receipt = build_receipt(ledger.log, ORIGIN, DEVICE_A, [10], checkpoint)
    _refused(receipt, ledger, "entry 10")


# --- digest -----------------------------------------------------------------------------------


def test_receipt_digest_names_subject_size_and_root(ledger: Ledger) -> None:
    receipt = ledger.receipt()
    verified = verify_receipt(receipt, [ledger.verifier])
    digest = receipt_digest(receipt, verified)
    root = base64.urlsafe_b64encode(ledger.log.head().root).decode().rstrip("=")
    words = digest.split(" ")
    assert words[:5] == ["DTR1", ORIGIN, f"device:{DEVICE_A.id}", "10", root]
    assert len(words) == 6
    assert receipt_digest(receipt.encode(), verified) == digest


def test_receipt_digest_changes_when_any_byte_changes(ledger: Ledger) -> None:
    raw = ledger.receipt().encode()
    verified = verify_receipt(raw, [ledger.verifier])
    original = receipt_digest(raw, verified)
    seen = {original}
    for position in range(len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x20
        seen.add(receipt_digest(bytes(changed), verified))
    assert len(seen) == len(raw) + 1


def test_receipt_digest_differs_between_devices(ledger: Ledger) -> None:
    digests = set()
    for subject, indexes in ((DEVICE_A, A_INDEXES), (DEVICE_B, B_INDEXES)):
        receipt = ledger.receipt(subject, indexes)
        digests.add(receipt_digest(receipt, verify_receipt(receipt, [ledger.verifier])))
    assert len(digests) == 2


# --- witnessed receipts -----------------------------------------------------------------------

WITNESS_TIME = 1_772_442_000


class Witnessed:
    """The ledger's log with two witnesses' keys, and receipts whose checkpoint they cosign."""

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.keys = {
            name: generate_cosigner_key(f"witness.example/{name}") for name in ("a", "b", "c")
        }

    def policy(self, quorum: str = "group both all a b\nquorum both", log: bool = True) -> Policy:
        lines = [f"log {self.ledger.verifier}"] if log else []
        lines += [f"witness {name} {self.keys[name][1]}" for name in ("a", "b")]
        return parse_policy("\n".join([*lines, quorum]) + "\n")

    def receipt(self, *cosigners: str, extra: tuple[str, ...] = ()) -> str:
        stored = self.ledger.checkpoint
        body = note.verify(stored.note, [self.ledger.verifier])
        lines = [cosign(body, self.keys[name][0], WITNESS_TIME) for name in cosigners]
        cosigned = StoredCheckpoint(
            stored.size, note_with_signatures(stored.note, [*lines, *extra])
        )
        return build_receipt(self.ledger.log, ORIGIN, DEVICE_A, A_INDEXES, cosigned)


@pytest.fixture(scope="module")
def witnessed() -> Witnessed:
    return Witnessed()


def test_a_receipt_cosigned_by_two_witnesses_verifies_with_a_2_of_2_policy_alone(
    witnessed: Witnessed,
) -> None:
    # No verifier key and no kept checkpoint: the policy's log line and its quorum suffice.
    verified = verify_receipt(witnessed.receipt("a", "b"), [], witnessed.policy())
    assert verified.witnesses == ("a", "b")
    assert verified.checkpoint.size == 10
    assert verified.entries == [(i, witnessed.ledger.entries[i]) for i in A_INDEXES]


def test_the_given_verifier_key_stands_for_the_policys_log_line(witnessed: Witnessed) -> None:
    policy = witnessed.policy(log=False)
    verified = verify_receipt(witnessed.receipt("b", "a"), [witnessed.ledger.verifier], policy)
    assert verified.witnesses == ("a", "b")
    with pytest.raises(VerificationError, match="the policy names no log"):
        verify_receipt(witnessed.receipt("a", "b"), [], policy)


def test_a_receipt_one_cosignature_short_is_refused_naming_the_quorum(
    witnessed: Witnessed,
) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_receipt(witnessed.receipt("a"), [], witnessed.policy())
    assert str(caught.value) == (
        "the checkpoint of size 10 is not cosigned by a quorum of the policy's witnesses: "
        "quorum both: 2 of (a, b); cosigned by a: not met"
    )


def test_a_receipt_with_a_forged_cosignature_is_refused(witnessed: Witnessed) -> None:
    good = witnessed.receipt("a", "b")
    obj = _edit(good)
    lines = obj["checkpoint"].split("\n")
    b_line = next(line for line in lines if line.startswith("— witness.example/b "))
    blob = bytearray(base64.b64decode(b_line.split(" ")[2]))
    blob[20] ^= 0x01  # a bit of the signature
    forged = f"— witness.example/b {base64.b64encode(bytes(blob)).decode()}"
    obj["checkpoint"] = obj["checkpoint"].replace(b_line, forged)
    with pytest.raises(VerificationError, match=r"bad cosignature by witness\.example/b\+"):
        verify_receipt(_dump(obj), [], witnessed.policy())


def test_a_cosignature_by_a_witness_outside_the_policy_does_not_count(
    witnessed: Witnessed,
) -> None:
    receipt = witnessed.receipt("a", "c")
    with pytest.raises(VerificationError, match="cosigned by a: not met"):
        verify_receipt(receipt, [], witnessed.policy())
    # A quorum the outsider is not needed for is still met with it present.
    verified = verify_receipt(receipt, [], witnessed.policy("quorum a"))
    assert verified.witnesses == ("a",)


def test_a_receipt_whose_checkpoint_was_signed_by_another_key_is_refused_by_the_policy(
    witnessed: Witnessed,
) -> None:
    other = Witnessed()
    other.keys = witnessed.keys  # the same witnesses cosigned another log's checkpoint
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_receipt(other.receipt("a", "b"), [], witnessed.policy())


def test_cosignatures_change_nothing_without_a_policy(witnessed: Witnessed) -> None:
    plain = verify_receipt(witnessed.ledger.receipt(), [witnessed.ledger.verifier])
    cosigned = verify_receipt(witnessed.receipt("a", "b", "c"), [witnessed.ledger.verifier])
    assert plain.witnesses == cosigned.witnesses == ()
    assert plain.entries == cosigned.entries and plain.checkpoint == cosigned.checkpoint


def test_quorum_none_verifies_a_receipt_without_cosignatures(witnessed: Witnessed) -> None:
    verified = verify_receipt(witnessed.ledger.receipt(), [], witnessed.policy("quorum none"))
    assert verified.witnesses == ()
