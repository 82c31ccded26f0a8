"""Callers for the use-case tests: a person in each role, a tool, the system."""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.roles import Role


def person(operator_id: str, *roles: Role, bench: str | None = None) -> Caller:
    """An operator holding ``roles`` (signed in at ``bench``, if given)."""
    return Caller.operator(operator_id, frozenset(roles), bench=bench)


def administrator(operator_id: str = "adm") -> Caller:
    return person(operator_id, Role.ADMINISTRATOR)


def security_manager(operator_id: str = "sec") -> Caller:
    return person(operator_id, Role.SECURITY_MANAGER)


def supervisor(operator_id: str = "sup") -> Caller:
    return person(operator_id, Role.SUPERVISOR)


def stores(operator_id: str = "sto") -> Caller:
    return person(operator_id, Role.STORES)


def auditor(operator_id: str = "aud") -> Caller:
    return person(operator_id, Role.AUDITOR)


def bench_operator(operator_id: str = "op", bench: str | None = "BENCH-1") -> Caller:
    return person(operator_id, Role.BENCH_OPERATOR, bench=bench)


def nobody(operator_id: str = "none") -> Caller:
    """A signed-in operator with no role: refused everything that needs a permission."""
    return person(operator_id)
