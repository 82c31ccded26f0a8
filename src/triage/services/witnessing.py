"""Witnessing the facility's ledger: the witness policy (as data), gathering cosignatures on
each new checkpoint (C2SP tlog-witness), publishing the cosigned checkpoint, and the alert when
a checkpoint stays below quorum.

- The policy is a C2SP tlog-policy text of witness, group and quorum lines (witnesses with
  their submission URLs), recorded in the ledger (``ledger.witness_policy_set``) with how long
  a checkpoint may stay below quorum before an alert, the timeout of one request and how many
  attempts a witness gets. The facility's own ``log`` line is added by the system: the text a
  verifier is handed (``triage verify --policy``) is the whole of it. No policy: witnessing is
  off (nothing is gathered, nothing alerted).
- ``gather`` submits the latest checkpoint, with a consistency proof from the last size each
  witness cosigned, to every witness that has not cosigned it yet, concurrently, and stores
  each cosignature it verified (``uow.cosignatures``: not ledger entries, see tables.py). A
  witness that is down, slow or refusing is an outcome, never an exception: triage goes on.
- ``cosigned_note`` / ``published_checkpoint``: a checkpoint with the cosignatures stored for
  it that verify over it (a checkpoint re-signed over another tree gets none of them).
- ``receipt_checkpoint``: the one checkpoint every receipt the facility builds is proven
  against, with its cosignatures, so that a reader who kept nothing can trust it.
- ``sweep_quorum``: one alert (``witness_quorum``) when the latest checkpoint has stayed below
  quorum longer than the policy allows.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.domain.witness_policy import (
    ALERT_AFTER_RANGE,
    ATTEMPTS_RANGE,
    DEFAULT_ALERT_AFTER_MINUTES,
    DEFAULT_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    TIMEOUT_RANGE,
)
from triage.errors import Conflict, InvalidInput, LedgerStateError, NotFound
from triage.ledger.checkpoint import open_checkpoint
from triage.ledger.cosignature import Cosignature, note_with_signatures, verify_cosignatures
from triage.ledger.entry import Entry, Ref, format_time
from triage.ledger.errors import VerificationError
from triage.ledger.log import StoredCheckpoint
from triage.ledger.policy import Policy, PolicyError, WitnessSpec, check_quorum, parse_policy
from triage.ledger.witness_protocol import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    ProtocolError,
    format_add_checkpoint,
    parse_cosignature_lines,
    parse_size_body,
)
from triage.services import ledger
from triage.services.common import make_entry
from triage.services.ports import (
    StoredCosignature,
    UnitOfWork,
    UnitOfWorkFactory,
    WitnessAttempt,
    WitnessClient,
    WitnessUnreachable,
)

log = logging.getLogger(__name__)

POLICY_SET = "ledger.witness_policy_set"
QUORUM_METRIC = "witness_quorum"
WITNESSING = Caller.system("witnessing")

# The typed policy stays well inside one ledger entry (at most 64 KiB, issue 21's tile API).
MAX_POLICY_TEXT = 32 * 1024
BACKOFF_SECONDS = 0.25  # before the second attempt; doubled before each later one
# How many of the newest cosigned checkpoints a receipt looks through for one at quorum.
QUORUM_LOOKBACK = 32

# What became of a witness in one round of gathering.
COSIGNED = "cosigned"
ALREADY = "already cosigned"
NO_URL = "no url"
ROLLBACK = "rollback"
INCONSISTENT = "inconsistent"
REFUSED = "refused"
CONFLICT = "conflict"
UNREACHABLE = "unreachable"
INVALID = "invalid answer"
NOT_SENT = "not sent"
# Answers that stay the same for the same checkpoint: the witness is not asked again for it.
_FINAL_FOR_SIZE = frozenset({ROLLBACK, INCONSISTENT})


# -- the policy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessPolicy:
    """The witness policy in force: the whole tlog-policy (the facility's log line first), how
    long a checkpoint may stay below quorum before an alert, and how witnesses are asked."""

    policy: Policy
    alert_after_minutes: int
    timeout_seconds: int
    attempts: int
    set_by: str
    set_at: datetime

    @property
    def text(self) -> str:
        """The policy text a verifier uses (``triage verify --policy``)."""
        return self.policy.text

    def gather_bound(self) -> float:
        """How long one round of gathering may take at most, in seconds."""
        backoffs = sum(BACKOFF_SECONDS * 2**n for n in range(self.attempts - 1))
        return float(self.attempts * self.timeout_seconds + backoffs)

    def to_json(self) -> dict[str, Any]:
        """As the API and the command line show it."""
        return {
            "policy": self.text,
            "quorum": self.policy.quorum,
            "witnesses": [
                {"name": w.name, "key": w.vkey, "url": w.url} for w in self.policy.witnesses
            ],
            "alert_after_minutes": self.alert_after_minutes,
            "timeout_seconds": self.timeout_seconds,
            "attempts": self.attempts,
            "set_by": self.set_by,
            "set_at": format_time(self.set_at),
        }


def _number(value: int, field: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field}: a whole number from {low} to {high}", field=field)
    return value


def _line_of(text: str, keyword: str, name: str | None = None) -> int | None:
    for number, line in enumerate(text.split("\n"), start=1):
        fields = line.split()
        if fields and fields[0] == keyword and (name is None or fields[1:2] == [name]):
            return number
    return None


def set_policy(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    text: str,
    verifier_key: str,
    *,
    alert_after_minutes: int = DEFAULT_ALERT_AFTER_MINUTES,
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
    attempts: int = DEFAULT_ATTEMPTS,
) -> WitnessPolicy:
    """Record the facility's witness policy: ``text`` holds witness (with URL), group and
    quorum lines; the facility's ``log <verifier_key>`` line is added here. A policy that does
    not parse is refused naming its line, and nothing is recorded."""
    caller.require(Permission.FACILITY_MANAGE)
    alert_after_minutes = _number(alert_after_minutes, "alert_after_minutes", ALERT_AFTER_RANGE)
    timeout_seconds = _number(timeout_seconds, "timeout_seconds", TIMEOUT_RANGE)
    attempts = _number(attempts, "attempts", ATTEMPTS_RANGE)
    typed = text if text.endswith("\n") or not text else text + "\n"
    if len(typed.encode("utf-8", errors="replace")) > MAX_POLICY_TEXT:
        raise InvalidInput(f"policy: longer than {MAX_POLICY_TEXT // 1024} KiB", field="policy")
    own = _line_of(typed, "log")
    if own is not None:
        raise InvalidInput(
            f"policy: line {own}: a log line: the facility's own log line is added by the "
            "system, and no other log belongs in its witness policy",
            field="policy",
        )
    try:
        parse_policy(typed)
    except PolicyError as exc:
        raise InvalidInput(f"policy: {exc}", field="policy") from None
    full = f"log {verifier_key}\n{typed}"
    try:
        parsed = parse_policy(full)
    except PolicyError as exc:
        where = (
            "the facility's log line"
            if exc.line == 1
            else f"line {exc.line - 1}"
            if exc.line is not None
            else "the policy"
        )
        said = str(exc).removeprefix(f"policy line {exc.line}: ")
        raise InvalidInput(
            f"policy: {where}, with the facility's log line added: {said}", field="policy"
        ) from None
    for witness in parsed.witnesses:
        if witness.url is not None and not _is_http_url(witness.url):
            line = _line_of(typed, "witness", witness.name)
            raise InvalidInput(
                f"policy: line {line}: witness {witness.name}: the URL {witness.url!r} is not "
                "http(s)://host[:port][/path], the witness's submission prefix",
                field="policy",
            )
    data = {
        "policy": parsed.text,
        "sha256": hashlib.sha256(parsed.text.encode("utf-8")).hexdigest(),
        "alert_after_minutes": alert_after_minutes,
        "timeout_seconds": timeout_seconds,
        "attempts": attempts,
    }
    with uow_factory(write=True) as uow:
        current = policy(uow)
        if current is not None and (
            current.text,
            current.alert_after_minutes,
            current.timeout_seconds,
            current.attempts,
        ) == (parsed.text, alert_after_minutes, timeout_seconds, attempts):
            raise Conflict("policy: this is already the witness policy in force")
        entry = make_entry(uow, caller, POLICY_SET, Ref("ledger", uow.facility_id), data)
        uow.ledger.record([entry])
        uow.commit()
    return _from_entry(entry)


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> Policy:
    return parse_policy(text)


def _from_entry(entry: Entry) -> WitnessPolicy:
    data = entry.data
    return WitnessPolicy(
        policy=_parsed(str(data["policy"])),
        alert_after_minutes=int(data["alert_after_minutes"]),
        timeout_seconds=int(data["timeout_seconds"]),
        attempts=int(data["attempts"]),
        set_by=entry.actor.id,
        set_at=entry.at,
    )


def policy(uow: UnitOfWork) -> WitnessPolicy | None:
    """The witness policy in force (the latest recorded), or None: witnessing is off."""
    entry = _latest_about_ledger(uow, lambda e: e.type == POLICY_SET)
    return None if entry is None else _from_entry(entry)


def _latest_about_ledger(uow: UnitOfWork, wanted: Callable[[Entry], bool]) -> Entry | None:
    """The latest entry about the ledger itself that is ``wanted``, read newest first, a
    hundred at a time."""
    before: int | None = None
    while True:
        found = uow.ledger.latest_about("ledger", uow.facility_id, 100, before)
        for _, data in found:
            if data is None:
                continue
            entry = Entry.from_bytes(data)
            if wanted(entry):
                return entry
        if len(found) < 100:
            return None
        before = found[-1][0]


def current_policy(uow_factory: UnitOfWorkFactory, caller: Caller) -> WitnessPolicy:
    """The witness policy in force; NotFound when none is set (witnessing is off)."""
    caller.require(Permission.LEDGER_READ)
    with uow_factory(write=False) as uow:
        found = policy(uow)
    if found is None:
        raise NotFound(
            "no witness policy is set: the facility's checkpoints are not witnessed (an "
            "administrator sets one with 'triage ledger witnesses set FILE')"
        )
    return found


# -- publishing: checkpoints with their cosignatures ------------------------------------------


def _valid_lines(stored: StoredCheckpoint, found: list[StoredCosignature]) -> list[str]:
    """The stored cosignature lines that verify over this very checkpoint note."""
    lines = []
    for cosignature in found:
        try:
            with_line = note_with_signatures(stored.note, [cosignature.line])
            _, valid = verify_cosignatures(with_line, [cosignature.cosigner_key])
        except (VerificationError, ValueError) as exc:
            log.warning(
                "the cosignature by %s stored for the checkpoint of size %d does not verify "
                "over it (%s): not published",
                cosignature.key_name,
                stored.size,
                exc,
            )
            continue
        if valid:
            lines.append(cosignature.line)
    return lines


def cosigned_note(uow: UnitOfWork, stored: StoredCheckpoint) -> str:
    """The checkpoint's signed note with every cosignature gathered for it appended (those that
    verify over this note: one signed over another tree of the same size gets none)."""
    found = uow.cosignatures.for_size(stored.size)
    if not found:
        return stored.note
    return note_with_signatures(stored.note, _valid_lines(stored, found))


def published_checkpoint(uow: UnitOfWork) -> str | None:
    """The latest stored checkpoint, with the cosignatures gathered for it (None: none yet)."""
    latest = uow.ledger.log.latest_checkpoint()
    return None if latest is None else cosigned_note(uow, latest)


def _quorum_met(found: WitnessPolicy, note_text: str) -> bool:
    try:
        return check_quorum(note_text, found.policy).quorum_met
    except VerificationError:
        return False


def _newest_at_quorum(
    uow: UnitOfWork, found: WitnessPolicy, at_least: int
) -> StoredCheckpoint | None:
    """The newest stored checkpoint of ``at_least`` entries or more whose cosignatures meet
    the quorum."""
    sizes = uow.cosignatures.cosigned_sizes(at_least)[:QUORUM_LOOKBACK]
    if not sizes:
        return None
    notes = {c.size: c.note for c in uow.ledger.storage.read_checkpoints()}
    for size in sizes:
        if size not in notes:
            continue
        stored = StoredCheckpoint(size, notes[size])
        cosigned = cosigned_note(uow, stored)
        if _quorum_met(found, cosigned):
            return StoredCheckpoint(size, cosigned)
    return None


def receipt_checkpoint(
    uow_factory: UnitOfWorkFactory, covering: int, origin: str, signer_key: str
) -> StoredCheckpoint:
    """The checkpoint a receipt (or a document of receipts) is proven against, its note
    carrying its cosignatures: the newest stored one of at least ``covering`` entries that meets
    the witness quorum; otherwise the latest (issued now, vouched for, if none covers them),
    after gathering cosignatures for it within the policy's timeout."""
    with uow_factory(write=False) as uow:
        found = policy(uow)
        if found is not None:
            best = _newest_at_quorum(uow, found, max(covering, 1))
            if best is not None:
                return best
        latest = uow.ledger.log.latest_checkpoint()
    if latest is None or latest.size < covering:
        latest = ledger.issue_checkpoint(uow_factory, ledger.LEDGER_ACTOR, origin, signer_key)
    if found is not None:
        gather(
            uow_factory,
            ledger.LEDGER_ACTOR,
            uow_factory.witness_client(),
            origin,
            bound=float(found.timeout_seconds),
        )
    with uow_factory(write=False) as uow:
        return StoredCheckpoint(latest.size, cosigned_note(uow, latest))


