"""The interface between the bench agent and a device, which real-hardware plugins implement.

A connector is found by name among the ``triage.device_connectors`` entry points, so a plugin
package for a make of optical probe or HAN test rig only has to declare one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from triage.domain.device import DeviceType
from triage.errors import InfrastructureFailure, InvalidInput

ENTRY_POINT_GROUP = "triage.device_connectors"
AGENT_OPTIONS = ("facility_verifier_key", "tool_id")
"""The options the agent itself gives every connector (from its own settings)."""


class DeviceNotPresent(Exception):
    """No such device at this bench, or the connector cannot talk to it."""


class ResetFailed(Exception):
    """The device refused or failed the reset; the message says why."""


class LogReadFailed(Exception):
    """The device gave no answer to a security-log read; the message says why."""


class UnknownConnector(InfrastructureFailure):
    """No installed device connector has the requested name."""

    title = "Unknown device connector"


class ConnectorOptionError(InvalidInput):
    """A connector's option is missing, or the connector has no option of that name."""


class AttachedDevice(Protocol):
    """One device physically at the bench, as the connector sees it."""

    @property
    def device_id(self) -> str:
        """The EUI-64 the device itself reports, in canonical form (BC-33-AC-FF-FE-FA-55-3D)."""
        ...

    @property
    def device_type(self) -> DeviceType:
        """The device's GBCS type."""
        ...

    def read_state(self) -> dict[str, str]:
        """Every reset-profile item the device holds, mapped to the SHA-256 hex of its content."""
        ...

    def read_security_log(self) -> bytes:
        """The raw GBCS message the device answers a DUIS 6.13 security-log read with: the
        ECS35b (ESME), ECS35d (CHF) or CS10b (ZigBee device) response, exactly as received.

        A device that answers with a GBCS error or not-found response returns that response
        (it is evidence too); LogReadFailed when no answer could be had at all."""
        ...

    def factory_reset(self, signed_work_order: str) -> None:
        """Reset the device under a signed work order for a factory reset; WorkOrderRefused
        (also for an order for any other action) or ResetFailed."""
        ...


@runtime_checkable
class DeviceConnector(Protocol):
    """Finds devices at one bench."""

    def attach(self, device_id: str) -> AttachedDevice:
        """The device on the bench that answers to device_id; DeviceNotPresent if none does."""
        ...


def installed_connectors() -> list[str]:
    """The names of the device connectors installed in this environment."""
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_connector(name: str, **options: object) -> DeviceConnector:
    """Build the connector registered under name with the given options (the agent passes
    ``facility_verifier_key`` and ``tool_id``, the tool the bench's devices are connected to,
    besides the connector's own options)."""
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        installed = ", ".join(installed_connectors()) or "none"
        raise UnknownConnector(
            f"no device connector named {name!r}; installed connectors: {installed}. "
            f"Check the name, or install the plugin package that provides it "
            f"(it registers an entry point in the group {ENTRY_POINT_GROUP!r})."
        )
    factory = found[0].load()
    _check_options(name, factory, options)
    connector = factory(**options)
    if not isinstance(connector, DeviceConnector):
        raise UnknownConnector(
            f"the device connector {name!r} ({found[0].value}) does not provide attach()"
        )
    return connector


def _check_options(name: str, factory: Callable[..., object], options: dict[str, object]) -> None:
    """ConnectorOptionError naming what is missing or unknown, before the connector is built
    (a TypeError from its constructor would name a Python argument, not the option)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read: the connector checks for itself
        return
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    named = [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    own = [p.name for p in named if p.name not in AGENT_OPTIONS]
    listed = ", ".join(own) or "none"
    unknown = [o for o in options if o not in {p.name for p in named}]
    if unknown and not takes_any:
        raise ConnectorOptionError(
            f"the device connector {name!r} has no option {', '.join(unknown)}; "
            f"its options: {listed}"
        )
    missing = [p.name for p in named if p.default is p.empty and p.name not in options]
    if missing:
        given = " ".join(f"--option {m}=VALUE" for m in missing)
        raise ConnectorOptionError(
            f"the device connector {name!r} needs the option {', '.join(missing)}: give {given}"
        )
