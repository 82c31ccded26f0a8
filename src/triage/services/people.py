"""Operators, their API tokens, enrolled tools and the tamper policy in force."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.people import Operator, check_operator_id
from triage.domain.roles import Permission, Role
from triage.domain.tamper_policy import TamperPolicy
from triage.domain.tool import Tool, ToolStatus, check_tool_id, tool_key_name
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import Ref
from triage.ledger.errors import VerificationError
from triage.services.common import make_entry, now
from triage.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

TOKEN_PREFIX = "tri_"  # noqa: S105 - a public prefix that marks our tokens, not a secret


@dataclass(frozen=True)
class IssuedToken:
    """An API token: the secret is shown once and only its hash is kept."""

    token_id: str
    operator_id: str
    secret: str


def create_operator(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    operator_id: str,
    name: str,
    roles: frozenset[Role],
) -> Operator:
    """Register an operator with roles."""
    caller.require(Permission.OPERATOR_MANAGE)
    try:
        check_operator_id(operator_id)
        created = Operator(operator_id, name.strip(), roles, True, now())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    with uow_factory(write=True) as uow:
        if uow.triage.operator(operator_id) is not None:
            raise Conflict(f"operator {operator_id!r} already exists")
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.created",
                    Ref("operator", operator_id),
                    {"name": created.name, "roles": sorted(r.value for r in roles)},
                    created.created_at,
                )
            ]
        )
        uow.commit()
    return created


def issue_token(
    uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str, label: str = "api"
) -> IssuedToken:
    """A new API token for an operator (by an administrator, or the operator for themself)."""
    if caller.id != operator_id:
        caller.require(Permission.OPERATOR_MANAGE)
    token_id = secrets.token_hex(8)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    with uow_factory(write=True) as uow:
        found = uow.triage.operator(operator_id)
        if found is None or not found.active:
            raise NotFound(f"no active operator {operator_id!r}")
        uow.triage.add_token(token_id, operator_id, secret, label[:100])
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.token_issued",
                    Ref("operator", operator_id),
                    {"token_id": token_id, "label": label[:100]},
                )
            ]
        )
        uow.commit()
    return IssuedToken(token_id, operator_id, secret)


def authenticate_token(uow_factory: UnitOfWorkFactory, secret: str) -> Caller:
    """The operator a bearer token belongs to, or Unauthenticated."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated("the bearer token is not a device-triage API token")
    with uow_factory(write=False) as uow:
        found = uow.triage.operator_for_token(secret)
    if found is None:
        raise Unauthenticated("the bearer token is unknown or revoked")
    if not found.active:
        raise Unauthenticated(f"operator {found.id} is not active")
    return Caller.operator(found.id, found.roles)


def operator_caller(uow_factory: UnitOfWorkFactory, operator_id: str) -> Caller:
    """The caller for an operator named on the command line (local shell access)."""
    with uow_factory(write=False) as uow:
        found = uow.triage.operator(operator_id)
    if found is None or not found.active:
        raise PermissionDenied(f"no active operator {operator_id!r}")
    return Caller.operator(found.id, found.roles)


def enrol_tool(
    uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, bench: str, verifier_key: str
) -> Tool:
    """Register a Triage Tool by its public key; the private key stays on the bench."""
    caller.require(Permission.TOOL_MANAGE)
    try:
        check_tool_id(tool_id)
        parsed = note.parse_verifier_key(verifier_key.strip())
    except (ValueError, VerificationError) as exc:
        raise InvalidInput(f"verifier_key: {exc}" if "key" in str(exc) else str(exc)) from exc
    if parsed.name != tool_key_name(tool_id):
        raise InvalidInput(
            f"verifier_key: the key is named {parsed.name!r}; a key for tool {tool_id} must be "
            f"named {tool_key_name(tool_id)!r} (triage agent keygen does this)"
        )
    if not bench.strip():
        raise InvalidInput("bench: name the bench the tool sits at")
    enrolled = Tool(tool_id, bench.strip(), verifier_key.strip(), ToolStatus.ACTIVE, now())
    with uow_factory(write=True) as uow:
        if uow.triage.tool(tool_id) is not None:
            raise Conflict(f"tool {tool_id!r} is already enrolled")
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "tool.enrolled",
                    Ref("tool", tool_id),
                    {"bench": enrolled.bench, "verifier_key": enrolled.verifier_key},
                    enrolled.enrolled_at,
                )
            ]
        )
        uow.commit()
    return enrolled


def activate_policy(uow_factory: UnitOfWorkFactory, caller: Caller, policy: TamperPolicy) -> None:
    """Put a tamper policy in force; its full text goes into the ledger."""
    caller.require(Permission.POLICY_MANAGE)
    with uow_factory(write=True) as uow:
        _record_policy(uow, caller, policy)
        uow.commit()


def _record_policy(uow: UnitOfWork, caller: Caller, policy: TamperPolicy) -> None:
    uow.ledger.record(
        [
            make_entry(
                uow,
                caller,
                "policy.activated",
                Ref("policy", policy.id),
                {
                    "policy_id": policy.id,
                    "version": policy.version,
                    "hash": policy.hash,
                    "source": policy.source.decode("utf-8"),
                },
            )
        ]
    )


def ensure_policy(uow: UnitOfWork) -> TamperPolicy:
    """The policy in force; the packaged default is activated the first time one is needed."""
    source = uow.triage.active_policy_source()
    if source is not None:
        return _policy(source)
    policy = TamperPolicy.default()
    _record_policy(uow, Caller.system(), policy)
    return policy


@functools.lru_cache(maxsize=8)
def _policy(source: str) -> TamperPolicy:
    # Parsing and validating the YAML is most of an inspection's cost; a policy's text is its
    # identity, so the parsed policy can be reused for as long as that text is in force.
    return TamperPolicy.load(source.encode("utf-8"))