# -- gathering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessOutcome:
    """What one witness did with the facility's checkpoint in one round of gathering."""

    witness: str  # its name in the policy
    size: int
    outcome: str  # COSIGNED, ALREADY, NO_URL, ROLLBACK, INCONSISTENT, REFUSED, ...
    detail: str
    witness_size: int | None = None

    @property
    def cosigned(self) -> bool:
        """True when the witness's cosignature on the checkpoint is held."""
        return self.outcome in (COSIGNED, ALREADY)

    def __str__(self) -> str:
        return f"{self.witness}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        """As the API and the command line show it."""
        return {
            "witness": self.witness,
            "size": self.size,
            "outcome": self.outcome,
            "cosigned": self.cosigned,
            "detail": self.detail,
            "witness_size": self.witness_size,
        }


@dataclass(frozen=True)
class _Answer:
    """A witness's answer to one add-checkpoint request (after retries)."""

    status: int
    content_type: str
    body: bytes


@dataclass
class _Ask:
    """One witness to ask, and what came of it."""

    witness: WitnessSpec
    old_size: int
    proof: list[bytes]
    outcome: WitnessOutcome | None = None
    cosignatures: tuple[Cosignature, ...] = ()


class _Round:
    """One round of gathering for one checkpoint: the requests to every witness, each in a
    thread of its own, all within ``deadline`` (a time.monotonic value)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        client: WitnessClient,
        found: WitnessPolicy,
        stored: StoredCheckpoint,
        deadline: float,
        sleep: Callable[[float], None],
    ) -> None:
        self._uow_factory = uow_factory
        self._client = client
        self._policy = found
        self._stored = stored
        self._deadline = deadline
        self._sleep = sleep

    @property
    def size(self) -> int:
        """The size of the checkpoint being cosigned."""
        return self._stored.size

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _outcome(self, ask: _Ask, outcome: str, detail: str, held: int | None = None) -> None:
        ask.outcome = WitnessOutcome(ask.witness.name, self._stored.size, outcome, detail, held)

    def run(self, ask: _Ask) -> _Ask:
        """Ask one witness, resending once from the size it holds on a 409."""
        try:
            self._ask(ask)
        except Exception as exc:  # a witness must never stop the round, whatever it answered
            log.exception("gathering from witness %s failed", ask.witness.name)
            self._outcome(ask, UNREACHABLE, f"the request failed: {type(exc).__name__}: {exc}")
        return ask

    def _ask(self, ask: _Ask) -> None:
        size = self._stored.size
        answer = self._post(ask, ask.old_size, ask.proof)
        if answer is None:
            return
        if answer.status == 409:
            held = self._held_size(ask, answer)
            if held is None:
                return
            if held > size:
                self._outcome(
                    ask,
                    ROLLBACK,
                    f"the witness has seen a larger tree ({held}): this checkpoint (size {size}) "
                    "would be a rollback",
                    held,
                )
                return
            proof = self._proof(held, size)
            answer = self._post(ask, held, proof)
            if answer is None:
                return
            if answer.status == 409:
                again = self._held_size(ask, answer)
                if again is not None:
                    self._outcome(
                        ask,
                        CONFLICT,
                        f"the witness said it holds size {held}, then {again}: asked twice, "
                        "not again this round",
                        again,
                    )
                return
        self._settle(ask, answer)

    def _held_size(self, ask: _Ask, answer: _Answer) -> int | None:
        try:
            if answer.content_type.split(";")[0].strip() != SIZE_CONTENT_TYPE:
                raise ProtocolError(
                    f"the content type {answer.content_type!r} is not {SIZE_CONTENT_TYPE}"
                )
            return parse_size_body(answer.body)
        except ProtocolError as exc:
            self._outcome(ask, INVALID, f"answered 409 without its size: {exc}")
            return None

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old == 0 or old == size:
            return []
        with self._uow_factory(write=False) as uow:
            return uow.ledger.log.consistency_proof(old, size)

    def _post(self, ask: _Ask, old: int, proof: list[bytes]) -> _Answer | None:
        """The witness's answer (retrying timeouts, failed connections and 5xx), or None with
        the outcome set when it never answered."""
        url = ask.witness.url
        assert url is not None
        body = format_add_checkpoint(AddCheckpoint(old, tuple(proof), self._stored.note))
        attempts = self._policy.attempts
        problem = "no time was left to ask it"
        made = 0
        for attempt in range(attempts):
            remaining = self._remaining()
            if remaining <= 0:
                break
            made += 1
            try:
                status, content_type, answered = self._client.add_checkpoint(
                    url, body, min(float(self._policy.timeout_seconds), remaining)
                )
            except WitnessUnreachable as exc:
                problem = str(exc)
            else:
                if status < 500:
                    return _Answer(status, content_type, answered)
                problem = f"answered {status}: {_said(answered)}"
            if attempt + 1 < attempts:
                self._sleep(min(BACKOFF_SECONDS * 2**attempt, max(0.0, self._remaining())))
        self._outcome(ask, UNREACHABLE, f"unreachable after {made} attempt(s): {problem}")
        return None

    def _settle(self, ask: _Ask, answer: _Answer) -> None:
        """The outcome of the witness's final answer; a 200's cosignature verified first."""
        status = answer.status
        if status == 200:
            self._cosigned(ask, answer.body)
        elif status == 422:
            self._outcome(
                ask,
                INCONSISTENT,
                f"refused with 422: the checkpoint is not consistent with the tree the witness "
                f"last cosigned: {_said(answer.body)}",
            )
        elif 400 <= status < 500:
            self._outcome(ask, REFUSED, f"refused with {status}: {_said(answer.body)}")
        else:
            self._outcome(ask, INVALID, f"answered {status}, not a tlog-witness answer")

    def _cosigned(self, ask: _Ask, body: bytes) -> None:
        try:
            lines = parse_cosignature_lines(body)
            with_lines = note_with_signatures(self._stored.note, lines)
            _, valid = verify_cosignatures(with_lines, [ask.witness.vkey])
        except (ProtocolError, VerificationError, ValueError) as exc:
            self._outcome(ask, INVALID, f"answered 200 with no valid cosignature: {exc}")
            return
        if not valid:
            self._outcome(
                ask,
                INVALID,
                f"answered 200 with no cosignature by its key {ask.witness.cosigner.key_id}",
            )
            return
        ask.cosignatures = tuple(valid)
        self._outcome(
            ask, COSIGNED, f"cosigned size {self._stored.size} (time {valid[0].timestamp})"
        )


def _said(body: bytes) -> str:
    """What a witness said in its answer's body, short and on one line."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return (text[:300] + "...") if len(text) > 300 else (text or "(nothing said)")


