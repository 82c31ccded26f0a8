"""The witness's add-checkpoint decision, status by status, as C2SP tlog-witness requires it,
against real checkpoints and consistency proofs of an in-memory log."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.witness.logs import SignedLog
from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, sign_checkpoint
from triage.ledger.cosignature import (
    cosign,
    generate_cosigner_key,
    verify_cosignatures,
)
from triage.ledger.errors import VerificationError
from triage.ledger.rfc6962 import EMPTY_ROOT
from triage.ledger.witness_protocol import (
    SIZE_CONTENT_TYPE,
    origin_hash,
    parse_cosignature_lines,
)
from triage.witness import store as store_module
from triage.witness.errors import WitnessConfigError
from triage.witness.keys import generate_key, load_key
from triage.witness.service import Answer, Witness, follow_log, forget_log
from triage.witness.store import WitnessStore

START = 1_750_000_000


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Bench:
    witness: Witness
    store: WitnessStore
    clock: Clock
    log: SignedLog
    vkey: str

    def add(self, body: bytes) -> Answer:
        return self.witness.add_checkpoint(body)

    def size(self) -> int | None:
        with self.store.transaction() as tx:
            latest = tx.latest(self.log.origin)
        return None if latest is None else latest.size


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    vkey = generate_key(tmp_path, "witness.example/w1")
    store = WitnessStore(tmp_path)
    log = SignedLog().grow(10)
    follow_log(store, log.origin, log.vkey, datetime.now(UTC))
    clock = Clock()
    return Bench(Witness(load_key(tmp_path), store, clock), store, clock, log, vkey)


def _cosigned(bench: Bench, answer: Answer, size: int) -> int:
    """Check a 200 answer is one valid cosignature on the log's checkpoint of ``size``; return
    its timestamp."""
    assert answer.status == 200, answer.body
    lines = parse_cosignature_lines(answer.body)
    assert len(lines) == 1
    signed = bench.log.checkpoint(size) + lines[0]
    text, found = verify_cosignatures(signed, [bench.vkey])
    assert text == note.verify(signed, [bench.log.vkey])
    assert [c.cosigner.name for c in found] == ["witness.example/w1"]
    return found[0].timestamp


def _refused(answer: Answer, status: int, says: str) -> None:
    assert answer.status == status, answer.body
    assert says in answer.body.decode(), answer.body


# -- 200: cosigned, and the state stored


def test_a_first_checkpoint_is_cosigned_from_size_zero_and_becomes_the_state(bench: Bench) -> None:
    answer = bench.add(bench.log.request(0))
    assert _cosigned(bench, answer, 10) == START
    assert bench.size() == 10
    served = bench.witness.checkpoint(origin_hash(bench.log.origin))
    assert served is not None
    # What the monitoring read serves carries the log's signature and the cosignature returned.
    note.verify(served, [bench.log.vkey])
    assert verify_cosignatures(served, [bench.vkey])[1][0].line == answer.body.decode()


def test_a_consistent_bigger_checkpoint_is_cosigned_with_its_proof(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    bench.log.grow(300)
    bench.clock.now = START + 60
    assert _cosigned(bench, bench.add(bench.log.request(10)), 310) == START + 60
    assert bench.size() == 310


def test_the_same_checkpoint_again_gets_a_fresh_cosignature_and_changes_nothing(
    bench: Bench,
) -> None:
    first = bench.add(bench.log.request(0))
    bench.clock.now = START + 5
    again = bench.add(bench.log.request(10))
    assert _cosigned(bench, again, 10) == START + 5
    served = bench.witness.checkpoint(origin_hash(bench.log.origin))
    assert served is not None and served.endswith(first.body.decode())


def test_the_timestamp_is_never_zero(bench: Bench) -> None:
    bench.clock.now = 0.4
    assert _cosigned(bench, bench.add(bench.log.request(0)), 10) == 1


def test_an_empty_log_is_cosigned_at_size_zero(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    generate_key(tmp_path, "witness.example/w1")
    empty = SignedLog()
    follow_log(store, empty.origin, empty.vkey, datetime.now(UTC))
    witness = Witness(load_key(tmp_path), store, Clock())
    assert witness.add_checkpoint(empty.request(0)).status == 200
    assert witness.checkpoint(origin_hash(empty.origin)) is not None


def test_a_second_key_for_an_origin_is_trusted_beside_the_first(bench: Bench) -> None:
    rotated, rotated_vkey = note.generate_key(bench.log.origin)
    follow_log(bench.store, bench.log.origin, rotated_vkey, datetime.now(UTC))
    signed = bench.log.checkpoint(signer=rotated)
    assert bench.add(bench.log.request(0, checkpoint=signed)).status == 200


def test_the_stored_note_keeps_only_the_logs_signatures(bench: Bench) -> None:
    other_signer, other_vkey = generate_cosigner_key("someone.example/w9")
    body = Checkpoint(bench.log.origin, 10, bench.log.root(10))
    signed = sign_checkpoint(body, bench.log.signer)
    signed += cosign(signed[: signed.rindex("\n\n") + 1], other_signer, START)
    assert bench.add(bench.log.request(0, checkpoint=signed)).status == 200
    served = bench.witness.checkpoint(origin_hash(bench.log.origin))
    assert served is not None and "someone.example/w9" not in served
    assert verify_cosignatures(served, [other_vkey])[1] == []


# -- 400: malformed, or an old size above the checkpoint's


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "old size line"),
        (b"old 01\n\nx\n", "not 'old <size>'"),
        (b"old 0\nnot base64!\n\nx\n", "proof line 1"),
        (b"old 0\n", "empty line"),
        ("old 0\n\nno checkpoint here\n\n— facility.example/log AAAA\n".encode(), "checkpoint"),
        (b"old 0\n\nfacility.example/log\n10\n", "blank line"),
    ],
)
def test_a_malformed_request_is_400(bench: Bench, body: bytes, says: str) -> None:
    _refused(bench.add(body), 400, says)
    assert bench.size() is None
    assert bench.store.refusals() == []  # nothing attributable to the log


def test_an_old_size_above_the_checkpoints_is_400_and_kept_as_a_rollback(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    # The log signs an earlier, smaller checkpoint and presents it as following size 10.
    rollback = bench.log.request(10, size=4, proof=())
    _refused(bench.add(rollback), 400, "old size 10 is larger than the checkpoint's size 4")
    assert bench.size() == 10
    [kept] = bench.store.refusals(bench.log.origin)
    assert kept.status == 400 and "ROLLBACK" in kept.reason and kept.body == rollback


# -- 404: an origin the witness does not follow


def test_an_unknown_origin_is_404(bench: Bench) -> None:
    stranger = SignedLog("other.example/log").grow(3)
    _refused(bench.add(stranger.request(0)), 404, "does not follow origin 'other.example/log'")
    assert bench.store.refusals() == []


def test_a_removed_log_is_404_and_its_state_is_kept(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    forget_log(bench.store, bench.log.origin)
    _refused(bench.add(bench.log.request(10)), 404, "does not follow")
    follow_log(bench.store, bench.log.origin, bench.log.vkey, datetime.now(UTC))
    # Following it again resumes from what was cosigned: a fresh start from 0 is a conflict.
    assert bench.add(bench.log.request(0)).status == 409


# -- 403: not signed by the log's key


def test_a_checkpoint_signed_by_another_key_is_403(bench: Bench) -> None:
    impostor, _ = note.generate_key(bench.log.origin)
    signed = bench.log.checkpoint(signer=impostor)
    _refused(bench.add(bench.log.request(0, checkpoint=signed)), 403, "no signature by a known")
    assert bench.size() is None and bench.store.refusals() == []


def test_a_failing_signature_by_the_logs_key_is_403(bench: Bench) -> None:
    signed = bench.log.checkpoint()
    line = signed[signed.rindex("\n\n") + 2 :]
    name, blob = line.removeprefix("— ").split()
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1  # same key name and key ID, broken signature
    forged = signed[: signed.rindex("\n\n") + 2] + f"— {name} {base64.b64encode(raw).decode()}\n"
    _refused(bench.add(bench.log.request(0, checkpoint=forged)), 403, "bad signature")


def test_a_checkpoint_changed_after_signing_is_403(bench: Bench) -> None:
    signed = bench.log.checkpoint()
    changed = signed.replace("\n10\n", "\n11\n", 1)
    _refused(bench.add(bench.log.request(0, size=11, checkpoint=changed)), 403, "bad signature")


# -- 409: the old size is not the one the witness cosigned last


def test_an_old_size_that_is_not_the_cosigned_size_is_409_with_that_size(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    bench.log.grow(5)
    answer = bench.add(bench.log.request(0))
    assert (answer.status, answer.body, answer.content_type) == (409, b"10\n", SIZE_CONTENT_TYPE)
    answer = bench.add(bench.log.request(7))
    assert (answer.status, answer.body) == (409, b"10\n")
    assert bench.size() == 10
    assert [r.status for r in bench.store.refusals(bench.log.origin)] == [409, 409]


def test_a_witness_that_cosigned_nothing_answers_409_with_zero(bench: Bench) -> None:
    answer = bench.add(bench.log.request(4))
    assert (answer.status, answer.body, answer.content_type) == (409, b"0\n", SIZE_CONTENT_TYPE)


# -- 422: inconsistent


def test_size_zero_with_another_root_than_the_empty_trees_is_422(bench: Bench) -> None:
    signed = sign_checkpoint(Checkpoint(bench.log.origin, 0, bytes(32)), bench.log.signer)
    answer = bench.add(bench.log.request(0, size=0, checkpoint=signed))
    _refused(answer, 422, "empty tree's root " + base64.b64encode(EMPTY_ROOT).decode())


def test_a_proof_from_size_zero_is_422(bench: Bench) -> None:
    answer = bench.add(bench.log.request(0, proof=[bytes(32)]))
    _refused(answer, 422, "a proof from size 0 must be empty")
    assert bench.size() is None


def test_a_fork_at_the_same_size_is_422(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    fork = SignedLog(bench.log.origin, bench.log.signer).grow(10, tag="forged")
    _refused(bench.add(fork.request(10)), 422, "FORK")
    assert bench.size() == 10
    [kept] = bench.store.refusals(bench.log.origin)
    assert kept.status == 422 and "FORK" in kept.reason


def test_a_rewritten_history_at_a_bigger_size_is_422(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    # The same key re-signs a different history of 20 entries, with that tree's own proof.
    rewritten = SignedLog(bench.log.origin, bench.log.signer).grow(20, tag="rewritten")
    answer = bench.add(rewritten.request(10))
    _refused(answer, 422, "consistency proof from the cosigned size 10")
    assert bench.size() == 10


def test_a_wrong_proof_for_a_genuine_bigger_checkpoint_is_422(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    bench.log.grow(20)
    proof = list(bench.log.proof(10))
    proof[0] = bytes(32)
    _refused(bench.add(bench.log.request(10, proof=proof)), 422, "does not verify")
    assert bench.size() == 10


def test_the_same_size_with_a_proof_is_422(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    _refused(bench.add(bench.log.request(10, proof=[bytes(32)])), 422, "proof is not empty")


# -- refusals kept as evidence, bounded


def test_refusals_are_bounded_per_log_keeping_the_latest(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_REFUSALS_PER_LOG", 3)
    for old in range(1, 6):
        bench.clock.now = START + old
        assert bench.add(bench.log.request(old)).status == 409
    kept = bench.store.refusals(bench.log.origin)
    assert [r.reason.split(" ")[2] for r in kept] == ["5", "4", "3"]
    assert bench.store.refusal_counts() == {bench.log.origin: 3}


# -- the logs it follows


@pytest.mark.parametrize(
    ("origin", "says"),
    [("", "is empty"), ("a\tb", "control character U+0009"), ("x" * 1025, "longer than")],
)
def test_a_bad_origin_is_refused(bench: Bench, origin: str, says: str) -> None:
    with pytest.raises(WitnessConfigError, match=re.escape(says)):
        follow_log(bench.store, origin, bench.log.vkey, datetime.now(UTC))


def test_a_cosigner_key_is_not_a_log_key(bench: Bench) -> None:
    with pytest.raises(WitnessConfigError, match="log verifier key"):
        follow_log(bench.store, "x.example/log", bench.vkey, datetime.now(UTC))


def test_following_twice_and_forgetting_an_unknown_origin(bench: Bench) -> None:
    assert not follow_log(bench.store, bench.log.origin, bench.log.vkey, datetime.now(UTC))
    with pytest.raises(WitnessConfigError, match="does not follow origin 'nope'"):
        forget_log(bench.store, "nope")


def test_the_served_checkpoint_of_an_unknown_or_malformed_hash_is_none(bench: Bench) -> None:
    assert bench.add(bench.log.request(0)).status == 200
    assert bench.witness.checkpoint(origin_hash("other")) is None
    assert bench.witness.checkpoint(origin_hash(bench.log.origin).upper()) is None
    assert bench.witness.checkpoint("../witness.db") is None


def test_a_cosignature_does_not_verify_for_another_checkpoint(bench: Bench) -> None:
    answer = bench.add(bench.log.request(0))
    bench.log.grow(1)
    with pytest.raises(VerificationError, match="bad cosignature"):
        verify_cosignatures(bench.log.checkpoint(11) + answer.body.decode(), [bench.vkey])
