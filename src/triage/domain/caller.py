"""Who is asking: an operator with roles, an enrolled Triage Tool, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from triage.domain.roles import Permission, Role, permissions, roles_with
from triage.errors import PermissionDenied
from triage.ledger.entry import Ref

_ROLE_ORDER = [role.value for role in Role].index


class CallerKind(StrEnum):
    """The kinds of actor that appear in ledger entries."""

    OPERATOR = "operator"
    TOOL = "tool"
    SYSTEM = "system"


@dataclass(frozen=True)
class Credential:
    """What an operator's request came with, having passed the second factor at sign-in: a web
    session (named by when it signed in) or an API token minted from one (named by its id)."""

    kind: Literal["session", "token"]
    id: str
    # A token's expiry: nothing it mints outlives it. None for a session, whose tokens are
    # bounded by the facility's maximum and the second factor the session proved.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Caller:
    """An authenticated actor; services check every request against ``require``."""

    kind: CallerKind
    id: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    # A token's scopes: what it may be used for, within the roles. None: all the roles allow.
    scopes: frozenset[Permission] | None = None
    # The bench the operator is signed in at (a bench session or a bench token), if any.
    bench: str | None = None
    # How an operator proved who they are; None on a trusted local path, which mints no token.
    credential: Credential | None = None
    # The asset owner a person of an asset owner (Role.ASSET_OWNER) acts for; None for the
    # facility's own people.
    asset_owner: str | None = None

    @classmethod
    def operator(
        cls,
        operator_id: str,
        roles: frozenset[Role],
        scopes: frozenset[Permission] | None = None,
        bench: str | None = None,
        credential: Credential | None = None,
        asset_owner: str | None = None,
    ) -> Caller:
        """An operator holding ``roles``, limited to ``scopes`` when given, at ``bench``."""
        return cls(CallerKind.OPERATOR, operator_id, roles, scopes, bench, credential, asset_owner)

    @classmethod
    def tool(cls, tool_id: str) -> Caller:
        """An enrolled Triage Tool, authenticated by its own key."""
        return cls(CallerKind.TOOL, tool_id)

    @classmethod
    def system(cls, name: str = "triage") -> Caller:
        """The system acting on its own rules (policy decisions, automatic quarantine)."""
        return cls(CallerKind.SYSTEM, name)

    @property
    def ref(self) -> Ref:
        """How the caller appears as the actor of a ledger entry."""
        return Ref(self.kind.value, self.id)

    def can(self, permission: Permission) -> bool:
        """True when an operator's roles grant ``permission`` (the system may do anything)."""
        if self.kind is CallerKind.SYSTEM:
            return True
        if self.scopes is not None and permission not in self.scopes:
            return False
        return self.kind is CallerKind.OPERATOR and permission in permissions(self.roles)

    def require(self, permission: Permission, *alternatives: Permission) -> None:
        """Raise PermissionDenied unless the caller may do ``permission`` (or an alternative)."""
        needed = (permission, *alternatives)
        if any(self.can(p) for p in needed):
            return
        names = " or ".join(p.value for p in needed)
        if self.scopes is not None and any(p in permissions(self.roles) for p in needed):
            raise PermissionDenied(
                f"this token of {self.kind.value} {self.id} is not scoped for {names}"
            )
        holders = sorted({role.value for p in needed for role in roles_with(p)}, key=_ROLE_ORDER)
        held = ", ".join(sorted(role.value for role in self.roles)) or "no role"
        raise PermissionDenied(
            f"{self.kind.value} {self.id} ({held}) may not {names}; "
            f"that needs: {', '.join(holders) or 'no role'}"
        )

    def owner_scope(self) -> str | None:
        """Whose devices the caller may read: None for the facility's own readers
        (``triage.read``: every device), the asset owner's id for a person of an asset owner
        (``owner.read``: that owner's devices only, every read filtered in the service layer);
        PermissionDenied for anyone else."""
        if self.can(Permission.TRIAGE_READ):
            return None
        if self.asset_owner is not None and self.can(Permission.OWNER_READ):
            return self.asset_owner
        self.require(Permission.TRIAGE_READ, Permission.OWNER_READ)
        raise PermissionDenied(f"{self.kind.value} {self.id} acts for no asset owner")

    def require_tool(self) -> None:
        """Raise PermissionDenied unless the caller is a Triage Tool."""
        if self.kind is not CallerKind.TOOL:
            raise PermissionDenied("only an enrolled Triage Tool may do this")
