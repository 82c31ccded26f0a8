"""Bad input names its field, whether the raiser says it or the message starts with it."""

from __future__ import annotations

import pytest

from triage.errors import InvalidInput
from triage.services.history import parse_device_id


@pytest.mark.parametrize(
    ("message", "field", "expected"),
    [
        ("device_id: not a device id", None, "device_id"),
        ("settings.max_attempts: 1 to 10", None, "settings.max_attempts"),
        ("anything at all", "serial", "serial"),
        ("reason: too short", "justification", "justification"),
        ("assessment rules: the last rule must match always", None, None),
        ("Not a field: capitalised", None, None),
        ("no colon here", None, None),
    ],
)
def test_the_field_of_bad_input(message: str, field: str | None, expected: str | None) -> None:
    assert InvalidInput(message, field).field == expected


def test_a_service_refusing_a_device_id_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_device_id("not-an-eui64")
    assert refused.value.field == "device_id"
