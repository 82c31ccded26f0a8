"""What is read about intake: consignments, the devices still expected, and intake
exceptions."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.consignment import Consignment
from triage.domain.intake_exception import IntakeException
from triage.domain.roles import Permission
from triage.errors import InvalidInput, NotFound
from triage.services.ports import UnitOfWorkFactory

EXCEPTION_STATUSES = ("open", "resolved")


def consignments(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int, limit: int
) -> tuple[list[Consignment], int]:
    """Consignments, oldest first, with how many there are."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.consignments.page(offset, limit)


@dataclass(frozen=True)
class ConsignmentDetail:
    """One consignment and the devices it expects that have not arrived."""

    consignment: Consignment
    not_arrived: list[str]


def consignment_detail(
    uow_factory: UnitOfWorkFactory, caller: Caller, consignment_id: str
) -> ConsignmentDetail:
    """One consignment with the devices still expected, or NotFound."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        found = uow.consignments.get(consignment_id)
        if found is None:
            raise NotFound(f"no consignment {consignment_id!r}")
        return ConsignmentDetail(found, uow.consignments.missing_devices(consignment_id))


def exceptions(
    uow_factory: UnitOfWorkFactory, caller: Caller, status: str | None, offset: int, limit: int
) -> tuple[list[IntakeException], int]:
    """Intake exceptions (unexpected devices and others), open, resolved or all (None)."""
    caller.require(Permission.TRIAGE_READ)
    if status is not None and status not in EXCEPTION_STATUSES:
        raise InvalidInput("status: open or resolved, or omitted for all")
    with uow_factory(write=False) as uow:
        return uow.exceptions.page(status, offset, limit)
