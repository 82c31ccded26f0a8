"""Operators: the people who use the system, each with one or more roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from triage.domain.roles import Role
from triage.errors import InvalidInput, NotFound

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class Operator:
    """A person known to the system. Only an id and a display name: no other personal data."""

    id: str
    name: str
    roles: frozenset[Role]
    active: bool
    created_at: datetime
    suspended: bool = False
    mfa_enrolled: bool = False
    last_login_at: datetime | None = None

    @property
    def may_act(self) -> bool:
        """Active and not suspended: the only operators whose credentials are honoured."""
        return self.active and not self.suspended

    def __post_init__(self) -> None:
        check_operator_id(self.id)
        if not self.name.strip() or len(self.name) > 200:
            raise InvalidInput("name: must be 1-200 characters", field="name")
        if not self.roles:
            raise InvalidInput("roles: an operator needs at least one role", field="roles")


@dataclass(frozen=True)
class Holder:
    """An operator as a credential check sees them, read at once: the account, whether it is
    locked, and when its current second factor was confirmed (None: not yet)."""

    operator: Operator
    locked: bool
    second_factor_since: datetime | None


def check_operator_id(operator_id: str) -> None:
    """Operator ids are short, lower-case and stable (they appear in the ledger forever)."""
    if not _ID.match(operator_id):
        raise InvalidInput(
            f"operator id {operator_id!r} must be 2-64 lower-case letters, digits, '.', '_' or '-'",
            field="operator_id",
        )


def sought_id(operator_id: str) -> str:
    """An operator id about to be looked up; NotFound for one no operator can have (it is
    never looked up: a NUL upsets PostgreSQL)."""
    try:
        check_operator_id(operator_id)
    except InvalidInput:
        raise NotFound(f"no operator {operator_id[:70]!r}") from None
    return operator_id


def parse_roles(values: list[str]) -> frozenset[Role]:
    """Roles from their names, with a message listing the valid ones."""
    roles = set()
    for value in values:
        try:
            roles.add(Role(value.strip().lower()))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise InvalidInput(f"role {value!r} is not one of: {valid}", field="roles") from None
    return frozenset(roles)
