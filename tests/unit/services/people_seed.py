"""Seeding people and tools for the use-case tests, through the real use cases.

Operators are registered by an administrator (``callers.administrator``), enrolled with an
activation code and a confirmed second factor, assigned benches; tools are enrolled with a
fresh Ed25519 key. Only an operator's suspension is recorded by hand (``suspend_operator``):
the real path is an anomaly breach of the bench work, tested with the anomaly checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from triage.domain.caller import Caller
from triage.domain.credentials import TOTP_SECONDS, totp_step
from triage.domain.people import Operator
from triage.domain.roles import Role
from triage.domain.tool import Tool, tool_key_name
from triage.errors import AccessLocked, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import Ref
from triage.services import auth, bench_assignment, operators, tools
from triage.services.common import make_entry

PASSWORD = "Correct horse 42 battery"
SOURCE = "192.0.2.10"


class FakeSealer:
    """``SecretSealer`` that anybody can open (the key box has its own tests)."""

    PREFIX = b"sealed:"

    def seal(self, plaintext: bytes) -> bytes:
        return self.PREFIX + plaintext[::-1]

    def open(self, sealed: bytes) -> bytes:
        assert sealed.startswith(self.PREFIX), sealed
        return sealed[len(self.PREFIX) :][::-1]


BOX = FakeSealer()


def add_operator(
    factory: FakeUnitOfWorkFactory,
    operator_id: str,
    *roles: Role,
    by: Caller | None = None,
) -> Operator:
    """An operator with ``roles`` (a bench operator when none), registered by an administrator."""
    chosen = frozenset(roles or (Role.BENCH_OPERATOR,))
    name = operator_id.replace("-", " ").title()
    return operators.create_operator(
        factory, by or callers.administrator(), operator_id, name, chosen
    )


@dataclass(frozen=True)
class Enrolled:
    """An operator's TOTP secret (as their authenticator holds it) and recovery codes."""

    operator_id: str
    totp_secret: str
    recovery_codes: list[str]


def code_now(factory: FakeUnitOfWorkFactory, secret: str) -> str:
    """The authenticator's code for the clock's current step."""
    return factory.totp.code(secret, totp_step(factory.clock.now()))


def enrol(factory: FakeUnitOfWorkFactory, operator_id: str, password: str = PASSWORD) -> Enrolled:
    """Activate the operator (password and TOTP secret) and confirm the second factor."""
    code = auth.issue_activation(factory, callers.administrator(), operator_id)
    secret, _ = auth.activate(factory, operator_id, code, password, box=BOX)
    recovery = auth.confirm_mfa(factory, operator_id, code, code_now(factory, secret), box=BOX)
    return Enrolled(operator_id, secret, recovery)


def person(factory: FakeUnitOfWorkFactory, operator_id: str, *roles: Role) -> Enrolled:
    """An operator registered and enrolled, ready to sign in."""
    add_operator(factory, operator_id, *roles)
    return enrol(factory, operator_id)


def next_step(factory: FakeUnitOfWorkFactory) -> None:
    """Move the clock to the next TOTP step (a code is good once)."""
    factory.clock.advance(timedelta(seconds=TOTP_SECONDS))


def sign_in(
    factory: FakeUnitOfWorkFactory, enrolled: Enrolled, bench: str | None = None
) -> auth.NewSession:
    """A web session of ``enrolled``, with a fresh TOTP code (the clock moves one step)."""
    next_step(factory)
    return auth.login(
        factory,
        enrolled.operator_id,
        PASSWORD,
        code_now(factory, enrolled.totp_secret),
        SOURCE,
        bench,
        box=BOX,
    )


def signed_in(
    factory: FakeUnitOfWorkFactory, enrolled: Enrolled, bench: str | None = None
) -> Caller:
    """The caller behind a fresh session of ``enrolled`` (as the API sees them)."""
    session = sign_in(factory, enrolled, bench)
    return auth.authenticate_session(factory, session.secret).caller


def assign(factory: FakeUnitOfWorkFactory, operator_id: str, *benches: str) -> None:
    """Assign the operator exactly ``benches`` (an administrator's act)."""
    bench_assignment.assign_benches(
        factory, callers.administrator(), operator_id, benches, "where they work from today"
    )


@dataclass(frozen=True)
class EnrolledTool:
    """An enrolled tool and the signer key its bench agent holds."""

    tool: Tool
    signer_key: str


def tool_key(tool_id: str) -> tuple[str, str]:
    """A fresh (signer, verifier) key pair named for ``tool_id``."""
    return note.generate_key(tool_key_name(tool_id))


def enrol_tool(
    factory: FakeUnitOfWorkFactory, tool_id: str = "T1", bench: str = "BENCH-1"
) -> EnrolledTool:
    """A tool enrolled by an administrator at ``bench``."""
    signer, verifier = tool_key(tool_id)
    enrolled = tools.enrol_tool(factory, callers.administrator(), tool_id, bench, verifier)
    return EnrolledTool(enrolled, signer)


def suspend_operator(factory: FakeUnitOfWorkFactory, operator_id: str) -> None:
    """Record the operator's suspension as the anomaly checks do on a breach."""
    with factory(write=True) as uow:
        entry = make_entry(
            uow,
            Caller.system("anomaly"),
            "operator.suspended",
            Ref("operator", operator_id),
            {"reason": "anomaly: a test breach", "alert_id": "alert-1"},
        )
        uow.ledger.record([entry])
        uow.commit()


def lock_account(factory: FakeUnitOfWorkFactory, operator_id: str) -> None:
    """Lock the operator's account as a guesser does: wrong passwords from two addresses (one
    address alone locks itself first), waiting out the growing delay between them."""
    for n, source in enumerate(["198.51.100.1"] * 3 + ["198.51.100.2"] * 2, start=1):
        factory.clock.advance(timedelta(minutes=1))
        try:
            auth.login(factory, operator_id, "Wrong password 123", "000000", source, box=BOX)
        except AccessLocked:
            assert n == 5, f"locked early, at failure {n}"
            return
        except Unauthenticated:
            continue
    raise AssertionError("five failures did not lock the account")
