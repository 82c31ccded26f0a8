"""Our fast canonical JSON writes exactly what the rfc8785 library writes."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.ledger import canonical

ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=40)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(ascii_keys, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=2000)
@given(values)
def test_fast_path_is_byte_for_byte_rfc8785(value: Any) -> None:
    assert canonical.dumps(value) == rfc8785.dumps(value)


def test_control_characters_and_non_ascii_strings() -> None:
    value = {"b": '\x00\x1f\x7f\u2028\U0001f600"\\\n\t\b\f\r', "a": [1, True, None]}
    assert canonical.dumps(value) == rfc8785.dumps(value)


def test_non_ascii_keys_and_floats_take_the_library_path() -> None:
    value = {"\ue000": 1, "\U0001f600": 2, "x": 1.5}
    assert canonical.dumps(value) == rfc8785.dumps(value)
