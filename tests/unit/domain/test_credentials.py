from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from triage.domain import credentials

GOOD = "Kettle-Harbour-Lantern-47"
AT = datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC)


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
    with pytest.raises(ValueError, match=problem):
        credentials.check_password(password, "j.smith")


@pytest.mark.parametrize("password", [GOOD, "correct horse battery staple", "Tr1age-b3nch-B"])
def test_good_passwords_pass(password: str) -> None:
    credentials.check_password(password, "j.smith")


def test_the_common_password_list_is_bundled_and_large() -> None:
    common = credentials.common_passwords()
    assert len(common) >= 10_000
    assert {"password", "123456", "qwerty"} <= common


def test_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    stored = credentials.hash_password(GOOD)
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert credentials.verify_password(stored, GOOD)
    assert not credentials.verify_password(stored, GOOD + "x")
    assert not credentials.verify_password(None, GOOD)
    assert not credentials.verify_password("not a hash", GOOD)
    assert credentials.hash_password(GOOD) != stored  # salted


def test_totp_accepts_one_step_either_side_and_no_further() -> None:
    secret = credentials.new_totp_secret()
    totp = pyotp.TOTP(secret)
    step = credentials.totp_step(AT)
    assert credentials.accept_totp(secret, totp.at(AT), AT, None) == step
    earlier = totp.at(AT - timedelta(seconds=30))
    later = totp.at(AT + timedelta(seconds=30))
    assert credentials.accept_totp(secret, earlier, AT, None) == step - 1
    assert credentials.accept_totp(secret, later, AT, None) == step + 1
    assert credentials.accept_totp(secret, totp.at(AT - timedelta(seconds=60)), AT, None) is None
    assert credentials.accept_totp(secret, totp.at(AT + timedelta(seconds=60)), AT, None) is None


def test_a_totp_step_is_never_accepted_twice() -> None:
    secret = credentials.new_totp_secret()
    code = pyotp.TOTP(secret).at(AT)
    step = credentials.accept_totp(secret, code, AT, None)
    assert step is not None
    assert credentials.accept_totp(secret, code, AT, step) is None
    # Nor an earlier step that is still within the window.
    earlier = pyotp.TOTP(secret).at(AT - timedelta(seconds=30))
    assert credentials.accept_totp(secret, earlier, AT, step) is None
    later = pyotp.TOTP(secret).at(AT + timedelta(seconds=30))
    assert credentials.accept_totp(secret, later, AT, step) == step + 1


def test_a_code_of_another_secret_or_shape_is_refused() -> None:
    secret = credentials.new_totp_secret()
    other = pyotp.TOTP(credentials.new_totp_secret()).at(AT)
    if other != pyotp.TOTP(secret).at(AT):
        assert credentials.accept_totp(secret, other, AT, None) is None
    assert credentials.accept_totp(secret, "12345", AT, None) is None
    assert credentials.accept_totp(secret, "abcdef", AT, None) is None


def test_provisioning_uri_names_the_operator_and_issuer_and_carries_the_secret() -> None:
    secret = credentials.new_totp_secret()
    uri = credentials.provisioning_uri(secret, "j.smith", "device-triage demo")
    parsed = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/")
    assert parsed.secret == secret
    assert parsed.name == "j.smith"
    assert parsed.issuer == "device-triage demo"


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
