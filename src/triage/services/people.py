"""Operators, their API tokens, enrolled tools and the tamper policy in force."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime

from triage.domain import token as tokens
from triage.domain.caller import Caller, CallerKind, Credential
from triage.domain.credentials import StoredCredential
from triage.domain.digests import stored_digest, token_hash
from triage.domain.people import Operator, check_operator_id
from triage.domain.roles import Permission, Role, permissions
from triage.domain.tamper_policy import TamperPolicy
from triage.domain.tool import Tool, ToolStatus, check_tool_id, tool_key_name
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import Ref, format_time
from triage.ledger.errors import VerificationError
from triage.services import bench_assignment
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
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    operator_id: str,
    label: str = "api",
    scopes: frozenset[Permission] | None = None,
    days: int | None = None,
    bench: str | None = None,
    *,
    max_days: int = tokens.MAX_DAYS,
) -> IssuedToken:
    """A new API token for the operator asking, shown once; never for anyone else.

    Minted only from a credential that passed the second factor (a session, or a token minted
    from one): never wider than that token's scopes (nor the operator's roles), never lasting
    beyond it or ``max_days`` (the facility's maximum). ``days`` None: as long as allowed up to
    DEFAULT_DAYS. For a bench tablet, the token names the ``bench`` it is used at.
    """
    if caller.kind is not CallerKind.OPERATOR or caller.id != operator_id:
        # An administrator acting as someone would be indistinguishable from them in the ledger.
        raise PermissionDenied(
            f"{caller.kind.value} {caller.id} may not issue a token for {operator_id}: nobody "
            "is issued a token by someone else. Issue them an activation code instead "
            f"(POST /api/v1/operators/{operator_id}/activation or 'triage auth issue-activation "
            f"{operator_id}'); they sign in with it and their second factor for a token of "
            "their own"
        )
    minted_by = caller.credential
    if minted_by is None:
        raise PermissionDenied(
            "a token is minted only from a sign-in with the second factor: sign in "
            "(POST /api/v1/auth/login or 'triage auth login') and ask with that session, or "
            "with a token from such a sign-in"
        )
    if caller.scopes is not None:
        # A scoped token cannot mint itself a wider one.
        scopes = caller.scopes if scopes is None else scopes
        if not scopes <= caller.scopes:
            raise PermissionDenied("a scoped token cannot issue a token with wider scopes")
    label = label.strip()[:100] or "api"
    issued = now()
    try:
        expires = tokens.expiry(issued, days, max_days, minted_by)
        if bench is not None:
            bench = _bench_name(bench)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    token_id = secrets.token_hex(8)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    with uow_factory(write=True) as uow:
        found = uow.triage.operator(operator_id)
        if found is None or not found.may_act:
            raise NotFound(f"no active operator {operator_id!r}")
        if bench is not None:
            bench_assignment.check_assigned(uow, operator_id, bench)
        if scopes is not None and scopes <= tokens.READ_ONLY:
            # "read-only": the reading permissions this operator's roles have.
            scopes = (scopes & permissions(found.roles)) or None
            if scopes is None:
                raise InvalidInput("scopes: the operator's roles allow none of these")
        try:
            tokens.check_scopes(scopes, found.roles)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        stored = tokens.StoredToken(
            token_id, operator_id, label, issued, scopes, expires, None, bench
        )
        uow.triage.add_token(stored, secret)
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.token_issued",
                    Ref("operator", operator_id),
                    {
                        "token_id": token_id,
                        "label": label,
                        "scopes": sorted(p.value for p in scopes) if scopes else ["role"],
                        "expires_at": format_time(expires),
                        "bench": bench,
                        "minted_by": tokens.minted_by_json(minted_by),
                        # Replay checks the stored hash against it (a digest, not the secret).
                        "token_digest": stored_digest(token_hash(secret)),
                    },
                    issued,
                )
            ]
        )
        uow.commit()
    return IssuedToken(token_id, operator_id, secret)


def revoke_token(
    uow_factory: UnitOfWorkFactory, caller: Caller, token_id: str, reason: str = ""
) -> tokens.StoredToken:
    """Revoke a token at once (its operator, an administrator or a security manager)."""
    with uow_factory(write=True) as uow:
        found = uow.triage.token(token_id.strip())
        if found is None:
            raise NotFound(f"no token {token_id!r}")
        own = caller.id == found.operator_id and caller.kind is CallerKind.OPERATOR
        if not own:
            caller.require(Permission.OPERATOR_MANAGE, Permission.ACCOUNT_UNLOCK)
        if found.revoked_at is not None:
            raise Conflict(f"token {token_id} was already revoked")
        at = now()
        uow.triage.revoke_token(found.id, at)
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.token_revoked",
                    Ref("operator", found.operator_id),
                    {"token_id": found.id, "reason": reason.strip()[:500]},
                    at,
                )
            ]
        )
        uow.commit()
    return tokens.StoredToken(
        found.id,
        found.operator_id,
        found.label,
        found.created_at,
        found.scopes,
        found.expires_at,
        at,
        found.bench,
    )


def list_tokens(
    uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str | None = None
) -> list[tokens.StoredToken]:
    """Tokens (never their secrets): one's own, or anyone's for who manages operators."""
    own = operator_id == caller.id and caller.kind is CallerKind.OPERATOR
    if not own:
        caller.require(Permission.OPERATOR_MANAGE, Permission.ACCESS_REVIEW)
    with uow_factory(write=False) as uow:
        return uow.triage.tokens(operator_id)


def authenticate_token(uow_factory: UnitOfWorkFactory, secret: str) -> Caller:
    """The operator a bearer token belongs to, limited to the token's scopes and bench."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated("the bearer token is not a device-triage API token")
    with uow_factory(write=False) as uow:
        token = uow.triage.token_by_secret(secret)
        found = None if token is None else uow.triage.operator(token.operator_id)
        locked = found is not None and uow.credentials.lock("operator", found.id) is not None
        stored = None if found is None else uow.credentials.credential(found.id)
    if token is None or found is None:
        raise Unauthenticated("the bearer token is unknown")
    state = token.state(now())
    if state != "active":
        raise Unauthenticated(f"the bearer token {token.id} is {state}")
    if not found.active:
        raise Unauthenticated(f"operator {found.id} is not active")
    if locked:
        # A lock stops every credential of the account, as it stops its sessions: whoever is
        # guessing the password may hold a token too, and only an unlock (a recorded act) ends it.
        raise Unauthenticated(
            f"operator {found.id} is locked after repeated failed logins; "
            "ask an administrator or a security manager to unlock it"
        )
    if found.suspended:
        raise Unauthenticated(
            f"operator {found.id} is suspended; a security manager must reinstate them"
        )
    check_second_factor(found.id, stored, token.created_at, f"the bearer token {token.id}")
    credential = Credential("token", token.id, token.expires_at)
    return Caller.operator(found.id, found.roles, token.scopes, token.bench, credential)


def check_second_factor(
    operator_id: str, stored: StoredCredential | None, since: datetime, what: str
) -> None:
    """Refuse a credential (``what``, obtained at ``since``) of an operator whose second factor
    is not confirmed, or was enrolled anew after it: until enrolled, they may only enrol."""
    if stored is None or stored.totp_confirmed_at is None:
        raise PermissionDenied(
            f"operator {operator_id} has no confirmed second factor: enrol a second factor "
            "first (with an activation code from an administrator: POST /api/v1/auth/activate "
            "and /api/v1/auth/mfa/confirm, or 'triage auth activate' and 'triage auth "
            "confirm'); nothing else is allowed until then"
        )
    if since < stored.totp_confirmed_at:
        # Neither a token nor a session outlives the second factor it was obtained under.
        raise Unauthenticated(
            f"{what} predates operator {operator_id}'s current second factor; sign in again"
        )


def operator_caller(uow_factory: UnitOfWorkFactory, operator_id: str) -> Caller:
    """The caller for an operator acting through a trusted local path (tests, the demo)."""
    with uow_factory(write=False) as uow:
        found = uow.triage.operator(operator_id)
    if found is None or not found.may_act:
        raise PermissionDenied(f"no active operator {operator_id!r}")
    return Caller.operator(found.id, found.roles)


def change_roles(
    uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str, roles: frozenset[Role]
) -> Operator:
    """Give an operator a new set of roles (an administrator; not their own)."""
    caller.require(Permission.OPERATOR_MANAGE)
    if caller.id == operator_id:
        raise PermissionDenied("an administrator cannot change their own roles")
    if not roles:
        raise InvalidInput("roles: an operator needs at least one role")
    with uow_factory(write=True) as uow:
        found = uow.triage.operator(operator_id)
        if found is None:
            raise NotFound(f"no operator {operator_id!r}")
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.roles_changed",
                    Ref("operator", operator_id),
                    {
                        "roles": sorted(r.value for r in roles),
                        "previous": sorted(r.value for r in found.roles),
                    },
                )
            ]
        )
        uow.commit()
        changed = uow.triage.operator(operator_id)
    assert changed is not None
    return changed


