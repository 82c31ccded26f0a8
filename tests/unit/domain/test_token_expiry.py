"""How long a token may last: the facility's maximum, and never beyond the token minting it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage.domain.caller import Credential
from triage.domain.token import DEFAULT_DAYS, expiry, minted_by_json

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
SESSION = Credential("session", "2026-05-01T11:59:00.000000Z")
ONE_DAY = Credential("token", "abc123", AT + timedelta(days=1))


def test_a_token_from_a_session_lasts_up_to_the_facility_maximum() -> None:
    assert expiry(AT, None, 90, SESSION) == AT + timedelta(days=DEFAULT_DAYS)
    assert expiry(AT, None, 30, SESSION) == AT + timedelta(days=30)
    assert expiry(AT, 30, 30, SESSION) == AT + timedelta(days=30)
    with pytest.raises(ValueError, match=r"1 to 30 days \(the facility's maximum\), not 31"):
        expiry(AT, 31, 30, SESSION)
    with pytest.raises(ValueError, match="not 0"):
        expiry(AT, 0, 30, SESSION)


def test_a_token_never_outlives_the_token_minting_it() -> None:
    assert expiry(AT, None, 90, ONE_DAY) == AT + timedelta(days=1)
    assert expiry(AT, 1, 90, ONE_DAY) == AT + timedelta(days=1)
    with pytest.raises(ValueError, match=r"cannot outlive token abc123.*1 day") as raised:
        expiry(AT, 365, 90, ONE_DAY)
    assert "2026-05-02T12:00:00.000000Z" in str(raised.value)
    almost = Credential("token", "abc123", AT + timedelta(hours=5))
    with pytest.raises(ValueError, match=r"; leave days out for a token until then$"):
        expiry(AT, 1, 90, almost)


def test_what_minted_a_token_is_named_without_a_secret() -> None:
    assert minted_by_json(ONE_DAY) == {"kind": "token", "token_id": "abc123"}
    assert minted_by_json(SESSION) == {
        "kind": "session",
        "signed_in_at": "2026-05-01T11:59:00.000000Z",
    }
