"""Creating a facility, with its empty ledger and the first entry in it."""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.facility import (
    DEFAULT_MAX_RESET_ATTEMPTS,
    DEFAULT_WORK_ORDER_MINUTES,
    Facility,
)
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput
from triage.ledger.entry import Entry, Ref
from triage.services.ports import UnitOfWorkFactory

SYSTEM = Ref("system", "triage")


def create_facility(
    uow_factory: UnitOfWorkFactory, facility_id: str, name: str, origin: str
) -> tuple[Facility, bool]:
    """Create the facility and its ledger, or return the existing one; (facility, created)."""
    facility = Facility(facility_id, name, origin, uow_factory.clock.now())
    with uow_factory(write=True) as uow:
        existing = uow.facilities.get(facility_id)
        if existing is not None:
            if existing.log_origin != origin:
                raise Conflict(
                    f"facility {facility_id!r} exists with log origin {existing.log_origin!r}, "
                    f"not {origin!r}; a log's origin never changes"
                )
            return existing, False
        others = [f.id for f in uow.facilities.list()]
        if others:
            raise Conflict(
                f"this database already holds facility {others[0]!r}; each facility has its "
                "own database (PostgreSQL can host many on one server)"
            )
        uow.facilities.add(facility)
        uow.ledger.create()
        uow.ledger.record(
            [
                Entry(
                    type="facility.created",
                    at=facility.created_at,
                    actor=SYSTEM,
                    facility=facility.id,
                    subject=Ref("facility", facility.id),
                    data={
                        "name": facility.name,
                        "log_origin": facility.log_origin,
                        "max_reset_attempts": DEFAULT_MAX_RESET_ATTEMPTS,
                        "work_order_minutes": DEFAULT_WORK_ORDER_MINUTES,
                    },
                )
            ]
        )
        uow.commit()
    return facility, True


def current_settings(uow_factory: UnitOfWorkFactory, caller: Caller) -> tuple[int, int]:
    """Reset attempts per job and minutes a work order stays valid (anyone signed in; the
    ``caller`` is who asks)."""
    del caller  # every operator works under these settings, so each may read them
    with uow_factory(write=False) as uow:
        return uow.facilities.settings()


def change_settings(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    max_reset_attempts: int | None = None,
    work_order_minutes: int | None = None,
) -> tuple[int, int]:
    """Change how many reset attempts a job gets and how long a work order stays valid."""
    caller.require(Permission.FACILITY_MANAGE)
    if max_reset_attempts is not None and not 1 <= max_reset_attempts <= 10:
        raise InvalidInput("max_reset_attempts: must be between 1 and 10")
    if work_order_minutes is not None and not 1 <= work_order_minutes <= 240:
        raise InvalidInput("work_order_minutes: must be between 1 and 240")
    with uow_factory(write=True) as uow:
        attempts, minutes = uow.facilities.settings()
        attempts = attempts if max_reset_attempts is None else max_reset_attempts
        minutes = minutes if work_order_minutes is None else work_order_minutes
        uow.ledger.record(
            [
                Entry(
                    type="facility.settings_changed",
                    at=uow.clock.now(),
                    actor=caller.ref,
                    facility=uow.facility_id,
                    subject=Ref("facility", uow.facility_id),
                    data={"max_reset_attempts": attempts, "work_order_minutes": minutes},
                )
            ]
        )
        uow.commit()
    return attempts, minutes