def _valid_names(uow: UnitOfWork, found: WitnessPolicy, stored: StoredCheckpoint) -> set[str]:
    """The policy names of the witnesses whose stored cosignature verifies over ``stored``."""
    lines = _valid_lines(stored, uow.cosignatures.for_size(stored.size))
    if not lines:
        return set()
    try:
        _, valid = verify_cosignatures(
            note_with_signatures(stored.note, lines), found.policy.witness_vkeys()
        )
    except (VerificationError, ValueError):
        return set()
    by_key = {w.cosigner: w.name for w in found.policy.witnesses}
    return {by_key[c.cosigner] for c in valid}


def gather(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    client: WitnessClient,
    origin: str,
    *,
    bound: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[WitnessOutcome]:
    """Ask every policy witness with a URL that has not cosigned the latest checkpoint yet to
    cosign it (C2SP tlog-witness add-checkpoint, one thread a witness), store each cosignature
    that verifies with the witness's key, and say what each witness did. Within ``bound``
    seconds (default: the policy's attempts times its timeout). Never raises for a witness."""
    caller.require(Permission.LEDGER_CHECKPOINT)
    with uow_factory(write=False) as uow:
        found = policy(uow)
        stored = uow.ledger.log.latest_checkpoint()
        if found is None or stored is None:
            return []
        held = _valid_names(uow, found, stored)
        attempts = {(a.key_name, a.key_hash): a for a in uow.cosignatures.attempts()}
        outcomes: dict[str, WitnessOutcome] = {}
        asks: list[_Ask] = []
        problem = _unsendable(stored, found, origin)
        for witness in found.policy.witnesses:
            name, size = witness.name, stored.size
            last = attempts.get((witness.cosigner.name, witness.cosigner.key_hash))
            if name in held:
                outcomes[name] = WitnessOutcome(name, size, ALREADY, f"cosigned size {size}")
            elif witness.url is None:
                outcomes[name] = WitnessOutcome(
                    name, size, NO_URL, "no URL in the policy: never contacted"
                )
            elif problem is not None:
                outcomes[name] = WitnessOutcome(name, size, NOT_SENT, problem)
            elif last is not None and last.size == size and last.outcome in _FINAL_FOR_SIZE:
                outcomes[name] = WitnessOutcome(
                    name, size, last.outcome, f"{last.detail} (not asked again)", last.witness_size
                )
            else:
                previous = uow.cosignatures.latest_by(
                    witness.cosigner.name, witness.cosigner.key_hash
                )
                old = 0 if previous is None or previous.size > size else previous.size
                try:
                    proof = [] if old in (0, size) else uow.ledger.log.consistency_proof(old, size)
                except (LedgerStateError, VerificationError) as exc:
                    outcomes[name] = WitnessOutcome(
                        name, size, NOT_SENT, f"no consistency proof from size {old}: {exc}"
                    )
                    continue
                asks.append(_Ask(witness, old, proof))
    if asks:
        seconds = found.gather_bound() if bound is None else bound
        rounds = _Round(uow_factory, client, found, stored, time.monotonic() + seconds, sleep)
        asked = _run_all(rounds, asks, seconds)
        for ask in asked:
            assert ask.outcome is not None
            outcomes[ask.witness.name] = ask.outcome
        _store(uow_factory, stored, asked)
    result = [outcomes[w.name] for w in found.policy.witnesses]
    for outcome in result:
        if outcome.outcome not in (ALREADY, COSIGNED, NO_URL):
            log.warning(
                "witness %s on checkpoint %d: %s", outcome.witness, stored.size, outcome.detail
            )
        elif outcome.outcome == COSIGNED:
            log.info(
                "witness %s on checkpoint %d: %s", outcome.witness, stored.size, outcome.detail
            )
    return result


def issue_and_gather(
    uow_factory: UnitOfWorkFactory, caller: Caller, origin: str, signer_key: str
) -> tuple[StoredCheckpoint, list[WitnessOutcome]]:
    """Issue a checkpoint (vouched for, as every one: IntegrityFailure when the ledger is not
    the history last signed), then gather cosignatures for it within the policy's bound; the
    checkpoint is returned with the cosignatures it got."""
    stored = ledger.issue_checkpoint(uow_factory, caller, origin, signer_key)
    outcomes = gather(uow_factory, caller, uow_factory.witness_client(), origin)
    with uow_factory(write=False) as uow:
        return StoredCheckpoint(stored.size, cosigned_note(uow, stored)), outcomes


@dataclass(frozen=True)
class Gathered:
    """What asking the witnesses now did: each one's outcome, and the witnessing that results."""

    outcomes: list[WitnessOutcome]
    status: WitnessingStatus

    def to_json(self) -> dict[str, Any]:
        """As the API and the command line show it."""
        return {
            "outcomes": [o.to_json() for o in self.outcomes],
            "quorum_met": self.status.quorum_met,
            "explanation": self.status.explanation,
        }


def gather_now(uow_factory: UnitOfWorkFactory, caller: Caller, origin: str) -> Gathered:
    """Ask the witnesses now to cosign the latest checkpoint (within the policy's bound), for a
    person (`triage ledger witnesses gather`, the API): the outcomes, and the status after."""
    outcomes = gather(uow_factory, caller, uow_factory.witness_client(), origin)
    return Gathered(outcomes, status(uow_factory, caller))


def _unsendable(stored: StoredCheckpoint, found: WitnessPolicy, origin: str) -> str | None:
    """Why the checkpoint is not worth sending (it does not open with the facility's key and
    origin: witnesses would refuse it), or None."""
    try:
        open_checkpoint(stored.note, found.policy.log_vkeys(), origin)
    except VerificationError as exc:
        return (
            f"the latest stored checkpoint (size {stored.size}) does not verify with the "
            f"facility's key: {exc}"
        )
    return None


def _run_all(rounds: _Round, asks: list[_Ask], seconds: float) -> list[_Ask]:
    """Every ask run in a thread of its own, waited for at most ``seconds`` (and a little for
    the threads to report); a witness still being asked then is unreachable this round (what
    its thread learns later is dropped)."""
    pool = ThreadPoolExecutor(max_workers=len(asks), thread_name_prefix="witness")
    try:
        futures: list[Future[_Ask]] = [pool.submit(rounds.run, ask) for ask in asks]
        wait_for(futures, timeout=seconds + 1.0)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    done = []
    for ask, future in zip(asks, futures, strict=True):
        if future.done() and not future.cancelled() and ask.outcome is not None:
            done.append(future.result())
        else:
            late = WitnessOutcome(
                ask.witness.name, rounds.size, UNREACHABLE, f"no answer within {seconds:g} s"
            )
            done.append(_Ask(ask.witness, ask.old_size, ask.proof, late))
    return done


def _store(uow_factory: UnitOfWorkFactory, stored: StoredCheckpoint, asks: list[_Ask]) -> None:
    """Keep every verified cosignature and each witness's last attempt."""
    with uow_factory(write=True) as uow:
        now = uow.clock.now()
        for ask in asks:
            outcome = ask.outcome
            assert outcome is not None
            cosigner = ask.witness.cosigner
            for cosignature in ask.cosignatures:
                uow.cosignatures.add(
                    StoredCosignature(
                        size=stored.size,
                        key_name=cosigner.name,
                        key_hash=cosigner.key_hash,
                        cosigner_key=ask.witness.vkey,
                        timestamp=cosignature.timestamp,
                        line=cosignature.line,
                        gathered_at=now,
                    )
                )
            uow.cosignatures.record_attempt(
                WitnessAttempt(
                    key_name=cosigner.name,
                    key_hash=cosigner.key_hash,
                    at=now,
                    size=stored.size,
                    outcome=outcome.outcome,
                    detail=outcome.detail[:2000],
                    witness_size=outcome.witness_size,
                )
            )
        uow.commit()


# -- the status of witnessing -------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessState:
    """One policy witness: its last cosignature for the facility and its last attempt."""

    name: str
    key_id: str
    url: str | None
    cosigned_latest: bool
    last_cosigned: StoredCosignature | None
    last_attempt: WitnessAttempt | None

    def to_json(self) -> dict[str, Any]:
        """As the API and the command line show it."""
        cosigned, attempt = self.last_cosigned, self.last_attempt
        return {
            "name": self.name,
            "key_id": self.key_id,
            "url": self.url,
            "cosigned_latest": self.cosigned_latest,
            "last_cosigned_size": None if cosigned is None else cosigned.size,
            "last_cosigned_at": None if cosigned is None else format_time(cosigned.gathered_at),
            "last_attempt": None
            if attempt is None
            else {
                "at": format_time(attempt.at),
                "size": attempt.size,
                "outcome": attempt.outcome,
                "detail": attempt.detail,
                "witness_size": attempt.witness_size,
            },
        }


@dataclass(frozen=True)
class WitnessingStatus:
    """Witnessing as it stands: the policy, the latest checkpoint, whether its cosignatures
    meet the quorum, and each witness."""

    policy: WitnessPolicy | None
    checkpoint_size: int | None
    quorum_met: bool
    explanation: str
    witnesses: tuple[WitnessState, ...]

    def to_json(self) -> dict[str, Any]:
        """As the API and the command line show it."""
        return {
            "policy": None if self.policy is None else self.policy.to_json(),
            "checkpoint_size": self.checkpoint_size,
            "quorum_met": self.quorum_met,
            "explanation": self.explanation,
            "witnesses": [w.to_json() for w in self.witnesses],
        }


def status(uow_factory: UnitOfWorkFactory, caller: Caller) -> WitnessingStatus:
    """The policy, the latest checkpoint's quorum, and each witness's last cosignature and
    last attempt."""
    caller.require(Permission.LEDGER_READ)
    with uow_factory(write=False) as uow:
        found = policy(uow)
        if found is None:
            return WitnessingStatus(None, None, False, "no witness policy: witnessing is off", ())
        stored = uow.ledger.log.latest_checkpoint()
        names = set() if stored is None else _valid_names(uow, found, stored)
        attempts = {(a.key_name, a.key_hash): a for a in uow.cosignatures.attempts()}
        states = tuple(
            WitnessState(
                name=w.name,
                key_id=w.cosigner.key_id,
                url=w.url,
                cosigned_latest=w.name in names,
                last_cosigned=uow.cosignatures.latest_by(w.cosigner.name, w.cosigner.key_hash),
                last_attempt=attempts.get((w.cosigner.name, w.cosigner.key_hash)),
            )
            for w in found.policy.witnesses
        )
    if stored is None:
        return WitnessingStatus(found, None, False, "no checkpoint issued yet", states)
    met = found.policy.satisfied(names)
    explanation = f"checkpoint of size {stored.size}: {found.policy.explain(names)}"
    return WitnessingStatus(found, stored.size, met, explanation, states)


# -- the quorum alert ----------------------------------------------------------------------------


def _last_quorum_alert(uow: UnitOfWork) -> Entry | None:
    """The latest ``witness_quorum`` alert recorded about the ledger, if any."""
    return _latest_about_ledger(
        uow, lambda e: e.type == "alert.raised" and e.data.get("metric") == QUORUM_METRIC
    )


def _below_since(
    uow: UnitOfWork, found: WitnessPolicy, stored: list[StoredCheckpoint]
) -> tuple[int, datetime | None]:
    """(size of the first checkpoint after the newest one that met the quorum, when it was
    issued): since then the log has had no checkpoint at quorum."""
    newest_met = _newest_at_quorum(uow, found, 1)
    after = [c.size for c in stored if newest_met is None or c.size > newest_met.size]
    first = after[0] if after else stored[-1].size
    return first, uow.cosignatures.checkpoint_issued_at([first]).get(first)


def sweep_quorum(uow_factory: UnitOfWorkFactory, now: datetime | None = None) -> str | None:
    """Raise one alert (``alert.raised``, metric ``witness_quorum``) when the latest checkpoint
    is below the witness quorum and the log has been without a checkpoint at quorum for longer
    than the policy's ``alert_after_minutes``: at most one per checkpoint size, and none while
    the alert raised earlier in the same stretch below quorum is still open. Returns the
    alert's id, or None."""
    with uow_factory(write=True) as uow:
        at = uow.clock.now() if now is None else now
        found = policy(uow)
        stored = uow.ledger.storage.read_checkpoints()
        if found is None or not stored:
            return None
        latest = stored[-1]
        try:
            witnessed = check_quorum(cosigned_note(uow, latest), found.policy)
        except VerificationError:  # not even the facility's: no witness can make it good
            names = _valid_names(uow, found, latest)
        else:
            if witnessed.quorum_met:
                return None
            names = set(witnessed.witnesses)
        first, issued = _below_since(uow, found, stored)
        since = found.set_at if issued is None else max(issued, found.set_at)
        if at - since <= timedelta(minutes=found.alert_after_minutes):
            return None
        previous = _last_quorum_alert(uow)
        if previous is not None:
            alerted = int(previous.data.get("size", -1))
            open_alert = uow.security.alert(str(previous.data["alert_id"]))
            still_open = open_alert is not None and open_alert.status == "open"
            if alerted == latest.size or (alerted >= first and still_open):
                return None
        alert_id = str(uuid.uuid4())
        detail = _quorum_detail(uow, found, latest, names, since, at)
        data = {
            "alert_id": alert_id,
            "metric": QUORUM_METRIC,
            "count": len(names),
            "max_count": 0,
            "window_minutes": found.alert_after_minutes,
            "action": "notify",
            "detail": detail,
            "size": latest.size,
            "cosigned_by": sorted(names),
        }
        uow.ledger.record(
            [make_entry(uow, WITNESSING, "alert.raised", Ref("ledger", uow.facility_id), data)]
        )
        uow.commit()
    log.error("witness quorum alert %s: %s", alert_id, detail)
    return alert_id


def _quorum_detail(
    uow: UnitOfWork,
    found: WitnessPolicy,
    latest: StoredCheckpoint,
    names: set[str],
    since: datetime,
    at: datetime,
) -> str:
    minutes = int((at - since).total_seconds() // 60)
    attempts = {(a.key_name, a.key_hash): a for a in uow.cosignatures.attempts()}
    others = []
    for witness in found.policy.witnesses:
        if witness.name in names:
            continue
        last = attempts.get((witness.cosigner.name, witness.cosigner.key_hash))
        if witness.url is None:
            said = "no URL in the policy, never contacted"
        elif last is None:
            said = "never asked yet"
        else:
            said = f"{last.outcome} at {format_time(last.at)} (size {last.size}): {last.detail}"
        others.append(f"{witness.name}: {said}")
    text = (
        f"the checkpoint of size {latest.size} is below the witness quorum; the log has had "
        f"no checkpoint at quorum for {minutes} minutes (alert after "
        f"{found.alert_after_minutes}): {found.policy.explain(names)}"
    )
    if others:
        text += "; " + "; ".join(others)
    return text[:4000]
