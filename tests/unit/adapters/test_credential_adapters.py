from __future__ import annotations

import pyotp
import pytest

from triage.adapters.packaged_data import PackagedFiles
from triage.adapters.passwords import Argon2Passwords
from triage.adapters.totp import PyotpCodes
from triage.domain import credentials
from triage.errors import InvalidInput

GOOD = "Kettle-Harbour-Lantern-47"


def test_the_common_password_list_is_bundled_and_large() -> None:
    common = PackagedFiles().common_passwords()
    assert len(common) >= 10_000
    assert {"password", "123456", "qwerty"} <= common


@pytest.mark.parametrize("weak", ["1q2w3e4r5t6y", "Qwertyuiop123", "Password1234!"])
def test_the_packaged_list_refuses_common_passwords(weak: str) -> None:
    common = PackagedFiles().common_passwords()
    credentials.check_password(GOOD, "j.smith", common)
    with pytest.raises(InvalidInput, match="common passwords"):
        credentials.check_password(weak, "j.smith", common)


def test_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    hasher = Argon2Passwords()
    stored = hasher.hash(GOOD)
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert hasher.verify(stored, GOOD)
    assert not hasher.verify(stored, GOOD + "x")
    assert not hasher.verify(None, GOOD)
    assert not hasher.verify("not a hash", GOOD)
    assert hasher.hash(GOOD) != stored  # salted


def test_provisioning_uri_names_the_operator_and_issuer_and_carries_the_secret() -> None:
    secret = PyotpCodes().new_secret()
    uri = PyotpCodes().provisioning_uri(secret, "j.smith", "device-triage demo")
    parsed = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/")
    assert parsed.secret == secret
    assert parsed.name == "j.smith"
    assert parsed.issuer == "device-triage demo"


def test_totp_codes_are_the_authenticators_codes() -> None:
    secret = PyotpCodes().new_secret()
    assert len(secret) == 32
    step = 59_000_000
    assert PyotpCodes().code(secret, step) == pyotp.TOTP(secret).generate_otp(step)
