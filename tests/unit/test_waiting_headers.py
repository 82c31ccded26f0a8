"""How a waiting read reads its request: ``Prefer: wait=N`` (RFC 7240: a preference that cannot
be read is ignored; the server caps the wait) and ``If-None-Match`` (weak tags compared by
their opaque tag; ``*`` is any answer); and the ETag of an answer (strong, by its bytes)."""

from __future__ import annotations

import pytest

from triage.entrypoints.api.waiting import (
    MAX_WAIT_SECONDS,
    entity_tag,
    named_tags,
    requested_wait,
)


@pytest.mark.parametrize(
    ("values", "wait"),
    [
        (["wait=10"], 10.0),
        (["WAIT = 2.5"], 2.5),  # names are case-insensitive; "=" may have spaces (BWS)
        (['wait="0.3"'], 0.3),
        (["respond-async, wait=5"], 5.0),
        (["respond-async", "wait=7; foo=bar"], 7.0),
        (["Wait=4"], 4.0),
        ([f"wait={MAX_WAIT_SECONDS * 10:g}"], MAX_WAIT_SECONDS),
        (["wait=soon"], None),
        (["wait=-1"], None),
        (["wait=0"], None),
        (["wait=inf"], None),
        (["wait=nan"], None),
        (["wait"], None),
        (["return=minimal"], None),
        ([], None),
    ],
)
def test_the_wait_a_request_prefers(values: list[str], wait: float | None) -> None:
    assert requested_wait(values) == wait


def test_the_tags_a_request_names() -> None:
    assert named_tags([]) == frozenset()
    assert named_tags(['"a", W/"b"', '"c"']) == frozenset({'"a"', '"b"', '"c"'})
    assert named_tags(['"a", *']) is None


def test_an_answers_tag_is_strong_and_follows_its_bytes() -> None:
    tag = entity_tag(b'{"items":[]}')
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == entity_tag(b'{"items":[]}')
    assert tag != entity_tag(b'{"items":["x"]}')
