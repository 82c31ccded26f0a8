"""A demo facility: demo staff (one per role), seals in their hands, commissioning mode, a
fresh sign-in and API token for each, minted by their own login, and a demo bench: an enrolled
tool and a consignment of demo devices (and one device it does not list), which the bench's
simulated fleet holds (made by the entrypoint, the only layer that may build one)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.credentials import totp_step
from triage.domain.roles import Role
from triage.services import (
    assessment,
    asset_owners,
    auth,
    bench_assignment,
    duis_requests,
    intake,
    operators,
    seals,
    staffing,
    tools,
)
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

DEMO_TOOL = "DEMO-TOOL-1"  # the demo bench's Triage Tool, at DEMO_BENCH
DEMO_ASSET_OWNER = "Demo Energy Supplier"
DEMO_CONSIGNMENT = "DEMO-CONSIGNMENT-1"  # the asset owner's reference of the demo consignment
# The demo asset owner's DCC User (an EUI-64 in the form of the DUIS templates' example).
DEMO_DCC_USER = "90-B3-D5-1F-30-01-00-00"


@dataclass(frozen=True)
class DemoDevice:
    """A device of the demo bench's simulated fleet: its scenario (a name from the simulator's
    scenarios), whether the demo consignment lists it, and what triaging it shows."""

    device_id: str
    device_type: str
    scenario: str
    on_manifest: bool
    shows: str


DEMO_DEVICES = (
    DemoDevice(
        "BC-33-AC-FF-FE-DE-00-01",
        "ESME",
        "clean",
        True,
        "nothing to find: eligible, reset, verify, seal, release and its certificate",
    ),
    DemoDevice(
        "BC-33-AC-FF-FE-DE-00-02",
        "ESME",
        "failing-battery",
        True,
        "a tamper alert 3 hours after a low-battery warning: the battery explains it, eligible",
    ),
    DemoDevice(
        "BC-33-AC-FF-FE-DE-00-03",
        "ESME",
        "supplier-job",
        True,
        "terminal cover opened by supplier job SJ-4471: record the job at inspection, eligible",
    ),
    DemoDevice(
        "BC-33-AC-FF-FE-DE-00-04",
        "ESME",
        "strong-magnet",
        True,
        "a strong magnetic field alert no battery explains: supervisor review",
    ),
    DemoDevice(
        "BC-33-AC-FF-FE-DE-00-05",
        "ESME",
        "breached-cpa-boundary",
        True,
        "tamper switch fired; inspect it with the CPA boundary not intact: quarantine",
    ),
    DemoDevice(
        "BC-33-AC-FF-FE-DE-00-06",
        "ESME",
        "clean",
        False,
        "scanning it raises an unexpected-device exception (the exceptions queue)",
    ),
)


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
    consignment_id: str  # the demo consignment, listing DEMO_DEVICES on the manifest
    tool_id: str = DEMO_TOOL
    devices: tuple[DemoDevice, ...] = DEMO_DEVICES


def set_up_demo(
    uow_factory: UnitOfWorkFactory,
    box: SecretSealer,
    token_max_days: int,
    source: str,
    *,
    tool_key: Callable[[], str],
) -> Demo:
    """Create the demo staff if missing (refused beside real operators), their seals,
    commissioning mode and the demo bench (its tool enrolled with the verifier key ``tool_key``
    gives, called only to enrol it; the consignment of DEMO_DEVICES), and sign each person in
    for a fresh token (``source``: where from). Safe to repeat: nothing is made twice."""
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
    consignment_id = _demo_bench(uow_factory, admin, tool_key)
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
    return Demo(tokens, dict(DEMO_SEALS), logins, consignment_id)


def _demo_bench(uow_factory: UnitOfWorkFactory, admin: Caller, tool_key: Callable[[], str]) -> str:
    """The demo tool enrolled at the demo bench, and the demo consignment imported by stores
    (each only if missing); returns the consignment's id."""
    with uow_factory(write=False) as uow:
        enrolled = uow.tools.get(DEMO_TOOL) is not None
        imported = uow.consignments.by_reference(DEMO_ASSET_OWNER, DEMO_CONSIGNMENT)
        registered = uow.asset_owners.get(DEMO_ASSET_OWNER) is not None
    if not enrolled:
        tools.enrol_tool(uow_factory, admin, DEMO_TOOL, DEMO_BENCH, tool_key())
    if imported is not None:
        return imported.id
    if not registered:  # a consignment belongs to a registered asset owner
        asset_owners.register(uow_factory, admin, DEMO_ASSET_OWNER, DEMO_ASSET_OWNER)
        # Its DCC User, who signs and submits the DUIS requests the facility writes for it.
        duis_requests.set_dcc_user(uow_factory, admin, DEMO_ASSET_OWNER, DEMO_DCC_USER)
    rows = [
        ManifestRow(
            line,
            {
                "device_id": device.device_id,
                "device_type": device.device_type,
                "manufacturer": "Demo Meters Ltd",
                "model": "DM-1",
                "firmware_version": "1.0",
                "inventory_status": "Decommissioned",
                "asset_owner": DEMO_ASSET_OWNER,
            },
        )
        for line, device in enumerate((d for d in DEMO_DEVICES if d.on_manifest), start=2)
    ]
    stores = operators.operator_caller(uow_factory, "demo-stores")
    report = intake.import_manifest(uow_factory, stores, DEMO_CONSIGNMENT, DEMO_ASSET_OWNER, rows)
    assert report.consignment_id is not None  # all rows or none, and these rows are good
    return report.consignment_id


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
