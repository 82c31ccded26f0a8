"""Hostile input to the parsers of signed notes and checkpoints: whatever the text or bytes, each
parser either returns a valid value or raises its own documented error, never another exception;
and what a formatter writes, its parser reads back unchanged (strategies and keys:
``strategies.py``)."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fuzz.strategies import (
    FACILITY_SIGNER,
    FACILITY_VERIFIER,
    FUZZ,
    ORIGIN,
    TOOL_VERIFIER,
    mutated,
    nasty_text,
)
from triage.ledger import note
from triage.ledger.checkpoint import (
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from triage.ledger.errors import VerificationError

# -- signed notes ----------------------------------------------------------------------------

VALID_NOTE = note.sign("triage.example/ledger\n42\nsome text — with é\n", FACILITY_SIGNER)


@FUZZ
@given(mutated(VALID_NOTE))
def test_a_changed_signed_note_is_refused_or_reads_as_the_original(changed: str) -> None:
    keys = [FACILITY_VERIFIER, TOOL_VERIFIER]
    for data in (changed, changed.encode("utf-8", errors="surrogatepass")):
        try:
            text = note.verify(data, keys)
        except VerificationError:
            continue
        assert text == note.verify(VALID_NOTE, keys)


@FUZZ
@given(st.one_of(nasty_text, st.binary(max_size=300)))
def test_any_note_is_verified_or_refused(data: str | bytes) -> None:
    with contextlib.suppress(VerificationError):
        note.verify(data, [FACILITY_VERIFIER])


# -- checkpoints -----------------------------------------------------------------------------

checkpoints = st.builds(
    Checkpoint,
    origin=st.text(
        alphabet=st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f"),
        min_size=1,
        max_size=40,
    ),
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root_hash=st.binary(min_size=32, max_size=32),
)


@FUZZ
@given(nasty_text | checkpoints.map(format_checkpoint).flatmap(mutated))
def test_a_checkpoint_body_is_read_or_refused_and_reads_back_as_written(text: str) -> None:
    try:
        found = parse_checkpoint(text)
    except VerificationError:
        return
    assert format_checkpoint(found) == text


@FUZZ
@given(checkpoints)
def test_a_checkpoint_round_trips(checkpoint: Checkpoint) -> None:
    signed = sign_checkpoint(checkpoint, FACILITY_SIGNER)
    assert open_checkpoint(signed, [FACILITY_VERIFIER], checkpoint.origin) == checkpoint


SIGNED_CHECKPOINT = sign_checkpoint(Checkpoint(ORIGIN, 7, bytes(range(32))), FACILITY_SIGNER)


@FUZZ
@given(mutated(SIGNED_CHECKPOINT) | nasty_text)
def test_a_changed_signed_checkpoint_is_refused_or_is_the_original(changed: str) -> None:
    try:
        found = open_checkpoint(changed, [FACILITY_VERIFIER], ORIGIN)
    except VerificationError:
        return
    assert found == Checkpoint(ORIGIN, 7, bytes(range(32)))
