"""REST endpoints of people's authentication: activation, MFA, login, logout, locks.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_auth_router``.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain import token as tokens
from triage.domain.caller import Caller
from triage.domain.credentials import ACTIVATION_LIFETIME, AccessLock
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import (
    access,
    operator_dependency,
    permission_dependency,
    requires,
)
from triage.entrypoints.encoding import token_json
from triage.entrypoints.sessions import close_session, open_session, session_secret
from triage.errors import InvalidInput
from triage.ledger.entry import format_time
from triage.services import auth
from triage.services import tokens as token_service

NO_STORE = {"Cache-Control": "no-store"}
Secret = Annotated[str, Field(min_length=1, max_length=auth.MAX_SECRET_LENGTH)]
OperatorId = Annotated[str, Field(min_length=1, max_length=64)]
# Signing in refuses a wrong secret (401), a locked account or address (403) and attempts too
# fast after failures (429).
SIGN_IN = problems.responses(401, 403, 429)


class ActivateIn(BaseModel):
    operator_id: OperatorId
    code: Secret = Field(description="The activation code an administrator handed over.")
    password: Secret = Field(description="The new password (12 or more characters).")


class ActivateOut(BaseModel):
    totp_secret: str = Field(description="Base32 TOTP secret: put it in an authenticator app.")
    provisioning_uri: str = Field(description="The otpauth:// URI (show it as a QR code).")


class ConfirmIn(BaseModel):
    operator_id: OperatorId
    code: Secret = Field(description="The same activation code.")
    totp_code: Annotated[str, Field(min_length=6, max_length=10)] = Field(
        description="The code the authenticator shows now."
    )


class ConfirmOut(BaseModel):
    recovery_codes: list[str] = Field(description="Ten single-use codes, shown this once.")


class LoginIn(BaseModel):
    operator_id: OperatorId
    password: Secret
    second_factor: Secret = Field(description="A TOTP code, or one of the recovery codes.")
    bench: Annotated[str | None, Field(max_length=64)] = Field(
        default=None, description="The bench this session is used at, if any: one assigned to you."
    )


class LoginOut(BaseModel):
    operator_id: str
    csrf_token: str = Field(description="Send it as X-CSRF-Token with every change.")
    expires_at: str = Field(description="When the session ends at the latest (UTC).")


class PasswordIn(BaseModel):
    old_password: Secret
    new_password: Secret


class PasswordOut(BaseModel):
    sessions_ended: int = Field(description="Other sessions of yours that were ended.")


class ActivationOut(BaseModel):
    operator_id: str
    code: str = Field(description="Hand it to the operator in person; shown this once.")
    expires_in_hours: int


class LockOut(BaseModel):
    subject_kind: Literal["operator", "source"]
    subject_id: str
    reason: str
    locked_at: str


class LockPage(BaseModel):
    items: list[LockOut]
    total: int
    offset: int
    limit: int


class UnlockIn(BaseModel):
    subject_kind: Literal["operator", "source"]
    subject_id: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class TokenOut(BaseModel):
    id: str
    operator_id: str
    label: str
    scopes: list[str] = Field(description='Permissions, or ["role"]: all of the roles\' ones.')
    bench: str | None
    created_at: str
    expires_at: str
    state: Literal["active", "expired", "revoked"]


class TokenPage(BaseModel):
    items: list[TokenOut]
    total: int
    offset: int
    limit: int


class TokenIn(BaseModel):
    operator_id: Annotated[str | None, Field(min_length=1, max_length=64)] = Field(
        default=None,
        description="Yourself (the default): nobody is issued a token by someone else; an "
        "administrator issues an activation code instead (403 for anyone else).",
    )
    label: Annotated[str, Field(max_length=100)] = Field("api", description="What it is for.")
    scopes: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=40)] = Field(
        default_factory=list,
        description="Permissions to limit it to, or 'read-only'; none: everything the roles "
        "allow (for a scoped token asking: its own scopes).",
    )
    days: Annotated[int | None, Field(ge=1, le=tokens.MAX_DAYS)] = Field(
        default=None,
        description="Days it lasts: at most the facility's maximum (TRIAGE_TOKEN_MAX_DAYS) and, "
        "asked with a token, never beyond that token (422 naming the limit). Default: "
        f"{tokens.DEFAULT_DAYS} days, or as long as those limits allow.",
    )
    bench: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class IssuedTokenOut(BaseModel):
    token_id: str
    operator_id: str
    token: str = Field(description="The secret, shown this once: send it as a Bearer token.")


class RevokeIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def _lock_out(lock: AccessLock) -> LockOut:
    kind: Literal["operator", "source"] = "source" if lock.subject_kind == "source" else "operator"
    return LockOut(
        subject_kind=kind,
        subject_id=lock.subject_id,
        reason=lock.reason,
        locked_at=format_time(lock.locked_at),
    )


def _source(request: Request) -> str:
    # The socket's peer, or the client a trusted proxy names (hardening.ClientAddress): never
    # an address the client wrote itself.
    return request.client.host if request.client is not None else "unknown"


def build_auth_router(application: App) -> APIRouter:
    """The authentication endpoints of one facility."""
    router = APIRouter(prefix="/api/v1", route_class=ThreadedRoute)
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    Manager = Annotated[
        Caller, Depends(permission_dependency(application, Permission.OPERATOR_MANAGE))
    ]
    Unlocker = Annotated[
        Caller, Depends(permission_dependency(application, Permission.ACCOUNT_UNLOCK))
    ]

    @router.post("/auth/activate", tags=["auth"], responses=SIGN_IN, **access("public"))
    def activate(body: ActivateIn, request: Request, response: Response) -> ActivateOut:
        """Set a password with an activation code; returns the TOTP secret to enrol (once).

        Wrong codes are limited per account and per address (429 with Retry-After)."""
        secret, uri = auth.activate(
            uow,
            body.operator_id,
            body.code,
            body.password,
            box=application.secret_box(),
            source=_source(request),
        )
        response.headers.update(NO_STORE)
        return ActivateOut(totp_secret=secret, provisioning_uri=uri)

    @router.post("/auth/mfa/confirm", tags=["auth"], responses=SIGN_IN, **access("public"))
    def confirm_mfa(body: ConfirmIn, request: Request, response: Response) -> ConfirmOut:
        """Prove the authenticator works; returns ten recovery codes, shown this once.

        Wrong activation codes are limited per account and per address (429 with Retry-After)."""
        codes = auth.confirm_mfa(
            uow,
            body.operator_id,
            body.code,
            body.totp_code,
            box=application.secret_box(),
            source=_source(request),
        )
        response.headers.update(NO_STORE)
        return ConfirmOut(recovery_codes=codes)

    @router.post("/auth/login", tags=["auth"], responses=SIGN_IN, **access("public"))
    def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
        """Sign in with password and second factor; sets the session cookie.

        Repeated failures are answered 429 with Retry-After, then the account or the address
        is locked until an administrator or security manager unlocks it.
        """
        session = auth.login(
            uow,
            body.operator_id,
            body.password,
            body.second_factor,
            _source(request),
            body.bench,
            box=application.secret_box(),
        )
        open_session(response, session.secret, uow.settings.session_absolute_timeout)
        response.headers.update(NO_STORE)
        return LoginOut(
            operator_id=session.operator_id,
            csrf_token=session.csrf_token,
            expires_at=format_time(session.expires_at),
        )

    @router.post("/auth/logout", tags=["auth"], status_code=204, **access("self"))
    def logout(_: Operator, request: Request, response: Response) -> None:
        """End this web session for good (the cookie is worthless afterwards)."""
        secret = session_secret(request)
        if not secret or request.headers.get("Authorization"):
            raise InvalidInput(
                "logout ends a web session (the triage_session cookie); an API token is "
                "revoked instead ('triage operator revoke-token')"
            )
        auth.logout(uow, secret)
        close_session(response)

    @router.post("/auth/password", tags=["auth"], **access("self"))
    def change_password(caller: Operator, body: PasswordIn, request: Request) -> PasswordOut:
        """Change your password; your other sessions end."""
        current = None if request.headers.get("Authorization") else session_secret(request)
        ended = auth.change_password(
            uow,
            caller,
            body.old_password,
            body.new_password,
            current_session=current,
            source=_source(request),
        )
        return PasswordOut(sessions_ended=ended)

    @router.post(
        "/operators/{operator_id}/activation",
        tags=["auth"],
        **requires(application, Permission.OPERATOR_MANAGE),
    )
    def issue_activation(operator_id: str, caller: Manager, response: Response) -> ActivationOut:
        """A one-time activation code for an operator to set a password and enrol MFA."""
        code = auth.issue_activation(uow, caller, operator_id)
        response.headers.update(NO_STORE)
        return ActivationOut(
            operator_id=operator_id,
            code=code,
            expires_in_hours=int(ACTIVATION_LIFETIME.total_seconds() // 3600),
        )

    @router.get("/locks", tags=["auth"], **access("service"))
    def locks(
        caller: Operator,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> LockPage:
        """Locked operator accounts and source addresses."""
        found = auth.locks(uow, caller)
        return LockPage(
            items=[_lock_out(lock) for lock in found[offset : offset + limit]],
            total=len(found),
            offset=offset,
            limit=limit,
        )

    @router.post("/locks/unlock", tags=["auth"], **requires(application, Permission.ACCOUNT_UNLOCK))
    def unlock(caller: Unlocker, body: UnlockIn) -> LockOut:
        """Unlock an account or address, with a reason (recorded in the ledger)."""
        return _lock_out(auth.unlock(uow, caller, body.subject_kind, body.subject_id, body.reason))

    @router.get("/tokens", tags=["auth"], **access("service"))
    def list_tokens(
        caller: Operator,
        operator_id: Annotated[str | None, Query(max_length=64)] = None,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> TokenPage:
        """API tokens (never their secrets): your own, or, for who manages operators or
        reviews access, anyone's (all, or one operator's)."""
        if operator_id is None and not (
            caller.can(Permission.OPERATOR_MANAGE) or caller.can(Permission.ACCESS_REVIEW)
        ):
            operator_id = caller.id  # everyone else sees their own
        found = token_service.list_tokens(uow, caller, operator_id)
        at = uow.clock.now()
        return TokenPage(
            items=[TokenOut(**token_json(t, at)) for t in found[offset : offset + limit]],
            total=len(found),
            offset=offset,
            limit=limit,
        )

    @router.post("/tokens", tags=["auth"], status_code=201, **access("service"))
    def issue_token(caller: Operator, body: TokenIn, response: Response) -> IssuedTokenOut:
        """A new API token for yourself, shown once: from a session signed in with the second
        factor, or from a token minted so; never wider nor longer-lived than the token asking.
        Nobody is issued a token by someone else (an administrator issues activation codes)."""
        try:
            scopes = tokens.parse_scopes(body.scopes)
        except ValueError as exc:
            raise InvalidInput(f"scopes: {exc}") from exc
        issued = token_service.issue_token(
            uow,
            caller,
            caller.id if body.operator_id is None else body.operator_id,
            body.label,
            scopes,
            body.days,
            body.bench,
            max_days=application.settings.token_max_days,
        )
        response.headers.update(NO_STORE)
        return IssuedTokenOut(
            token_id=issued.token_id, operator_id=issued.operator_id, token=issued.secret
        )

    @router.post("/tokens/{token_id}/revoke", tags=["auth"], **access("service"))
    def revoke_token(caller: Operator, token_id: str, body: RevokeIn) -> TokenOut:
        """Revoke a token at once: your own, or anyone's for an administrator or a security
        manager (with a reason, recorded)."""
        return TokenOut(
            **token_json(
                token_service.revoke_token(uow, caller, token_id, body.reason), uow.clock.now()
            )
        )

    return router
