"""API tokens: issuing one (shown once), revoking and listing them, and authenticating a
bearer token, with the second-factor rule every credential shares."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from triage.domain import token as tokens
from triage.domain.caller import Caller, CallerKind, Credential
from triage.domain.digests import stored_digest, token_hash
from triage.domain.reason import Reason
from triage.domain.roles import Permission, permissions
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from triage.ledger.entry import Ref, format_time
from triage.services import bench_assignment
from triage.services.common import make_entry
from triage.services.ports import UnitOfWorkFactory

TOKEN_PREFIX = "tri_"  # noqa: S105 - a public prefix that marks our tokens, not a secret


@dataclass(frozen=True)
class IssuedToken:
    """An API token: the secret is shown once and only its hash is kept."""

    token_id: str
    operator_id: str
    secret: str


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
    issued = uow_factory.clock.now()
    expires = tokens.expiry(issued, days, max_days, minted_by)
    if bench is not None:
        bench = _bench_name(bench)
    token_id = secrets.token_hex(8)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    with uow_factory(write=True) as uow:
        found = uow.operators.get(operator_id)
        if found is None or not found.may_act:
            raise NotFound(f"no active operator {operator_id!r}")
        if bench is not None:
            bench_assignment.check_assigned(uow, operator_id, bench)
        if scopes is not None and scopes <= tokens.READ_ONLY:
            # "read-only": the reading permissions this operator's roles have.
            scopes = (scopes & permissions(found.roles)) or None
            if scopes is None:
                raise InvalidInput("scopes: the operator's roles allow none of these")
        tokens.check_scopes(scopes, found.roles)
        stored = tokens.StoredToken(
            token_id, operator_id, label, issued, scopes, expires, None, bench
        )
        uow.tokens.add(stored, secret)
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
    uow_factory: UnitOfWorkFactory, caller: Caller, token_id: str, reason: str
) -> tokens.StoredToken:
    """Revoke a token at once (its operator, an administrator or a security manager), saying
    why."""
    with uow_factory(write=True) as uow:
        found = uow.tokens.get(token_id.strip())
        if found is None:
            raise NotFound(f"no token {token_id!r}")
        own = caller.id == found.operator_id and caller.kind is CallerKind.OPERATOR
        if not own:
            caller.require(Permission.OPERATOR_MANAGE, Permission.ACCOUNT_UNLOCK)
        why = Reason.parse(reason)
        if found.revoked_at is not None:
            raise Conflict(f"token {token_id} was already revoked")
        at = uow.clock.now()
        uow.tokens.revoke(found.id, at)
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.token_revoked",
                    Ref("operator", found.operator_id),
                    {"token_id": found.id, "reason": why.text},
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
        return uow.tokens.all(operator_id)


def authenticate_token(uow_factory: UnitOfWorkFactory, secret: str) -> Caller:
    """The operator a bearer token belongs to, limited to the token's scopes and bench."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated("the bearer token is not a device-triage API token")
    with uow_factory(write=False) as uow:
        token = uow.tokens.by_secret(secret)
        holder = None if token is None else uow.credentials.holder(token.operator_id)
    if token is None or holder is None:
        raise Unauthenticated("the bearer token is unknown")
    found = holder.operator
    state = token.state(uow_factory.clock.now())
    if state != "active":
        raise Unauthenticated(f"the bearer token {token.id} is {state}")
    if not found.active:
        raise Unauthenticated(f"operator {found.id} is not active")
    if holder.locked:
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
    check_second_factor(
        found.id, holder.second_factor_since, token.created_at, f"the bearer token {token.id}"
    )
    credential = Credential("token", token.id, token.expires_at)
    return Caller.operator(
        found.id, found.roles, token.scopes, token.bench, credential, found.asset_owner
    )


def check_second_factor(
    operator_id: str, confirmed_at: datetime | None, since: datetime, what: str
) -> None:
    """Refuse a credential (``what``, obtained at ``since``) of an operator whose second factor
    is not confirmed (``confirmed_at`` None), or was enrolled anew after it: until enrolled,
    they may only enrol."""
    if confirmed_at is None:
        raise PermissionDenied(
            f"operator {operator_id} has no confirmed second factor: enrol a second factor "
            "first (with an activation code from an administrator: POST /api/v1/auth/activate "
            "and /api/v1/auth/mfa/confirm, or 'triage auth activate' and 'triage auth "
            "confirm'); nothing else is allowed until then"
        )
    if since < confirmed_at:
        # Neither a token nor a session outlives the second factor it was obtained under.
        raise Unauthenticated(
            f"{what} predates operator {operator_id}'s current second factor; sign in again"
        )


def _bench_name(bench: str) -> str:
    name = bench.strip()
    if not name or len(name) > 64:
        raise InvalidInput("bench: name the bench (1-64 characters)", field="bench")
    return name
