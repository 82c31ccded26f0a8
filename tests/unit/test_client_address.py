"""Whose address a request is: the socket's, unless a trusted proxy forwarded it (attack 12)."""

from __future__ import annotations

import pytest

from triage.config import Settings, parse_proxies, trusted_networks
from triage.entrypoints.api.hardening import client_from_forwarded
from triage.errors import InvalidInput

PROXY = trusted_networks(("10.0.0.5", "10.1.0.0/16"))


@pytest.mark.parametrize(
    ("header", "client"),
    [
        (["203.0.113.9"], "203.0.113.9"),
        # Whatever the client wrote on the left is ignored; our proxies' own hops are skipped.
        (["1.2.3.4, 203.0.113.9"], "203.0.113.9"),
        (["1.2.3.4, 203.0.113.9, 10.1.2.3"], "203.0.113.9"),
        (["1.2.3.4", "203.0.113.9"], "203.0.113.9"),
        (["2001:db8::1"], "2001:db8::1"),
        ([], None),
        (["not-an-address"], None),
        (["10.0.0.5"], None),
    ],
)
def test_the_right_most_untrusted_forwarded_address_is_the_client(
    header: list[str], client: str | None
) -> None:
    assert client_from_forwarded(header, PROXY) == client


def test_trusted_proxies_are_read_from_the_environment_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIAGE_TRUSTED_PROXIES", " 10.0.0.5, ,10.1.0.0/16 ")
    assert Settings.from_env().trusted_proxies == ("10.0.0.5", "10.1.0.0/16")
    monkeypatch.delenv("TRIAGE_TRUSTED_PROXIES")
    assert Settings.from_env().trusted_proxies == ()
    assert parse_proxies("") == ()
    monkeypatch.setenv("TRIAGE_TRUSTED_PROXIES", "10.0.0.5,proxy.example.net")
    with pytest.raises(InvalidInput, match=r"proxy\.example\.net"):
        Settings.from_env()
