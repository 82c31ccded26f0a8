"""TOTP codes (RFC 6238) with pyotp: the ``TotpCodes`` port."""

from __future__ import annotations

import pyotp

from triage.domain.credentials import TOTP_DIGITS, TOTP_SECONDS


class PyotpCodes:
    """Six-digit codes for 30-second steps, as every authenticator app shows them."""

    def new_secret(self) -> str:
        """A fresh base32 TOTP secret (160 bits)."""
        return pyotp.random_base32(32)

    def provisioning_uri(self, secret: str, operator_id: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app reads from a QR code."""
        totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_SECONDS)
        return totp.provisioning_uri(name=operator_id, issuer_name=issuer)

    def code(self, secret: str, step: int) -> str:
        """The code of ``secret`` for time step ``step``."""
        return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_SECONDS).generate_otp(step)
