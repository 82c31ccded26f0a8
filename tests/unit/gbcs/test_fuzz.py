"""Hostile input to the GBCS decoder: whatever the bytes or text, it returns a response that
encodes and reads back the same, or raises GbcsError naming a byte of the message; never
another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fuzz.strategies import FUZZ, nasty_text
from tests.unit.gbcs.reference import FILES, ids
from tests.unit.gbcs.strategies import responses
from triage.gbcs import GbcsError, LogResponse, decode, encode

REFERENCE_BYTES = [bytes.fromhex(path.read_text(encoding="ascii")) for path in FILES]


def _decoded_or_refused(data: bytes | str) -> LogResponse | None:
    """The response, or None when refused with the offset of a byte of the message."""
    size = len(data) if isinstance(data, bytes) else len(data) // 2 + 1
    try:
        response = decode(data)
    except GbcsError as error:
        refusal = error
    else:
        assert decode(encode(response)) == response
        return response
    assert refusal.offset is not None and 0 <= refusal.offset <= size, str(refusal)
    assert str(refusal).startswith(f"byte {refusal.offset}: ")
    return None


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_are_decoded_or_refused(data: bytes) -> None:
    _decoded_or_refused(data)


@FUZZ
@given(st.binary(max_size=64).map(lambda b: bytes([0xDD]) + bytes(6) + b))
def test_bytes_after_a_valid_start_are_decoded_or_refused(data: bytes) -> None:
    _decoded_or_refused(data)


@FUZZ
@given(nasty_text)
def test_any_text_is_decoded_or_refused(text: str) -> None:
    _decoded_or_refused(text)


@pytest.mark.parametrize("original", REFERENCE_BYTES, ids=ids(FILES))
def test_every_truncation_of_a_reference_response_is_refused(original: bytes) -> None:
    for end in range(len(original)):
        assert _decoded_or_refused(original[:end]) is None


@pytest.mark.parametrize("original", REFERENCE_BYTES, ids=ids(FILES))
def test_every_byte_of_a_reference_response_changed_is_refused_or_read(original: bytes) -> None:
    for at in range(len(original)):
        for value in (original[at] ^ 0xFF, original[at] ^ 0x01):
            _decoded_or_refused(original[:at] + bytes([value]) + original[at + 1 :])


@FUZZ
@given(
    st.sampled_from(REFERENCE_BYTES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=3),
    st.sampled_from(["replace", "insert", "delete"]),
)
def test_a_changed_reference_response_is_refused_or_read(
    original: bytes, changes: list[tuple[int, int]], how: str
) -> None:
    data = bytearray(original)
    for position, value in changes:
        at = position % len(data)
        if how == "replace":
            data[at] = value
        elif how == "insert":
            data.insert(at, value)
        else:
            del data[at]
    _decoded_or_refused(bytes(data))


@FUZZ
@given(responses(), st.data())
def test_a_changed_generated_response_is_refused_or_read(
    response: LogResponse, data: st.DataObject
) -> None:
    message = bytearray(encode(response))
    at = data.draw(st.integers(0, len(message) - 1))
    message[at] = data.draw(st.integers(0, 255))
    _decoded_or_refused(bytes(message))
