"""API tokens: scoped to a role's permissions or less, expiring, revocable."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.domain.roles import Permission, Role, permissions

DEFAULT_DAYS = 90
MAX_DAYS = 365
# What an auditor's read-only token (or anyone's) may be limited to: reading and verifying.
READ_ONLY = frozenset(
    {
        Permission.TRIAGE_READ,
        Permission.HISTORY_READ,
        Permission.LEDGER_READ,
        Permission.RECEIPT_ISSUE,
        Permission.ACCESS_REVIEW,
    }
)


@dataclass(frozen=True)
class StoredToken:
    """What is kept about a token: never its secret."""

    id: str
    operator_id: str
    label: str
    created_at: datetime
    scopes: frozenset[Permission] | None  # None: everything the operator's roles allow
    expires_at: datetime
    revoked_at: datetime | None = None
    bench: str | None = None

    def state(self, now: datetime) -> str:
        """'revoked', 'expired' or 'active'."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active"


def parse_scopes(values: Iterable[str]) -> frozenset[Permission] | None:
    """Scopes from their names ('read-only' for the read-only set); empty means none asked."""
    scopes: set[Permission] = set()
    for value in values:
        name = value.strip().lower()
        if not name:
            continue
        if name in ("read-only", "readonly", "read_only"):
            scopes |= READ_ONLY
            continue
        try:
            scopes.add(Permission(name))
        except ValueError:
            valid = ", ".join(["read-only", *(p.value for p in Permission)])
            raise ValueError(f"scope {value!r} is not one of: {valid}") from None
    return frozenset(scopes) or None


def check_scopes(scopes: frozenset[Permission] | None, roles: frozenset[Role]) -> None:
    """A token may not be scoped beyond what its operator's roles allow."""
    if scopes is None:
        return
    beyond = scopes - permissions(roles)
    if beyond:
        names = ", ".join(sorted(p.value for p in beyond))
        raise ValueError(f"scopes: the operator's roles do not allow {names}")


def expiry(issued: datetime, days: int) -> datetime:
    """When a token issued at ``issued`` for ``days`` days expires (1 to MAX_DAYS)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days: a token lasts 1 to {MAX_DAYS} days, not {days}")
    return issued + timedelta(days=days)
