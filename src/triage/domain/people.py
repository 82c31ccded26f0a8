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
    # The asset owner a person of an asset owner (Role.ASSET_OWNER) acts for; None for the
    # facility's own people.
    asset_owner: str | None = None

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
        check_owner_roles(self.roles, self.asset_owner)


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


def check_owner_roles(roles: frozenset[Role], asset_owner: str | None) -> None:
    """A person of an asset owner holds that role alone and names the owner; the facility's
    own people name none (an outside party never holds a facility role)."""
    if Role.ASSET_OWNER in roles:
        if len(roles) > 1:
            raise InvalidInput(
                "roles: a person of an asset owner holds the asset_owner role alone "
                "(an outside party never holds a facility role)",
                field="roles",
            )
        if asset_owner is None:
            raise InvalidInput(
                "asset_owner: a person with the asset_owner role acts for a registered "
                "asset owner: name it",
                field="asset_owner",
            )
    elif asset_owner is not None:
        raise InvalidInput(
            "asset_owner: only a person with the asset_owner role acts for an asset owner "
            "(the facility's own people act for none)",
            field="asset_owner",
        )


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