def _bench_name(bench: str) -> str:
    name = bench.strip()
    if not name or len(name) > 64:
        raise ValueError("bench: name the bench (1-64 characters)")
    return name


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


def suspend_tool(uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, reason: str) -> Tool:
    """Stop a tool from being given work or heard from, until a security manager reinstates it."""
    return _change_tool(uow_factory, caller, Permission.TOOL_MANAGE, tool_id, reason, "suspended")


def retire_tool(uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, reason: str) -> Tool:
    """Take a tool out of service for good: it is never given work or heard from again."""
    return _change_tool(uow_factory, caller, Permission.TOOL_MANAGE, tool_id, reason, "retired")


def reinstate_tool(
    uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, reason: str
) -> Tool:
    """Put a suspended tool back in service (a security manager, with a reason)."""
    permission = Permission.SUSPENSION_REINSTATE
    return _change_tool(uow_factory, caller, permission, tool_id, reason, "reinstated")


def _change_tool(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    permission: Permission,
    tool_id: str,
    reason: str,
    change: str,
) -> Tool:
    caller.require(permission)
    with uow_factory(write=True) as uow:
        found = _tool_status_change(uow, caller, tool_id, reason, f"tool.{change}")
        uow.commit()
    return found


def record_tool_suspension(uow: UnitOfWork, caller: Caller, tool_id: str, reason: str) -> Tool:
    """Suspend a tool within an open unit of work (for the anomaly checks)."""
    return _tool_status_change(uow, caller, tool_id, reason, "tool.suspended")


_FROM = {
    "tool.suspended": (ToolStatus.ACTIVE,),
    "tool.retired": (ToolStatus.ACTIVE, ToolStatus.SUSPENDED),
    "tool.reinstated": (ToolStatus.SUSPENDED,),
}


def _tool_status_change(
    uow: UnitOfWork, caller: Caller, tool_id: str, reason: str, entry_type: str
) -> Tool:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason: say why (it is recorded in the ledger)")
    found = uow.triage.tool(tool_id)
    if found is None:
        raise NotFound(f"no enrolled tool {tool_id!r}")
    if found.status not in _FROM[entry_type]:
        raise Conflict(
            f"tool {tool_id} is {found.status}; it cannot be {entry_type.removeprefix('tool.')}"
        )
    uow.ledger.record(
        [make_entry(uow, caller, entry_type, Ref("tool", tool_id), {"reason": reason[:2000]})]
    )
    changed = uow.triage.tool(tool_id)
    assert changed is not None
    return changed


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
    # Two first inspections at once must not both activate the default: take the ledger's
    # append lock (which this transaction's entry needs anyway), then look again. On
    # PostgreSQL the second waits here and then sees the first one's policy.
    uow.ledger.storage.lock_head()
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
