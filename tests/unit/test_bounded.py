"""Bounded loading of outside JSON and YAML: exactly where the limits lie, and that endless
input is refused after reading no more than the limit."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.domain.bounded import (
    MAX_DEPTH,
    InputLimitError,
    NestedTooDeep,
    NotValidText,
    load_json,
    load_yaml,
    read_at_most,
)


class Endless(io.RawIOBase):
    """/dev/zero, counting what was read."""

    def __init__(self) -> None:
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), 65536)
        buffer[:size] = b"\0" * size
        self.read_so_far += size
        return size


def test_endless_input_is_refused_after_reading_one_byte_more_than_the_limit() -> None:
    stream = Endless()
    with pytest.raises(InputLimitError, match=r"^receipt: larger than 1 MiB$"):
        read_at_most(io.BufferedReader(stream), 1024 * 1024, "receipt")
    assert stream.read_so_far <= 1024 * 1024 + 2 * 65536


def test_input_of_exactly_the_limit_is_read_whole() -> None:
    assert read_at_most(io.BytesIO(b"x" * 300), 300, "file") == b"x" * 300
    with pytest.raises(InputLimitError, match="file: larger than 300 bytes"):
        read_at_most(io.BytesIO(b"x" * 301), 300, "file")


@settings(deadline=None)
@given(st.integers(1, 2000), st.sampled_from(["[", '{"a":']))
def test_json_is_read_up_to_the_depth_limit_and_refused_beyond_it(levels: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = "\n" + opener * levels + ("" if opener == "[" else "0") + closer * levels
    if levels <= MAX_DEPTH:
        assert load_json(text, "body", max_bytes=10**6) == json.loads(text)
    else:
        column = MAX_DEPTH * len(opener) + 1 if opener == "[" else MAX_DEPTH * 5 + 1
        with pytest.raises(
            NestedTooDeep, match=rf"^body: nested deeper than 32 levels at line 2, column {column}$"
        ):
            load_json(text, "body", max_bytes=10**6)


@settings(deadline=None)
@given(st.integers(1, 200))
def test_yaml_is_read_up_to_the_depth_limit_and_refused_beyond_it(levels: int) -> None:
    text = "[" * levels + "]" * levels
    if levels <= MAX_DEPTH:
        assert load_yaml(text, "policy", max_bytes=10**6) == json.loads(text)
    else:
        with pytest.raises(
            InputLimitError,
            match=rf"nested deeper than 32 levels at line 1, column {MAX_DEPTH + 1}$",
        ):
            load_yaml(text, "policy", max_bytes=10**6)


def test_text_is_whole_unicode_or_refused_naming_where() -> None:
    assert load_json('["\\ud83d\\ude00"]', "body", max_bytes=100) == ["\U0001f600"]
    with pytest.raises(
        NotValidText, match=r"body: not valid UTF-8 text at a\[1\] .*line 1, column 12"
    ):
        load_json('{"a": [1, "\\ud83d"]}', "body", max_bytes=100)
    with pytest.raises(NotValidText, match=r"in a key"):
        load_json('{"\\udfff": 1}', "body", max_bytes=100)
    with pytest.raises(InputLimitError, match=r"body: not valid UTF-8 \(byte 2\)"):
        load_json(b'["\xff"]', "body", max_bytes=100)


def test_size_and_syntax_are_named() -> None:
    with pytest.raises(InputLimitError, match=r"^body: larger than 10 bytes$"):
        load_json("[" + "1," * 10 + "1]", "body", max_bytes=10)
    with pytest.raises(
        InputLimitError, match=r"^body: not valid JSON: Expecting value at line 1, column 2$"
    ):
        load_json("[", "body", max_bytes=10)
    with pytest.raises(InputLimitError, match=r"^policy: not valid YAML: .* at line 1, column 5$"):
        load_yaml("a: [", "policy", max_bytes=10)
