"""What a person of an asset owner sees first: its own devices (the latest received) and its
consignments, read through the same owner-scoped queries as the device list and the
consignments list."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.asset_owner import AssetOwner
from triage.domain.caller import Caller
from triage.domain.consignment import Consignment
from triage.domain.device_list import DeviceQuery, ListedDevice
from triage.domain.roles import Permission
from triage.errors import PermissionDenied
from triage.services.asset_owners import get_owner
from triage.services.ports import UnitOfWorkFactory

# How many of its latest devices and consignments the page lists (the device list has more).
SHOWN = 50


@dataclass(frozen=True)
class OwnerHome:
    """An asset owner's own page: the party, its latest devices and consignments."""

    owner: AssetOwner
    devices: list[ListedDevice]  # newest received first
    more_devices: bool
    consignments: list[Consignment]  # newest first
    consignment_total: int


def owner_home(uow_factory: UnitOfWorkFactory, caller: Caller) -> OwnerHome:
    """The home page of a person of an asset owner (owner.read): that owner's alone."""
    caller.require(Permission.OWNER_READ)
    scope = caller.owner_scope()
    if scope is None:
        raise PermissionDenied("this page is for the people of an asset owner")
    with uow_factory(write=False) as uow:
        party = get_owner(uow, scope)
        devices = uow.devices.search(DeviceQuery(owner=scope), None, SHOWN + 1)
        _, total = uow.consignments.page(0, 0, owner=scope)
        latest, _ = uow.consignments.page(max(0, total - SHOWN), SHOWN, owner=scope)
    return OwnerHome(party, devices[:SHOWN], len(devices) > SHOWN, latest[::-1], total)
