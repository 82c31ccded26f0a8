"""The facility's settings page: what the ledger records (the reset attempts and work order
validity, the working hours in the facility's time zone) and what the environment sets."""

from __future__ import annotations

from dataclasses import dataclass

from triage.config import ReadOnlySetting
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.domain.thresholds import WorkingHours
from triage.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class FacilitySettings:
    """The settings in force: those changed by recorded acts, and those read from the
    environment (each with where it comes from)."""

    max_reset_attempts: int
    work_order_minutes: int
    working_hours: WorkingHours | None  # None: every hour is working time
    time_zone: str  # the zone new working hours are set in
    read_only: tuple[ReadOnlySetting, ...]


def facility_settings(uow_factory: UnitOfWorkFactory, caller: Caller) -> FacilitySettings:
    """The facility's settings, for who changes them (an administrator, a security manager)
    or reviews them (an auditor)."""
    caller.require(
        Permission.ACCESS_REVIEW, Permission.FACILITY_MANAGE, Permission.THRESHOLD_MANAGE
    )
    with uow_factory(write=False) as uow:
        attempts, minutes = uow.facilities.settings()
        hours = uow.security.working_hours()
    settings = uow_factory.settings
    return FacilitySettings(attempts, minutes, hours, settings.time_zone, settings.read_only())
