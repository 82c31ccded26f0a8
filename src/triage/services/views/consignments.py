"""What is read about intake: consignments, the devices still expected, and intake
exceptions."""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.domain.caller import Caller
from triage.domain.consignment import Consignment
from triage.domain.intake_exception import IntakeException
from triage.domain.roles import Permission
from triage.errors import InvalidInput, NotFound
from triage.services.intake import find_consignment
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

EXCEPTION_STATUSES = ("open", "resolved")


def consignments(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int, limit: int
) -> tuple[list[Consignment], int]:
    """Consignments, oldest first, with how many there are (its own for a person of an asset
    owner)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return uow.consignments.page(offset, limit, owner=scope)


@dataclass(frozen=True)
class ConsignmentDetail:
    """One consignment, the devices it expects that have not arrived, and those that have."""

    consignment: Consignment
    not_arrived: list[str]
    arrived: list[str] = field(default_factory=list)


def consignment_detail(
    uow_factory: UnitOfWorkFactory, caller: Caller, consignment: str, asset_owner: str | None = None
) -> ConsignmentDetail:
    """One consignment, named by its reference (and asset owner, when two owners used it) or
    its id, with the devices still expected and those arrived; or NotFound (another owner's,
    for a person of an asset owner)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        if scope is None:
            found = find_consignment(uow, consignment, asset_owner)
        else:
            found = _owned_consignment(uow, scope, consignment, asset_owner)
        return ConsignmentDetail(
            found,
            uow.consignments.missing_devices(found.id),
            uow.consignments.arrived_devices(found.id),
        )


def _owned_consignment(
    uow: UnitOfWork, scope: str, consignment: str, asset_owner: str | None
) -> Consignment:
    """A consignment of asset owner ``scope`` named by its id or reference; NotFound for any
    other owner's, worded as for one that does not exist."""
    named = consignment.strip()
    if asset_owner is not None and asset_owner.strip() not in ("", scope):
        raise NotFound(f"no consignment {named!r} of {asset_owner.strip()}")
    by_id = uow.consignments.get(named)
    if by_id is not None and by_id.asset_owner == scope:
        return by_id
    return find_consignment(uow, named, scope)


def exceptions(
    uow_factory: UnitOfWorkFactory, caller: Caller, status: str | None, offset: int, limit: int
) -> tuple[list[IntakeException], int]:
    """Intake exceptions (unexpected devices and others), open, resolved or all (None)."""
    caller.require(Permission.TRIAGE_READ)
    if status is not None and status not in EXCEPTION_STATUSES:
        raise InvalidInput("status: open or resolved, or omitted for all")
    with uow_factory(write=False) as uow:
        return uow.exceptions.page(status, offset, limit)


@dataclass(frozen=True)
class ExceptionsQueue:
    """The exceptions waiting for someone (oldest first), and the latest resolved ones."""

    open: list[IntakeException]
    open_total: int
    resolved: list[IntakeException]
    resolved_total: int


def exceptions_queue(
    uow_factory: UnitOfWorkFactory, caller: Caller, limit: int = 200
) -> ExceptionsQueue:
    """The exceptions queue: up to ``limit`` open ones, and up to ``limit`` of the latest
    resolved ones (newest first)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        waiting, waiting_total = uow.exceptions.page("open", 0, limit)
        _, resolved_total = uow.exceptions.page("resolved", 0, 0)
        latest, _ = uow.exceptions.page("resolved", max(0, resolved_total - limit), limit)
    return ExceptionsQueue(waiting, waiting_total, latest[::-1], resolved_total)
