"""Issue 21: the facility's witnessing (policy as data, gathering cosignatures, publishing them,
the quorum alert) against the fake unit of work and witnesses held in memory that follow C2SP
tlog-witness (old size, consistency proof, 409 with their size, 422 on a bad proof)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import administrator, auditor, security_manager
from tests.unit.services.ledger_seed import SIGNER, VERIFIER, grow, kept_factory, tamper
from tests.unit.services.security_seed import ORIGIN
from triage.errors import Conflict, IntegrityFailure, InvalidInput, NotFound, PermissionDenied
from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint, sign_checkpoint
from triage.ledger.cosignature import cosign, generate_cosigner_key
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import VerificationError
from triage.ledger.export import verify_export
from triage.ledger.log import StoredCheckpoint
from triage.ledger.policy import check_quorum, parse_policy, verify_checkpoint
from triage.ledger.receipt import verify_receipt
from triage.ledger.rfc6962 import verify_consistency
from triage.ledger.witness_protocol import SIZE_CONTENT_TYPE, parse_add_checkpoint
from triage.services import history, ledger, witnessing
from triage.services.ports import WitnessUnreachable

URL_A = "http://witness-a.example:8100"
URL_B = "https://witness-b.example/prefix"


@dataclass
class MemoryWitness:
    """A tlog-witness for the facility's log, in memory: it keeps the latest size and root it
    cosigned and answers as the spec says."""

    name: str
    log_key: str = VERIFIER
    size: int = 0
    root: bytes = b""
    now: int = 1_800_000_000
    signer: str = ""
    vkey: str = ""
    received: list[int] = field(default_factory=list)  # the old size of each request

    def __post_init__(self) -> None:
        self.signer, self.vkey = generate_cosigner_key(self.name)

    def answer(self, body: bytes) -> tuple[int, str, bytes]:
        request = parse_add_checkpoint(body)
        self.received.append(request.old_size)
        try:
            text = note.verify(request.checkpoint, [self.log_key])
        except VerificationError as exc:
            return 403, "text/plain", f"not signed by the log: {exc}\n".encode()
        checkpoint = parse_checkpoint(text)
        if request.old_size > checkpoint.size:
            return 400, "text/plain", b"old size beyond the checkpoint\n"
        if request.old_size != self.size:
            return 409, SIZE_CONTENT_TYPE, f"{self.size}\n".encode()
        try:
            if self.size == checkpoint.size:
                if checkpoint.root_hash != self.root:
                    raise VerificationError("same size, another root")
            elif self.size > 0:
                verify_consistency(
                    self.size, checkpoint.size, request.proof, self.root, checkpoint.root_hash
                )
            elif request.proof:
                raise VerificationError("a proof from the empty tree")
        except VerificationError as exc:
            return 422, "text/plain", f"inconsistent: {exc}\n".encode()
        self.size, self.root = checkpoint.size, checkpoint.root_hash
        self.now += 1
        return 200, "text/plain", cosign(text, self.signer, self.now).encode()


@dataclass
class Witnesses:
    """``WitnessClient`` over the memory witnesses by URL; a URL may instead be down (refuses
    every connection) or answer through a function of the test's."""

    by_url: dict[str, MemoryWitness] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    answers: dict[str, Callable[[bytes], tuple[int, str, bytes]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def add_checkpoint(self, url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
        self.asked.append(url)
        if url in self.down:
            raise WitnessUnreachable(f"{url}: connection refused")
        if url in self.answers:
            return self.answers[url](body)
        return self.by_url[url].answer(body)


@dataclass
class Setup:
    factory: FakeUnitOfWorkFactory
    a: MemoryWitness
    b: MemoryWitness
    client: Witnesses


def _no_sleep(seconds: float) -> None:
    """Backoffs in these tests are skipped (the bound is what stops the retries)."""


def policy_text(a: MemoryWitness, b: MemoryWitness, quorum: str = "all") -> str:
    return (
        "# the facility's witnesses\n"
        f"witness A {a.vkey} {URL_A}\n"
        f"witness B {b.vkey} {URL_B}\n"
        f"group both {quorum} A B\n"
        "quorum both\n"
    )


def _setup(quorum: str = "all", **settings: int) -> Setup:
    factory = kept_factory()
    a, b = MemoryWitness("witness-a.example/w"), MemoryWitness("witness-b.example/w")
    client = Witnesses({URL_A: a, URL_B: b})
    factory.witnesses = client
    grow(factory, 5)
    witnessing.set_policy(factory, administrator(), policy_text(a, b, quorum), VERIFIER, **settings)
    return Setup(factory, a, b, client)


def _gather(setup: Setup, bound: float | None = None) -> list[witnessing.WitnessOutcome]:
    return witnessing.gather(
        setup.factory, security_manager(), setup.client, ORIGIN, bound=bound, sleep=_no_sleep
    )


def _checkpoint(factory: FakeUnitOfWorkFactory) -> StoredCheckpoint:
    return ledger.issue_checkpoint(factory, security_manager(), ORIGIN, SIGNER)


def _published(factory: FakeUnitOfWorkFactory) -> str:
    with factory(write=False) as uow:
        found = witnessing.published_checkpoint(uow)
    assert found is not None
    return found


def _policy(factory: FakeUnitOfWorkFactory) -> witnessing.WitnessPolicy:
    return witnessing.current_policy(factory, auditor())


# -- the policy ---------------------------------------------------------------------------------


def test_the_policy_is_recorded_with_the_facility_s_log_line_first() -> None:
    setup = _setup(alert_after_minutes=30, timeout_seconds=2, attempts=4)

    found = _policy(setup.factory)

    assert found.text == f"log {VERIFIER}\n" + policy_text(setup.a, setup.b)
    assert (found.alert_after_minutes, found.timeout_seconds, found.attempts) == (30, 2, 4)
    assert found.set_by == "adm"
    assert [w.name for w in found.policy.witnesses] == ["A", "B"]
    assert found.policy.log_vkeys() == [VERIFIER]
    [entry] = [e for e in setup.factory.entries() if e.type == witnessing.POLICY_SET]
    assert entry.subject == Ref("ledger", setup.factory.facility_id)
    assert entry.data["policy"] == found.text
    assert found.to_json()["witnesses"][1] == {"name": "B", "key": setup.b.vkey, "url": URL_B}
    # What a verifier is handed parses on its own.
    assert parse_policy(found.text).quorum == "both"


def test_the_defaults_and_the_latest_policy_wins() -> None:
    setup = _setup()
    assert (_policy(setup.factory).alert_after_minutes, _policy(setup.factory).attempts) == (60, 3)
    c = MemoryWitness("witness-c.example/w")
    witnessing.set_policy(
        setup.factory, administrator(), f"witness C {c.vkey} {URL_A}\nquorum C\n", VERIFIER
    )
    assert [w.name for w in _policy(setup.factory).policy.witnesses] == ["C"]
    with setup.factory(write=False) as uow:
        found = witnessing.policy(uow)
    assert found is not None and found.policy.quorum == "C"


def test_no_policy_is_witnessing_off() -> None:
    factory = kept_factory()
    grow(factory, 2)
    _checkpoint(factory)
    with pytest.raises(NotFound, match="no witness policy is set"):
        witnessing.current_policy(factory, auditor())
    client = Witnesses()
    assert witnessing.gather(factory, security_manager(), client, ORIGIN) == []
    assert client.asked == []
    assert witnessing.sweep_quorum(factory, factory.clock.now() + timedelta(days=9)) is None
    shown = witnessing.status(factory, auditor())
    assert (shown.policy, shown.witnesses) == (None, ())
    assert "witnessing is off" in shown.explanation


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("witness A {a} {url}\nquorum B\n", "policy line 2: quorum 'B' is not a witness"),
        ("log {log}\nwitness A {a} {url}\nquorum A\n", "line 1: a log line"),
        ("witness A {a} ftp://w.example\nquorum A\n", "line 1: witness A: the URL"),
        ("witness A {log} {url}\nquorum A\n", "witness A key"),
        ("\nwitness A {a} {url}\nwitness B {a} {url}\nquorum A\n", "policy line 3:"),
    ],
)
def test_a_bad_policy_is_refused_naming_its_line_and_nothing_is_recorded(
    text: str, said: str
) -> None:
    factory = kept_factory()
    a = MemoryWitness("witness-a.example/w")
    before = factory.entry_types()
    with pytest.raises(InvalidInput, match=said) as refused:
        witnessing.set_policy(
            factory,
            administrator(),
            text.format(a=a.vkey, url=URL_A, log=VERIFIER),
            VERIFIER,
        )
    assert refused.value.field == "policy"
    assert factory.entry_types() == before


def test_the_settings_are_bounded_and_the_same_policy_twice_is_refused() -> None:
    setup = _setup()
    text = policy_text(setup.a, setup.b)
    for name in ("alert_after_minutes", "timeout_seconds", "attempts"):
        with pytest.raises(InvalidInput, match=name):
            witnessing.set_policy(setup.factory, administrator(), text, VERIFIER, **{name: 0})
    with pytest.raises(Conflict, match="already the witness policy in force"):
        witnessing.set_policy(setup.factory, administrator(), text, VERIFIER)
    witnessing.set_policy(setup.factory, administrator(), text, VERIFIER, attempts=2)
    assert _policy(setup.factory).attempts == 2


def test_only_an_administrator_sets_the_policy_and_readers_read_it() -> None:
    setup = _setup()
    with pytest.raises(PermissionDenied):
        witnessing.set_policy(
            setup.factory, security_manager(), policy_text(setup.a, setup.b), VERIFIER
        )
    assert _policy(setup.factory).policy.quorum == "both"


def test_a_witness_without_url_is_allowed_and_never_contacted() -> None:
    setup = _setup()
    text = f"witness A {setup.a.vkey} {URL_A}\nwitness Q {setup.b.vkey}\nquorum A\n"
    witnessing.set_policy(setup.factory, administrator(), text, VERIFIER)
    _checkpoint(setup.factory)

    outcomes = {o.witness: o for o in _gather(setup)}

    assert outcomes["Q"].outcome == witnessing.NO_URL
    assert outcomes["A"].outcome == witnessing.COSIGNED
    assert setup.client.asked == [URL_A]


# -- gathering ----------------------------------------------------------------------------------


def test_both_witnesses_cosign_the_checkpoint_and_it_is_published_with_the_quorum() -> None:
    setup = _setup()
    stored = _checkpoint(setup.factory)

    outcomes = _gather(setup)

    assert [(o.witness, o.outcome, o.size) for o in outcomes] == [
        ("A", "cosigned", stored.size),
        ("B", "cosigned", stored.size),
    ]
    assert all(o.cosigned for o in outcomes)
    assert (setup.a.received, setup.b.received) == ([0], [0])
    published = _published(setup.factory)
    witnessed = verify_checkpoint(published, _policy(setup.factory).policy, ORIGIN)
    assert witnessed.witnesses == ("A", "B")
    assert witnessed.checkpoint.size == stored.size
    # The published note still opens with the facility's key alone (cosignatures are ignored).
    assert open_checkpoint(published, [VERIFIER], ORIGIN).size == stored.size
    with setup.factory(write=False) as uow:
        assert len(uow.cosignatures.for_size(stored.size)) == 2
        assert witnessing.cosigned_note(uow, stored) == published
    # Nothing was recorded in the ledger for it.
    assert witnessing.POLICY_SET in setup.factory.entry_types()
    assert not [t for t in setup.factory.entry_types() if "cosign" in t]


def test_a_witness_that_cosigned_is_not_asked_again() -> None:
    setup = _setup()
    _checkpoint(setup.factory)
    _gather(setup)
    setup.client.asked.clear()

    outcomes = _gather(setup)

    assert [o.outcome for o in outcomes] == [witnessing.ALREADY, witnessing.ALREADY]
    assert setup.client.asked == []


def test_the_next_checkpoint_is_sent_with_a_proof_from_the_size_each_witness_cosigned() -> None:
    setup = _setup()
    first = _checkpoint(setup.factory)
    _gather(setup)
    grow(setup.factory, 7)
    second = _checkpoint(setup.factory)

    outcomes = _gather(setup)

    assert [o.outcome for o in outcomes] == ["cosigned", "cosigned"]
    # The memory witnesses checked the consistency proof from the first size.
    assert setup.a.received == [0, first.size]
    assert (setup.a.size, setup.b.size) == (second.size, second.size)
    assert verify_checkpoint(_published(setup.factory), _policy(setup.factory).policy).witnesses


def test_a_witness_down_is_an_outcome_and_the_other_still_cosigns() -> None:
    setup = _setup(attempts=3)
    setup.client.down.add(URL_B)
    _checkpoint(setup.factory)

    outcomes = {o.witness: o for o in _gather(setup)}

    assert outcomes["A"].outcome == witnessing.COSIGNED
    assert outcomes["B"].outcome == witnessing.UNREACHABLE
    assert "after 3 attempt(s)" in outcomes["B"].detail
    assert "connection refused" in outcomes["B"].detail
    assert setup.client.asked.count(URL_B) == 3
    witnessed = check_quorum(_published(setup.factory), _policy(setup.factory).policy)
    assert (witnessed.witnesses, witnessed.quorum_met) == (("A",), False)


def test_a_server_error_is_retried_and_a_later_answer_counts() -> None:
    setup = _setup()
    _checkpoint(setup.factory)
    errors = iter([(503, "text/plain", b"busy\n")])

    def flaky(body: bytes) -> tuple[int, str, bytes]:
        return next(errors, None) or setup.b.answer(body)

    setup.client.answers[URL_B] = flaky

    outcomes = {o.witness: o for o in _gather(setup)}

    assert outcomes["B"].outcome == witnessing.COSIGNED
    assert setup.client.asked.count(URL_B) == 2


def test_a_409_with_a_smaller_size_is_resent_once_from_that_size() -> None:
    setup = _setup()
    first = _checkpoint(setup.factory)
    _gather(setup)
    grow(setup.factory, 4)
    _checkpoint(setup.factory)
    # The facility lost what it knew of B (a restored database): it asks from size 0.
    with setup.factory(write=True) as uow:
        uow.cosignatures.stored = {
            k: v for k, v in uow.cosignatures.stored.items() if k[1] != setup.b.name
        }
        uow.commit()

    outcomes = {o.witness: o for o in _gather(setup)}

    assert outcomes["B"].outcome == witnessing.COSIGNED
    assert setup.b.received == [0, 0, first.size]


def test_a_witness_that_saw_a_larger_tree_is_a_rollback_not_retried() -> None:
    setup = _setup()
    stored = _checkpoint(setup.factory)
    setup.b.size = stored.size + 10

    outcomes = {o.witness: o for o in _gather(setup)}

    assert outcomes["B"].outcome == witnessing.ROLLBACK
    assert outcomes["B"].witness_size == stored.size + 10
    assert outcomes["B"].detail == (
        f"the witness has seen a larger tree ({stored.size + 10}): this checkpoint "
        f"(size {stored.size}) would be a rollback"
    )
    assert setup.client.asked.count(URL_B) == 1
    # The same checkpoint is not sent to it again.
    assert _gather(setup)[1].outcome == witnessing.ROLLBACK
    assert setup.client.asked.count(URL_B) == 1


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_a_refusal_names_its_status_and_the_witness_s_text(status: int) -> None:
    setup = _setup()
    _checkpoint(setup.factory)
    setup.client.answers[URL_B] = lambda body: (status, "text/plain", b"unknown log, sorry\n")

    outcomes = {o.witness: o for o in _gather(setup)}

    found = outcomes["B"]
    assert found.outcome == (witnessing.INCONSISTENT if status == 422 else witnessing.REFUSED)
    assert f"refused with {status}" in found.detail
    assert "unknown log, sorry" in found.detail
    assert setup.client.asked.count(URL_B) == 1
    with setup.factory(write=False) as uow:
        [attempt] = [a for a in uow.cosignatures.attempts() if a.key_name == setup.b.name]
    assert attempt.outcome == found.outcome and "unknown log, sorry" in attempt.detail


def test_a_cosignature_that_does_not_verify_is_not_stored() -> None:
    setup = _setup()
    stored = _checkpoint(setup.factory)
    impostor, _ = generate_cosigner_key(setup.b.name)  # same name, another key

    def forged(body: bytes) -> tuple[int, str, bytes]:
        text = note.verify(parse_add_checkpoint(body).checkpoint, [VERIFIER])
        return 200, "text/plain", cosign(text, impostor, 1_800_000_000).encode()

    setup.client.answers[URL_B] = forged
    setup.client.answers[URL_A] = lambda body: (200, "text/plain", b"not a signature\n")

    outcomes = {o.witness: o for o in _gather(setup)}

    assert outcomes["B"].outcome == witnessing.INVALID
    assert outcomes["A"].outcome == witnessing.INVALID
    with setup.factory(write=False) as uow:
        assert uow.cosignatures.for_size(stored.size) == []


def test_a_witness_that_hangs_is_given_up_within_the_bound() -> None:
    setup = _setup()
    _checkpoint(setup.factory)
    release = threading.Event()

    def hang(body: bytes) -> tuple[int, str, bytes]:
        release.wait(30)
        return 500, "text/plain", b"too late\n"

    setup.client.answers[URL_B] = hang
    try:
        outcomes = {o.witness: o for o in _gather(setup, bound=0.05)}
    finally:
        release.set()

    assert outcomes["A"].outcome == witnessing.COSIGNED
    assert outcomes["B"].outcome == witnessing.UNREACHABLE
    assert "no answer within 0.05 s" in outcomes["B"].detail


def test_gathering_needs_the_checkpoint_permission() -> None:
    setup = _setup()
    with pytest.raises(PermissionDenied):
        witnessing.gather(setup.factory, auditor(), setup.client, ORIGIN)


def test_a_checkpoint_that_is_not_the_facility_s_is_not_sent() -> None:
    setup = _setup()
    other, _ = note.generate_key(ORIGIN)
    with setup.factory(write=True) as uow:
        head = uow.ledger.log.head()
        forged = sign_checkpoint(Checkpoint(ORIGIN, head.size, head.root), other)
        uow.ledger.storage.add_checkpoint(StoredCheckpoint(head.size, forged))
        uow.commit()

    outcomes = _gather(setup)

    assert {o.outcome for o in outcomes} == {witnessing.NOT_SENT}
    assert "does not verify with the facility's key" in outcomes[0].detail
    assert setup.client.asked == []


# -- publishing ---------------------------------------------------------------------------------


def test_a_checkpoint_re_signed_over_another_tree_gets_none_of_the_cosignatures() -> None:
    setup = _setup()
    stored = _checkpoint(setup.factory)
    _gather(setup)
    # An intruder with the key signs another root at the same size and puts it in its place.
    forged = sign_checkpoint(Checkpoint(ORIGIN, stored.size, b"\x01" * 32), SIGNER)
    with setup.factory(write=True) as uow:
        assert len(uow.cosignatures.for_size(stored.size)) == 2
        published = witnessing.cosigned_note(uow, StoredCheckpoint(stored.size, forged))
    assert published == forged


def test_the_export_header_carries_the_cosigned_checkpoint() -> None:
    setup = _setup()
    _checkpoint(setup.factory)
    _gather(setup)

    checkpoint, lines = ledger.export(setup.factory, auditor(), ORIGIN)
    data = b"".join(lines)

    assert checkpoint.note == _published(setup.factory)
    header = json.loads(data.split(b"\n", 1)[0])
    assert verify_checkpoint(header["checkpoint"], _policy(setup.factory).policy).witnesses == (
        "A",
        "B",
    )
    policy = _policy(setup.factory).policy
    verified = verify_export(io.BytesIO(data), [VERIFIER], policy=policy)
    assert (verified.checkpoint.size, verified.witnesses) == (checkpoint.size, ("A", "B"))


def _device_entry(factory: FakeUnitOfWorkFactory, device: str) -> None:
    with factory(write=True) as uow:
        uow.ledger.record(
            [
                Entry(
                    "device.inspected",
                    factory.clock.now(),
                    Ref("operator", "ben"),
                    factory.facility_id,
                    Ref("device", device),
                    {"job_id": "j1", "state": "inspected"},
                )
            ]
        )
        uow.commit()


DEVICE = "00-11-22-33-44-55-66-77"


def test_a_receipt_is_proven_against_a_checkpoint_at_quorum_that_needs_nothing_kept() -> None:
    setup = _setup()
    _device_entry(setup.factory, DEVICE)

    receipt = history.device_receipt(setup.factory, security_manager(), DEVICE, ORIGIN, SIGNER)

    policy = _policy(setup.factory).policy
    verified = verify_receipt(receipt, [], policy=policy)
    assert verified.witnesses == ("A", "B")
    assert [e.subject.id for _, e in verified.entries] == [DEVICE]


def test_a_receipt_prefers_the_newest_checkpoint_at_quorum_that_covers_its_entries() -> None:
    setup = _setup()
    _device_entry(setup.factory, DEVICE)
    at_quorum = _checkpoint(setup.factory)
    _gather(setup)
    grow(setup.factory, 3)
    _checkpoint(setup.factory)  # newer, but not cosigned
    setup.client.down.update({URL_A, URL_B})

    chosen = witnessing.receipt_checkpoint(setup.factory, at_quorum.size, ORIGIN, SIGNER)

    assert chosen.size == at_quorum.size
    assert check_quorum(chosen.note, _policy(setup.factory).policy).quorum_met
    assert setup.client.asked == [URL_A, URL_B]  # only the first gathering asked


def test_a_receipt_with_no_checkpoint_at_quorum_gathers_first_and_never_fails_for_it() -> None:
    setup = _setup(timeout_seconds=1)
    setup.client.down.add(URL_B)

    chosen = witnessing.receipt_checkpoint(setup.factory, 5, ORIGIN, SIGNER)

    # Issued for it (none covered the entries), of the whole log as it stood.
    assert chosen.size == ledger.status(setup.factory, auditor()).size
    witnessed = check_quorum(chosen.note, _policy(setup.factory).policy)
    assert (witnessed.witnesses, witnessed.quorum_met) == (("A",), False)


def test_without_a_policy_a_receipt_s_checkpoint_is_as_before() -> None:
    factory = kept_factory()
    grow(factory, 3)
    chosen = witnessing.receipt_checkpoint(factory, 3, ORIGIN, SIGNER)
    assert open_checkpoint(chosen.note, [VERIFIER], ORIGIN).size == 3
    assert chosen == ledger.checkpoints(factory, auditor())[-1]


# -- the status ---------------------------------------------------------------------------------


def test_the_status_says_each_witness_s_last_cosignature_and_outcome() -> None:
    setup = _setup()
    first = _checkpoint(setup.factory)
    _gather(setup)
    grow(setup.factory, 2)
    _checkpoint(setup.factory)
    setup.client.down.add(URL_B)
    _gather(setup)

    shown = witnessing.status(setup.factory, auditor())

    assert shown.quorum_met is False
    assert "cosigned by A: not met" in shown.explanation
    a, b = shown.witnesses
    assert (a.cosigned_latest, b.cosigned_latest) == (True, False)
    assert b.last_cosigned is not None and b.last_cosigned.size == first.size
    assert b.last_attempt is not None and b.last_attempt.outcome == witnessing.UNREACHABLE
    shown_json = shown.to_json()
    assert shown_json["witnesses"][1]["last_cosigned_size"] == first.size
    assert shown_json["witnesses"][1]["last_attempt"]["outcome"] == "unreachable"


# -- the quorum alert ----------------------------------------------------------------------------


def _quorum_alerts(factory: FakeUnitOfWorkFactory) -> list[Entry]:
    return [
        e
        for e in factory.entries()
        if e.type == "alert.raised" and e.data["metric"] == witnessing.QUORUM_METRIC
    ]


def test_a_checkpoint_below_quorum_too_long_raises_one_alert() -> None:
    setup = _setup(alert_after_minutes=60)
    setup.client.down.add(URL_B)
    stored = _checkpoint(setup.factory)
    _gather(setup)
    now = setup.factory.clock.now()

    assert witnessing.sweep_quorum(setup.factory, now + timedelta(minutes=59)) is None
    alert_id = witnessing.sweep_quorum(setup.factory, now + timedelta(minutes=61))
    assert witnessing.sweep_quorum(setup.factory, now + timedelta(minutes=90)) is None

    [alert] = _quorum_alerts(setup.factory)
    assert alert.data["alert_id"] == alert_id
    assert alert.subject == Ref("ledger", setup.factory.facility_id)
    assert alert.data["size"] == stored.size
    assert alert.data["cosigned_by"] == ["A"]
    detail = alert.data["detail"]
    assert f"size {stored.size}" in detail and "cosigned by A: not met" in detail
    assert "B: unreachable" in detail and "connection refused" in detail
    with setup.factory(write=False) as uow:
        raised = uow.security.alert(str(alert_id))
    assert raised is not None and raised.metric == "witness_quorum"


def test_no_alert_at_quorum_and_none_while_the_stretch_s_alert_is_open() -> None:
    setup = _setup(alert_after_minutes=10)
    _checkpoint(setup.factory)
    _gather(setup)
    later = setup.factory.clock.advance(timedelta(hours=5))
    assert witnessing.sweep_quorum(setup.factory, later) is None  # at quorum

    setup.client.down.add(URL_B)
    grow(setup.factory, 2)
    _checkpoint(setup.factory)
    _gather(setup)
    setup.factory.clock.advance(timedelta(minutes=11))
    first = witnessing.sweep_quorum(setup.factory)
    assert first is not None
    grow(setup.factory, 2)
    _checkpoint(setup.factory)
    _gather(setup)
    setup.factory.clock.advance(timedelta(minutes=11))
    assert witnessing.sweep_quorum(setup.factory) is None  # the first alert is still open
    assert len(_quorum_alerts(setup.factory)) == 1


def test_an_alert_counts_from_the_policy_not_from_older_checkpoints() -> None:
    factory = kept_factory()
    grow(factory, 3)
    _checkpoint(factory)
    factory.clock.advance(timedelta(days=3))
    a, b = MemoryWitness("witness-a.example/w"), MemoryWitness("witness-b.example/w")
    witnessing.set_policy(factory, administrator(), policy_text(a, b), VERIFIER)
    assert witnessing.sweep_quorum(factory, factory.clock.now() + timedelta(minutes=30)) is None
    assert witnessing.sweep_quorum(factory, factory.clock.now() + timedelta(minutes=61))


def test_a_rewritten_history_is_refused_by_both_witnesses_and_raises_the_alert() -> None:
    setup = _setup(alert_after_minutes=5)
    stored = _checkpoint(setup.factory)
    _gather(setup)
    # An intruder with the facility's key signs a larger tree that does not extend the one
    # the witnesses cosigned, and stores it as the latest checkpoint.
    grow(setup.factory, 3)
    forged = sign_checkpoint(Checkpoint(ORIGIN, stored.size + 3, b"\x02" * 32), SIGNER)
    with setup.factory(write=True) as uow:
        uow.ledger.storage.add_checkpoint(StoredCheckpoint(stored.size + 3, forged))
        uow.commit()

    outcomes = _gather(setup)

    assert [o.outcome for o in outcomes] == [witnessing.INCONSISTENT] * 2
    assert (setup.a.received, setup.b.received) == ([0, stored.size], [0, stored.size])
    assert _published(setup.factory) == forged  # no cosignature on it
    later = setup.factory.clock.now() + timedelta(minutes=6)
    assert witnessing.sweep_quorum(setup.factory, later) is not None


def test_a_checkpoint_beyond_the_log_is_not_sent() -> None:
    setup = _setup()
    stored = _checkpoint(setup.factory)
    _gather(setup)
    forged = sign_checkpoint(Checkpoint(ORIGIN, stored.size + 9, b"\x02" * 32), SIGNER)
    with setup.factory(write=True) as uow:
        uow.ledger.storage.add_checkpoint(StoredCheckpoint(stored.size + 9, forged))
        uow.commit()
    setup.client.asked.clear()

    outcomes = _gather(setup)

    assert [o.outcome for o in outcomes] == [witnessing.NOT_SENT] * 2
    assert f"no consistency proof from size {stored.size}" in outcomes[0].detail
    assert setup.client.asked == []


def test_a_checkpoint_on_demand_is_returned_with_the_cosignatures_it_got() -> None:
    setup = _setup()
    setup.client.down.add(URL_B)

    stored, outcomes = witnessing.issue_and_gather(
        setup.factory, security_manager(), ORIGIN, SIGNER
    )

    assert stored.size == ledger.status(setup.factory, auditor()).size
    assert [o.outcome for o in outcomes] == [witnessing.COSIGNED, witnessing.UNREACHABLE]
    assert stored.note == _published(setup.factory)
    assert check_quorum(stored.note, _policy(setup.factory).policy).witnesses == ("A",)


def test_gathering_now_gives_each_outcome_and_the_quorum_after() -> None:
    setup = _setup()
    _checkpoint(setup.factory)
    setup.client.down.add(URL_B)

    gathered = witnessing.gather_now(setup.factory, security_manager(), ORIGIN)

    assert [o.outcome for o in gathered.outcomes] == [witnessing.COSIGNED, witnessing.UNREACHABLE]
    assert gathered.status.quorum_met is False
    shown = gathered.to_json()
    assert shown["quorum_met"] is False and "cosigned by A" in shown["explanation"], shown
    assert [o["witness"] for o in shown["outcomes"]] == ["A", "B"]


def test_a_checkpoint_on_demand_is_still_refused_over_a_tampered_ledger() -> None:
    setup = _setup()
    stored = _checkpoint(setup.factory)
    grow(setup.factory, 2)
    tamper(setup.factory, stored.size)  # an entry the next checkpoint would sign
    setup.client.asked.clear()

    with pytest.raises(IntegrityFailure):
        witnessing.issue_and_gather(setup.factory, security_manager(), ORIGIN, SIGNER)
    assert setup.client.asked == []
