"""Separation of duties is data in the permission matrix; callers are checked against it."""

from __future__ import annotations

import pytest

from triage.domain.caller import Caller, CallerKind
from triage.domain.roles import MATRIX, Permission, Role, permissions, roles_with
from triage.errors import PermissionDenied
from triage.ledger.entry import Ref

TRIAGE_RUNNING = frozenset(
    {
        Permission.DEVICE_INSPECT,
        Permission.RESET_REQUEST,
        Permission.DEVICE_SEAL,
        Permission.DEVICE_RELEASE,
        Permission.DECISION_OVERRIDE,
        Permission.SECURITY_LOG_UPLOAD,
    }
)
READ_AND_RECEIPT = frozenset(
    {
        Permission.TRIAGE_READ,
        Permission.HISTORY_READ,
        Permission.LEDGER_READ,
        Permission.SEAL_READ,
        Permission.RECEIPT_ISSUE,
        Permission.ACCESS_REVIEW,  # reading who holds what: assurance evidence
        Permission.ASSURANCE_READ,  # controls, evidence and assessments
        Permission.INCIDENT_READ,  # the incident and vulnerability register
    }
)
# Words that would name an act changing what the ledger already holds.
_REWRITING_WORDS = ("write", "delete", "erase", "edit", "amend", "update", "redact", "purge")


def test_every_role_has_an_entry_in_the_matrix() -> None:
    assert set(MATRIX) == set(Role)


def test_security_manager_runs_no_triage() -> None:
    assert MATRIX[Role.SECURITY_MANAGER] & TRIAGE_RUNNING == frozenset()


def test_auditor_only_reads_and_issues_receipts() -> None:
    assert MATRIX[Role.AUDITOR] <= READ_AND_RECEIPT
    assert Permission.RECEIPT_ISSUE in MATRIX[Role.AUDITOR]


def test_stores_keep_seals_but_fit_none() -> None:
    stores = MATRIX[Role.STORES]
    assert {Permission.SEAL_STOCK, Permission.SEAL_RECONCILE} <= stores
    assert Permission.DEVICE_SEAL not in stores
    # Nobody both fits seals and keeps the stock they come from.
    for role in Role:
        assert not {Permission.DEVICE_SEAL, Permission.SEAL_STOCK} <= MATRIX[role], role


def test_only_a_supervisor_uploads_a_suppliers_security_log() -> None:
    # A log not read at the bench is evidence someone must vouch for: never a bench operator.
    assert roles_with(Permission.SECURITY_LOG_UPLOAD) == [Role.SUPERVISOR]


def test_only_a_security_manager_closes_seal_discrepancies() -> None:
    assert roles_with(Permission.SEAL_DISCREPANCY_RESOLVE) == [Role.SECURITY_MANAGER]


def test_administrator_runs_no_triage() -> None:
    assert MATRIX[Role.ADMINISTRATOR] & TRIAGE_RUNNING == frozenset()


def test_no_permission_exists_to_change_ledger_entries() -> None:
    ledger_permissions = {p for p in Permission if p.value.startswith("ledger.")}
    assert ledger_permissions == {Permission.LEDGER_READ, Permission.LEDGER_CHECKPOINT}
    for permission in Permission:
        for word in _REWRITING_WORDS:
            assert word not in permission.value, permission


@pytest.mark.parametrize("role", list(Role))
def test_no_role_can_change_ledger_entries(role: Role) -> None:
    ledger = {p for p in MATRIX[role] if p.value.startswith("ledger.")}
    assert ledger <= {Permission.LEDGER_READ, Permission.LEDGER_CHECKPOINT}


def test_every_triage_running_permission_is_held_by_some_role() -> None:
    # Otherwise the separation-of-duties tests above would hold for a matrix nobody can work with.
    for permission in TRIAGE_RUNNING:
        assert roles_with(permission), permission


def test_permissions_of_several_roles_is_their_union() -> None:
    roles = [Role.STORES, Role.AUDITOR]
    assert permissions(roles) == MATRIX[Role.STORES] | MATRIX[Role.AUDITOR]
    assert permissions([]) == frozenset()


@pytest.mark.parametrize("permission", list(Permission))
def test_require_names_the_roles_that_hold_the_permission(permission: Permission) -> None:
    lacking = [r for r in Role if permission not in MATRIX[r]]
    holders = roles_with(permission)
    caller = Caller.operator("op-7", frozenset(lacking[:1]))
    with pytest.raises(PermissionDenied) as caught:
        caller.require(permission)
    message = str(caught.value)
    assert "op-7" in message
    assert permission.value in message
    needs = message.split("that needs: ")[1]
    assert set(needs.split(", ")) == {r.value for r in holders}


@pytest.mark.parametrize("role", list(Role))
def test_an_operator_may_do_exactly_what_their_role_grants(role: Role) -> None:
    caller = Caller.operator("op-1", frozenset({role}))
    for permission in Permission:
        if permission in MATRIX[role]:
            caller.require(permission)
        else:
            with pytest.raises(PermissionDenied):
                caller.require(permission)


def test_an_operator_with_no_role_may_do_nothing() -> None:
    caller = Caller.operator("op-0", frozenset())
    for permission in Permission:
        assert not caller.can(permission)
    with pytest.raises(PermissionDenied, match=r"\(no role\)"):
        caller.require(Permission.TRIAGE_READ)


def test_system_caller_may_do_anything() -> None:
    caller = Caller.system()
    for permission in Permission:
        caller.require(permission)
    assert caller.ref == Ref("system", "triage")


def test_tool_caller_may_do_no_operator_permission() -> None:
    tool = Caller.tool("tool-3")
    for permission in Permission:
        assert not tool.can(permission)
        with pytest.raises(PermissionDenied):
            tool.require(permission)
    assert tool.ref == Ref("tool", "tool-3")


def test_tool_caller_gains_nothing_from_roles_it_claims() -> None:
    forged = Caller(CallerKind.TOOL, "tool-3", frozenset(Role))
    for permission in Permission:
        assert not forged.can(permission)


def test_only_a_tool_passes_require_tool() -> None:
    Caller.tool("tool-3").require_tool()
    for caller in (Caller.system(), Caller.operator("op-1", frozenset(Role))):
        with pytest.raises(PermissionDenied, match="Triage Tool"):
            caller.require_tool()
