"""A demo facility: demo staff (one per role), seals in their hands, commissioning mode, and a
fresh sign-in and API token for each, minted by their own login."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from triage.domain.caller import Caller
from triage.domain.credentials import totp_step
from triage.domain.roles import Role
from triage.services import assessment, auth, bench_assignment, operators, seals, staffing
from triage.services.ports import SecretSealer, UnitOfWorkFactory
from triage.services.token_login import token_by_login

DEMO_BENCH = "B1"  # the bench the demo's bench operator and supervisor tokens are for
DEMO_ADMIN = "demo-admin"
DEMO_STAFF = (
    (DEMO_ADMIN, "Demo Administrator", Role.ADMINISTRATOR),
    ("demo-supervisor", "Demo Supervisor", Role.SUPERVISOR),
    ("demo-bench", "Demo Bench Operator", Role.BENCH_OPERATOR),
    ("demo-stores", "Demo Stores", Role.STORES),
    ("demo-security", "Demo Security Manager", Role.SECURITY_MANAGER),
    ("demo-auditor", "Demo Auditor", Role.AUDITOR),
)
# Seals issued from the demo batch (DEMO-0001..DEMO-0100), first and last serial per holder.
DEMO_SEALS = {
    "demo-bench": ("DEMO-0001", "DEMO-0020"),
    "demo-supervisor": ("DEMO-0021", "DEMO-0030"),
}


@dataclass(frozen=True)
class DemoLogin:
    """A demo person's web sign-in: password, a one-time recovery code, the TOTP secret."""

    password: str
    recovery_code: str
    totp_secret: str


@dataclass(frozen=True)
class Demo:
    """What ``set_up_demo`` hands out."""

    tokens: dict[str, str]  # operator id -> API token
    seals: dict[str, tuple[str, str]]  # operator id -> first and last serial held
    logins: dict[str, DemoLogin]  # the demo administrator's only on the first run


def set_up_demo(
    uow_factory: UnitOfWorkFactory, box: SecretSealer, token_max_days: int, source: str
) -> Demo:
    """Create the demo staff if missing (refused beside real operators), their seals and
    commissioning mode, and sign each in for a fresh token (``source``: where from)."""
    known = staffing.demo_staff_allowed(uow_factory)
    if DEMO_ADMIN not in known:
        operators.create_operator(
            uow_factory,
            staffing.acting_administrator(uow_factory, None),
            DEMO_ADMIN,
            "Demo Administrator",
            frozenset({Role.ADMINISTRATOR}),
        )
    admin = operators.operator_caller(uow_factory, DEMO_ADMIN)
    benches: dict[str, str] = {}
    for operator_id, name, role in DEMO_STAFF:
        if operator_id not in known and role is not Role.ADMINISTRATOR:
            operators.create_operator(uow_factory, admin, operator_id, name, frozenset({role}))
        if role in (Role.BENCH_OPERATOR, Role.SUPERVISOR):
            # Assigned by the administrator: nobody works at a bench they just name.
            bench_assignment.assign_benches(
                uow_factory, admin, operator_id, [DEMO_BENCH], "demo bench"
            )
            benches[operator_id] = DEMO_BENCH
    _demo_seals(uow_factory)
    _demo_commissioning(uow_factory, admin)
    logins, spare = _demo_logins(uow_factory, admin, known, box)
    # Each token is minted by its own person's sign-in with the second factor, never by the
    # administrator for them.
    days = min(7, token_max_days)
    tokens = {
        who: token_by_login(
            uow_factory,
            who,
            login.password,
            spare[who],
            source,
            benches.get(who),
            days,
            "demo",
            box=box,
            max_days=token_max_days,
        ).secret
        for who, login in logins.items()
    }
    return Demo(tokens, dict(DEMO_SEALS), logins)


def _demo_logins(
    uow_factory: UnitOfWorkFactory, admin: Caller, known: set[str], box: SecretSealer
) -> tuple[dict[str, DemoLogin], dict[str, str]]:
    """Fresh web credentials for the demo staff (the demo administrator's only the first time:
    nobody may re-enrol their own login), and for each a spare recovery code with which the
    demo signs them in for their token."""
    logins = {}
    spare = {}
    for operator_id, _, _ in DEMO_STAFF:
        if operator_id == admin.id and operator_id in known:
            continue
        code = auth.issue_activation(uow_factory, admin, operator_id)
        password = "demo-" + secrets.token_urlsafe(12)
        secret, _ = auth.activate(uow_factory, operator_id, code, password, box=box)
        # The demo plays each person's authenticator app.
        now_code = uow_factory.totp.code(secret, totp_step(uow_factory.clock.now()))
        recovery = auth.confirm_mfa(uow_factory, operator_id, code, now_code, box=box)
        logins[operator_id] = DemoLogin(password, recovery[0], secret)
        spare[operator_id] = recovery[1]
    return logins, spare


def _demo_commissioning(uow_factory: UnitOfWorkFactory, admin: Caller) -> None:
    """The demo provider as a SEC Party, in commissioning mode (renewed for 30 days)."""
    current = assessment.status(uow_factory, admin)
    if current.party is None:
        assessment.record_party(
            uow_factory, admin, "DEMO-1", "Demo Triage Provider Ltd", ["Other SEC Party"]
        )
    if not current.may_triage or current.commissioning is not None:
        if current.commissioning is not None:
            assessment.end_commissioning(uow_factory, admin, "renewed by triage demo")
        until = uow_factory.clock.now() + timedelta(days=30)
        assessment.start_commissioning(
            uow_factory, admin, until, "demo facility: test devices only"
        )


def _demo_seals(uow_factory: UnitOfWorkFactory) -> None:
    """A batch of demo seals in the store, some issued to the bench and the supervisor."""
    stores = operators.operator_caller(uow_factory, "demo-stores")
    if not seals.batches(uow_factory, stores, 0, 1)[1]:
        seals.receive_batch(
            uow_factory,
            stores,
            supplier="Demo Seal Supplier",
            delivery_reference="DEMO-DN-1",
            iso_class="H",
            class_description=None,
            store="STORE-1",
            first="DEMO-0001",
            last="DEMO-0100",
        )
        for who, (first, last) in DEMO_SEALS.items():
            seals.issue(uow_factory, stores, who, first=first, last=last)
