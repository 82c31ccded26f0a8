"""Ledger exports: the whole log in one file, checked offline with the verifier key alone and
against the checkpoints an auditor kept; every kind of tampering is caught and named."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.ledger import note
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import VerificationError
from triage.ledger.export import EXPORT_FORMAT, export_lines, verify_export
from triage.ledger.log import Log, StoredCheckpoint
from triage.ledger.memory import MemoryLogStorage

ORIGIN = "triage.example/ledger"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNER, VERIFIER = note.generate_key(ORIGIN)


def entry(n: int, data: dict[str, object] | None = None) -> bytes:
    return Entry(
        type="device.received" if n % 3 else "device.inspected",
        at=START + timedelta(seconds=n),
        actor=Ref("operator", "alice"),
        facility="triage.example",
        subject=Ref("device", f"D-{n}"),
        data={"step": n} if data is None else data,
    ).to_bytes()


class Ledger:
    """A memory log of ``size`` entries with the checkpoints asked for."""

    def __init__(self, size: int, changed: dict[int, bytes] | None = None) -> None:
        self.log = Log(MemoryLogStorage())
        self.entries = [(changed or {}).get(n, entry(n)) for n in range(size)]
        self.checkpoints: dict[int, StoredCheckpoint] = {}

    def grow_to(self, size: int) -> StoredCheckpoint:
        have = self.log.head().size
        self.log.append(self.entries[have:size])
        self.checkpoints[size] = self.log.issue_checkpoint(ORIGIN, SIGNER)
        return self.checkpoints[size]

    def export(self, size: int) -> bytes:
        checkpoint = self.checkpoints[size]
        return b"".join(export_lines(ORIGIN, checkpoint.note, size, self.entries[:size]))


def check(data: bytes, held: list[str] | None = None) -> None:
    verify_export(io.BytesIO(data), [VERIFIER], held or [])


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    grown = Ledger(600)
    for size in (0, 1, 257, 600):
        grown.grow_to(size)
    return grown


def test_an_honest_export_verifies_and_says_what_it_holds(ledger: Ledger) -> None:
    seen: list[int] = []
    held = [ledger.checkpoints[1].note, ledger.checkpoints[257].note, ledger.checkpoints[0].note]
    verified = verify_export(io.BytesIO(ledger.export(600)), [VERIFIER], held, seen.append)
    assert verified.checkpoint.size == 600 and verified.origin == ORIGIN
    assert verified.held == [0, 1, 257]
    assert verified.types == {"device.inspected": 200, "device.received": 400}
    assert verified.first_at == START and verified.last_at == START + timedelta(seconds=599)
    assert sum(seen) == 600
    empty = verify_export(io.BytesIO(ledger.export(0)), [VERIFIER])
    assert empty.checkpoint.size == 0 and empty.types == {} and empty.first_at is None


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def _join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def test_every_kind_of_tampering_is_caught_and_named(ledger: Ledger) -> None:
    lines = _lines(ledger.export(600))
    header, body = lines[0], lines[1:]

    changed = body.copy()
    changed[41] = entry(41, {"step": 4100})  # still a well-formed entry, but not the one signed
    with pytest.raises(VerificationError, match="do not have the root signed"):
        check(_join([header, *changed]))

    not_canonical = body.copy()
    not_canonical[7] = body[7].replace(b'{"actor"', b'{ "actor"')
    with pytest.raises(VerificationError, match="entry 7: "):
        check(_join([header, *not_canonical]))

    swapped = body.copy()
    swapped[10], swapped[11] = swapped[11], swapped[10]
    with pytest.raises(VerificationError, match="do not have the root signed"):
        check(_join([header, *swapped]))

    with pytest.raises(VerificationError, match="ends after 599 entries"):
        check(_join([header, *body[:300], *body[301:]]))
    with pytest.raises(VerificationError, match="ends after 500 entries"):
        check(_join([header, *body[:500]]))
    with pytest.raises(VerificationError, match="more than the 600 entries"):
        check(_join([header, *body, entry(600)]))
    with pytest.raises(VerificationError, match="cut short"):
        check(_join([header, *body])[:-1])

    # The header: a size that is not the checkpoint's, a forged checkpoint, another format.
    fields = json.loads(header)
    with pytest.raises(VerificationError, match="header says 599 entries"):
        check(_join([json.dumps({**fields, "size": 599}).encode(), *body[:599]]))
    forged = fields["checkpoint"].replace("600", "601", 1)
    with pytest.raises(VerificationError):
        check(_join([json.dumps({**fields, "checkpoint": forged}).encode(), *body]))
    with pytest.raises(VerificationError, match="not a ledger export"):
        check(_join([json.dumps({**fields, "format": "something/else"}).encode(), *body]))
    with pytest.raises(VerificationError, match="not a ledger export"):
        check(b"")
    # Someone else's key: the checkpoint is not one the verifier trusts.
    _, stranger = note.generate_key(ORIGIN)
    with pytest.raises(VerificationError):
        verify_export(io.BytesIO(_join(lines)), [stranger])
    check(_join(lines))  # the untouched lines still pass: each failure above was the change


def test_a_rewritten_history_fails_against_a_checkpoint_the_auditor_kept(ledger: Ledger) -> None:
    # The facility rewrote entry 100 after the auditor kept the checkpoint at size 257, then
    # re-signed everything: the export verifies on its own, but not against what was kept.
    rewritten = Ledger(600, changed={100: entry(100, {"step": "rewritten"})})
    rewritten.grow_to(600)
    alone = rewritten.export(600)
    check(alone)
    with pytest.raises(VerificationError, match="root of your checkpoint at size 257"):
        check(alone, [ledger.checkpoints[257].note])
    # A kept checkpoint that is not one (or not the facility's) is named as the auditor's own.
    _, stranger = note.generate_key(ORIGIN)
    with pytest.raises(VerificationError, match="your kept checkpoint 2: "):
        check(alone, [ledger.checkpoints[1].note, "not a checkpoint"])
    with pytest.raises(VerificationError, match="your kept checkpoint 1: "):
        verify_export(
            io.BytesIO(alone),
            [VERIFIER, stranger],
            [rewritten.checkpoints[600].note.replace("600", "601", 1)],
        )
    # A kept checkpoint beyond the export cannot be checked: the auditor needs a newer export.
    with pytest.raises(VerificationError, match="beyond this export"):
        check(ledger.export(257), [ledger.checkpoints[600].note])


def test_an_entry_with_a_line_break_is_never_exported() -> None:
    with pytest.raises(ValueError, match="entry 1 holds a line break"):
        b"".join(export_lines(ORIGIN, "n", 2, [entry(0), b"{\n}"]))
    with pytest.raises(ValueError, match="gave 1 entries for an export of 2"):
        b"".join(export_lines(ORIGIN, "n", 2, [entry(0)]))


@settings(max_examples=25, deadline=None)
@given(size=st.integers(0, 700), data=st.data())
def test_exports_of_any_size_verify_against_any_earlier_checkpoint(
    size: int, data: st.DataObject
) -> None:
    kept = sorted(data.draw(st.sets(st.integers(0, size), max_size=3)))
    grown = Ledger(size)
    for at in [*kept, size]:
        if at not in grown.checkpoints:
            grown.grow_to(at)
    verified = verify_export(
        io.BytesIO(grown.export(size)), [VERIFIER], [grown.checkpoints[k].note for k in kept]
    )
    assert verified.checkpoint.size == size and verified.held == kept
    assert json.loads(grown.export(size).split(b"\n", 1)[0])["format"] == EXPORT_FORMAT
