from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from triage.domain import credentials
from triage.errors import InvalidInput

GOOD = "Kettle-Harbour-Lantern-47"
AT = datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC)
# A few entries of the packaged list (which tests/unit/adapters checks is bundled).
COMMON = frozenset({"1q2w3e4r5t6y", "qwertyuiop", "password"})


def codes(secret: str) -> Callable[[int], str]:
    """The TOTP codes of ``secret`` by step, as the TOTP port computes them."""
    return pyotp.TOTP(secret).generate_otp


def new_secret() -> str:
    return pyotp.random_base32(32)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Sh0rt-pass", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("abababababab1", "different characters"),
        ("kettleharbourlantern", "mix at least two"),
        ("KETTLEHARBOURLANTERN", "mix at least two"),
        ("123456789012345", "mix at least two"),
        ("My-name-is-j.smith-ok", "operator id"),
        ("MY-NAME-IS-J.SMITH-OK", "operator id"),
        ("1q2w3e4r5t6y", "common passwords"),
        ("Qwertyuiop123", "common passwords"),
        ("x" * 300 + "Y1", "at most"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as refused:
        credentials.check_password(password, "j.smith", COMMON)
    assert refused.value.field == "password"


@pytest.mark.parametrize("password", [GOOD, "correct horse battery staple", "Tr1age-b3nch-B"])
def test_good_passwords_pass(password: str) -> None:
    credentials.check_password(password, "j.smith", COMMON)


def test_the_common_password_list_is_read_one_a_line_lower_case() -> None:
    text = "Password\n\n  123456 \nQWERTY\n"
    assert credentials.parse_common_passwords(text) == {"password", "123456", "qwerty"}


def test_totp_accepts_one_step_either_side_and_no_further() -> None:
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    step = credentials.totp_step(AT)
    assert credentials.accept_totp(codes(secret), totp.at(AT), AT, None) == step
    earlier = totp.at(AT - timedelta(seconds=30))
    later = totp.at(AT + timedelta(seconds=30))
    assert credentials.accept_totp(codes(secret), earlier, AT, None) == step - 1
    assert credentials.accept_totp(codes(secret), later, AT, None) == step + 1
    assert (
        credentials.accept_totp(codes(secret), totp.at(AT - timedelta(seconds=60)), AT, None)
        is None
    )
    assert (
        credentials.accept_totp(codes(secret), totp.at(AT + timedelta(seconds=60)), AT, None)
        is None
    )


def test_a_totp_step_is_never_accepted_twice() -> None:
    secret = new_secret()
    code = pyotp.TOTP(secret).at(AT)
    step = credentials.accept_totp(codes(secret), code, AT, None)
    assert step is not None
    assert credentials.accept_totp(codes(secret), code, AT, step) is None
    # Nor an earlier step that is still within the window.
    earlier = pyotp.TOTP(secret).at(AT - timedelta(seconds=30))
    assert credentials.accept_totp(codes(secret), earlier, AT, step) is None
    later = pyotp.TOTP(secret).at(AT + timedelta(seconds=30))
    assert credentials.accept_totp(codes(secret), later, AT, step) == step + 1


def test_a_code_of_another_secret_or_shape_is_refused() -> None:
    secret = new_secret()
    other = pyotp.TOTP(new_secret()).at(AT)
    if other != pyotp.TOTP(secret).at(AT):
        assert credentials.accept_totp(codes(secret), other, AT, None) is None
    assert credentials.accept_totp(codes(secret), "12345", AT, None) is None
    assert credentials.accept_totp(codes(secret), "abcdef", AT, None) is None


def test_recovery_codes_are_ten_distinct_and_never_look_like_totp_codes() -> None:
    codes = credentials.new_recovery_codes()
    assert len(codes) == credentials.RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    assert not any(credentials.is_totp_code(c) for c in codes)
    assert len({credentials.code_hash(c) for c in codes}) == 10


def test_codes_are_stored_as_sha256_and_compared_as_typed_loosely() -> None:
    code = credentials.new_activation_code()
    digest = credentials.code_hash(code)
    assert len(digest) == 32
    assert code.encode() not in digest
    assert credentials.code_hash(code.upper().replace("-", " ")) == digest
    assert credentials.code_hash(code[:-1] + ("a" if code[-1] != "a" else "b")) != digest
    assert credentials.new_activation_code() != code


def test_activation_codes_expire_after_72_hours() -> None:
    assert credentials.activation_expiry(AT) == AT + timedelta(hours=72)
