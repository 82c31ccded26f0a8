"""Settings from the environment, with the defaults a fresh machine needs."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from triage.domain.token import MAX_DAYS
from triage.errors import InvalidInput

DEFAULT_TOKEN_MAX_DAYS = 90
# The facility `triage init` creates unless told otherwise (and `triage demo` runs).
DEMO_FACILITY_ID = "demo"
DEMO_FACILITY_NAME = "Demo Triage Facility"


@dataclass(frozen=True)
class Settings:
    """Where the data lives and which database to use."""

    data_dir: Path
    database_url: str
    # The longest an API token may last here (TRIAGE_TOKEN_MAX_DAYS): a stolen token's worth.
    token_max_days: int = DEFAULT_TOKEN_MAX_DAYS
    # Reverse proxies whose X-Forwarded-For is believed (TRIAGE_TRUSTED_PROXIES: addresses or
    # CIDR networks, comma-separated). Empty: a client's address is the socket's peer, always.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        trusted_networks(self.trusted_proxies)  # refuses a malformed entry at once
        if not 1 <= self.token_max_days <= MAX_DAYS:
            raise InvalidInput(
                f"TRIAGE_TOKEN_MAX_DAYS: a token may last 1 to {MAX_DAYS} days, "
                f"not {self.token_max_days}"
            )

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Settings:
        """Read ``TRIAGE_DATA_DIR`` (default ``./var``), ``TRIAGE_DATABASE_URL`` and
        ``TRIAGE_TOKEN_MAX_DAYS`` (default 90)."""
        directory = (data_dir or Path(os.environ.get("TRIAGE_DATA_DIR", "var"))).resolve()
        url = os.environ.get("TRIAGE_DATABASE_URL") or f"sqlite:///{directory / 'triage.db'}"
        return cls(
            data_dir=directory,
            database_url=url,
            token_max_days=_token_max_days(os.environ),
            trusted_proxies=parse_proxies(os.environ.get("TRIAGE_TRUSTED_PROXIES", "")),
        )

    @property
    def keys_dir(self) -> Path:
        """Directory of the facility's key files (mode 0700)."""
        return self.data_dir / "keys"


def _token_max_days(environ: Mapping[str, str]) -> int:
    text = environ.get("TRIAGE_TOKEN_MAX_DAYS", "").strip()
    if not text:
        return DEFAULT_TOKEN_MAX_DAYS
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(
            f"TRIAGE_TOKEN_MAX_DAYS: a whole number of days (1 to {MAX_DAYS}), not {text[:20]!r}"
        )
    return int(text)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(text: str) -> tuple[str, ...]:
    """Trusted proxies as written in ``TRIAGE_TRUSTED_PROXIES``: comma-separated, blanks dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of the trusted proxies; InvalidInput naming the first malformed one."""
    found = []
    for proxy in proxies:
        try:
            found.append(ipaddress.ip_network(proxy, strict=False))
        except ValueError as exc:
            raise InvalidInput(
                f"TRIAGE_TRUSTED_PROXIES: {proxy[:60]!r} is not an IP address or network "
                "(e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from exc
    return tuple(found)
