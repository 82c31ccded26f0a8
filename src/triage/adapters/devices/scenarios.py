"""Named devices for the simulated fleet: what a device brought to the bench has been through.

Each builder returns a ``DeviceSpec`` whose security log (GBCS alert codes with the device's own
times) and ``tamper`` findings (what the inspector will find, in the inspection's vocabulary)
tell one story a triage facility meets. Tests and demonstrations build fleets from them::

    SimulatedFleet.create(path, [failing_battery(D1), supplier_job(D2), strong_magnet(D3)])

Every time is the device's clock, in whole seconds; ``at`` is when the story's main alert was
logged (by default ``DEFAULT_AT``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from triage.adapters.devices.simulated import DeviceSpec
from triage.domain.device import DeviceType

DEFAULT_AT = datetime(2026, 11, 20, 8, 15, 0, tzinfo=UTC)

# GBCS alert codes the stories use (names as in the tamper policy's alert table).
LOW_BATTERY = 0x8F1F
TAMPER_DETECT = 0x8F3F
EVENT_LOG_CLEARED = 0x8F52
BATTERY_COVER_REMOVED = 0x8F73
STRONG_MAGNETIC_FIELD = 0x8F75
TERMINAL_COVER_REMOVED = 0x8F76


def clean(device_id: str, device_type: DeviceType | str = "ESME") -> DeviceSpec:
    """A device with nothing to tell: an empty security log, nothing found."""
    return DeviceSpec(device_id, device_type)


def failing_battery(
    device_id: str,
    device_type: DeviceType | str = "ESME",
    *,
    gap: timedelta = timedelta(hours=3),
    tamper_code: int = TAMPER_DETECT,
    at: datetime = DEFAULT_AT,
) -> DeviceSpec:
    """A failing battery: a low-battery warning (0x8F1F), then ``gap`` later a spurious tamper
    alert (``tamper_code``, at ``at``). Within the policy's window the battery explains it; days
    apart, it does not."""
    return DeviceSpec(
        device_id,
        device_type,
        security_log=[(LOW_BATTERY, at - gap), (tamper_code, at)],
    )


def supplier_job(
    device_id: str,
    device_type: DeviceType | str = "ESME",
    *,
    reference: str = "SJ-4471",
    at: datetime = DEFAULT_AT,
) -> DeviceSpec:
    """A supplier's job opened the terminal cover (0x8F76): the inspector finds it opened, and
    the job that explains it came with the device."""
    return DeviceSpec(
        device_id,
        device_type,
        security_log=[(TERMINAL_COVER_REMOVED, at)],
        tamper={
            "outer_covers_opened": ["terminal"],
            "legitimate_reasons": [
                {
                    "kind": "supplier_job",
                    "reference": reference,
                    "covers": ["terminal"],
                    "alert_codes": [],
                    "on": at.date().isoformat(),
                }
            ],
        },
    )


def strong_magnet(
    device_id: str, device_type: DeviceType | str = "ESME", *, at: datetime = DEFAULT_AT
) -> DeviceSpec:
    """Someone held a strong magnet to the meter (0x8F75): an attack on measurement, which no
    battery event explains."""
    return DeviceSpec(device_id, device_type, security_log=[(STRONG_MAGNETIC_FIELD, at)])


def wiped_event_log(
    device_id: str, device_type: DeviceType | str = "ESME", *, at: datetime = DEFAULT_AT
) -> DeviceSpec:
    """The device's event log was cleared (0x8F52, an integrity warning): the record that
    could have explained anything else is gone."""
    return DeviceSpec(device_id, device_type, security_log=[(EVENT_LOG_CLEARED, at)])


def breached_cpa_boundary(
    device_id: str, device_type: DeviceType | str = "ESME", *, at: datetime = DEFAULT_AT
) -> DeviceSpec:
    """The CPA tamper protection boundary was breached: the tamper switch fired (0x8F3F) and
    the inspector finds the boundary broken."""
    return DeviceSpec(
        device_id,
        device_type,
        security_log=[(TAMPER_DETECT, at)],
        tamper={"cpa_boundary_intact": False},
    )


def unreadable_log(device_id: str, device_type: DeviceType | str = "ESME") -> DeviceSpec:
    """The device gives no answer to a security-log read (its optical port is broken): the log
    can only be typed from its display, with that reason."""
    return DeviceSpec(device_id, device_type, log_unreadable=True)


SCENARIOS: Mapping[str, Callable[..., DeviceSpec]] = {
    "clean": clean,
    "failing-battery": failing_battery,
    "supplier-job": supplier_job,
    "strong-magnet": strong_magnet,
    "wiped-event-log": wiped_event_log,
    "breached-cpa-boundary": breached_cpa_boundary,
    "unreadable-log": unreadable_log,
}
"""Every scenario by name, for a demonstration fleet built from a list of names."""
