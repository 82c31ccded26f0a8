"""Settings from the environment, with the defaults a fresh machine needs."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from pathlib import Path

from triage.domain.local_time import DEFAULT_TIME_ZONE, time_zone
from triage.domain.token import MAX_DAYS
from triage.errors import InvalidInput

DEFAULT_TOKEN_MAX_DAYS = 90
# The facility `triage init` creates unless told otherwise (and `triage demo` runs).
DEMO_FACILITY_ID = "demo"
DEMO_FACILITY_NAME = "Demo Triage Facility"


# The DUIS schema's file name as the DCC publishes it (issue 20).
DUIS_SCHEMA_FILE = "DUIS Schema V5.4.xsd"

# Where a setting that no environment variable changes comes from.
BUILT_IN = "built in (triage.config.Settings)"


@dataclass(frozen=True)
class ReadOnlySetting:
    """A setting as the settings page shows it: what it is, its value, where it comes from."""

    label: str
    value: str
    source: str


def _duration(span: timedelta) -> str:
    """15 minutes, 8 hours."""
    minutes = int(span.total_seconds()) // 60
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class Settings:
    """Where the data lives, which database and facility to use, and the intervals and limits
    the use cases apply (the unit-of-work factory hands them to every use case)."""

    data_dir: Path
    database_url: str
    # The longest an API token may last here (TRIAGE_TOKEN_MAX_DAYS): a stolen token's worth.
    token_max_days: int = DEFAULT_TOKEN_MAX_DAYS
    # Reverse proxies whose X-Forwarded-For is believed (TRIAGE_TRUSTED_PROXIES: addresses or
    # CIDR networks, comma-separated). Empty: a client's address is the socket's peer, always.
    trusted_proxies: tuple[str, ...] = ()
    # The facility to open when one database holds several (TRIAGE_FACILITY). None: the only one.
    facility: str | None = None
    # The IANA time zone the facility works in (TRIAGE_TIME_ZONE): times are shown, and working
    # hours set and checked, in it; everything is stored in UTC.
    time_zone: str = DEFAULT_TIME_ZONE

    # Web sessions: ended after this long without a request, and this long after login at most.
    session_idle_timeout: timedelta = timedelta(minutes=15)
    session_absolute_timeout: timedelta = timedelta(hours=8)
    # Failed logins: an account locks after this many in a row; an address after this many
    # within the window (or one fewer in a row against one account).
    account_lock_failures: int = 5
    source_lock_failures: int = 20
    source_lock_window: timedelta = timedelta(minutes=15)
    # Wrong second-factor codes while enrolling: this many per account, or per address, within
    # the window, then a wait of code_retry_seconds.
    code_failures_per_account: int = 10
    code_failures_per_source: int = 10
    code_failure_window: timedelta = timedelta(minutes=15)
    code_retry_seconds: int = 60
    # A refusal an unauthenticated caller can repeat at will (a failed login, a bench agent's
    # bad signature) is recorded once per interval per subject, so it cannot grow the ledger.
    refusal_record_interval: timedelta = timedelta(minutes=1)
    # A register found disagreeing with the ledger raises an alert at most once per interval.
    disagreement_alert_interval: timedelta = timedelta(minutes=10)
    # A bench's result is still taken this long after its work order expired (clock skew, a
    # result in flight); the expiry sweep waits as long.
    work_order_expiry_grace: timedelta = timedelta(minutes=2)
    # Bench-agent requests whose signature cannot be checked: this many per window, then 429.
    agent_unverified_burst: int = 20
    agent_unverified_window: timedelta = timedelta(minutes=1)
    # The DUIS schema from the DCC (TRIAGE_DUIS_SCHEMA; default <data_dir>/duis/DUIS Schema
    # V5.4.xsd, with the two schemas it imports beside it). Not shipped: it is GPL-3.0.
    duis_schema: Path | None = None
    # The ledger's tile read API (C2SP tlog-tiles, /api/v1/ledger/tlog) readable by anyone,
    # without a token (TRIAGE_TLOG_PUBLIC): for a facility whose log monitors and witnesses
    # follow from outside. Off: only who may read assurance data reads it.
    tlog_public: bool = False

    def __post_init__(self) -> None:
        if self.duis_schema is None:
            object.__setattr__(self, "duis_schema", self.data_dir / "duis" / DUIS_SCHEMA_FILE)
        trusted_networks(self.trusted_proxies)  # refuses a malformed entry at once
        time_zone(self.time_zone, "TRIAGE_TIME_ZONE")  # refuses an unknown zone at once
        if not 1 <= self.token_max_days <= MAX_DAYS:
            raise InvalidInput(
                f"TRIAGE_TOKEN_MAX_DAYS: a token may last 1 to {MAX_DAYS} days, "
                f"not {self.token_max_days}"
            )

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Settings:
        """Read ``TRIAGE_DATA_DIR`` (default ``./var``), ``TRIAGE_DATABASE_URL``,
        ``TRIAGE_TOKEN_MAX_DAYS`` (default 90), ``TRIAGE_TRUSTED_PROXIES``, ``TRIAGE_FACILITY``
        ``TRIAGE_TIME_ZONE`` (default Europe/London), ``TRIAGE_DUIS_SCHEMA`` (the DUIS
        schema file, or the folder holding it) and ``TRIAGE_TLOG_PUBLIC`` (default off)."""
        directory = (data_dir or Path(os.environ.get("TRIAGE_DATA_DIR", "var"))).resolve()
        url = os.environ.get("TRIAGE_DATABASE_URL") or f"sqlite:///{directory / 'triage.db'}"
        return cls(
            data_dir=directory,
            database_url=url,
            token_max_days=_token_max_days(os.environ),
            trusted_proxies=parse_proxies(os.environ.get("TRIAGE_TRUSTED_PROXIES", "")),
            facility=os.environ.get("TRIAGE_FACILITY") or None,
            time_zone=os.environ.get("TRIAGE_TIME_ZONE", "").strip() or DEFAULT_TIME_ZONE,
            duis_schema=_duis_schema(os.environ),
            tlog_public=_switch(os.environ, "TRIAGE_TLOG_PUBLIC"),
        )

    def read_only(self) -> tuple[ReadOnlySetting, ...]:
        """The settings no page changes, each with where it comes from (for the settings page;
        the database's address is not shown, as it may hold a password: only its kind)."""
        backend = self.database_url.partition(":")[0].partition("+")[0] or "unknown"
        return (
            ReadOnlySetting(
                "Time zone", self.time_zone, f"TRIAGE_TIME_ZONE (default {DEFAULT_TIME_ZONE})"
            ),
            ReadOnlySetting(
                "Longest an API token may last",
                f"{self.token_max_days} days",
                f"TRIAGE_TOKEN_MAX_DAYS (default {DEFAULT_TOKEN_MAX_DAYS})",
            ),
            ReadOnlySetting(
                "Trusted reverse proxies",
                ", ".join(self.trusted_proxies) or "none",
                "TRIAGE_TRUSTED_PROXIES (default none)",
            ),
            ReadOnlySetting("Database", backend, "TRIAGE_DATABASE_URL (default SQLite)"),
            ReadOnlySetting(
                "Data directory", str(self.data_dir), "TRIAGE_DATA_DIR (default ./var)"
            ),
            ReadOnlySetting(
                "DUIS schema",
                str(self.duis_schema),
                f"TRIAGE_DUIS_SCHEMA (default <data directory>/duis/{DUIS_SCHEMA_FILE})",
            ),
            ReadOnlySetting(
                "Ledger tiles readable without a token",
                "yes" if self.tlog_public else "no",
                "TRIAGE_TLOG_PUBLIC (default no)",
            ),
            ReadOnlySetting(
                "Session ends after no request for",
                _duration(self.session_idle_timeout),
                BUILT_IN,
            ),
            ReadOnlySetting(
                "Session ends after signing in at most",
                _duration(self.session_absolute_timeout),
                BUILT_IN,
            ),
            ReadOnlySetting(
                "An account locks after failed logins in a row",
                str(self.account_lock_failures),
                BUILT_IN,
            ),
        )

    @property
    def zone(self) -> tzinfo:
        """The facility's time zone (``time_zone``), for showing times and working hours."""
        return time_zone(self.time_zone, "TRIAGE_TIME_ZONE")

    @property
    def keys_dir(self) -> Path:
        """Directory of the facility's key files (mode 0700)."""
        return self.data_dir / "keys"


def _duis_schema(environ: Mapping[str, str]) -> Path | None:
    """TRIAGE_DUIS_SCHEMA: the schema file, or the folder the DCC's schemas were put in."""
    text = environ.get("TRIAGE_DUIS_SCHEMA", "").strip()
    if not text:
        return None
    path = Path(text).resolve()
    return path / DUIS_SCHEMA_FILE if path.is_dir() else path


_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def _switch(environ: Mapping[str, str], name: str) -> bool:
    """An on/off setting: 1, true, yes or on; 0, false, no, off or unset (off)."""
    text = environ.get(name, "").strip().lower()
    if not text or text in _OFF:
        return False
    if text in _ON:
        return True
    raise InvalidInput(f"{name}: 1 (on) or 0 (off), not {text[:20]!r}")


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
