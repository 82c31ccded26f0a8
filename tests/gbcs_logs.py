"""GBCS security logs for tests: a device's answer to DUIS 6.13, built with our own encoder.

One helper for every test that needs a device's security log (unit seeds, integration helpers):
a clean log (no entries), one holding the given codes at the given times, or the device's error
answer. The log is the one the simulated device answers with (``security_log_response``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from triage import gbcs
from triage.adapters.devices.simulated import SUPPLIER, security_log_response
from triage.domain.device import DeviceType


def security_log(
    device_id: str,
    device_type: str = "ESME",
    entries: Iterable[tuple[int, datetime]] = (),
    *,
    counter: int = 1,
) -> bytes:
    """The raw GBCS bytes of the device's security log holding ``entries`` (code, time)."""
    kind = DeviceType.parse(device_type)
    return gbcs.encode(security_log_response(device_id, kind, entries, counter))


def clean_log(device_id: str, device_type: str = "ESME") -> bytes:
    """A security log with no entries: nothing for the tamper policy to weigh."""
    return security_log(device_id, device_type)


def error_answer(device_id: str, device_type: str = "ESME") -> bytes:
    """The device's error answer (hardware fault) instead of its log."""
    use_case = gbcs.use_case_for(DeviceType.parse(device_type).name)
    status = (
        "ZCL status 0xC0 Hardware Failure"
        if use_case.encoding == "zigbee"
        else "DLMS data access result 1 (hardware fault)"
    )
    response = gbcs.LogResponse(
        use_case, device_id, SUPPLIER, 1, gbcs.ResponseOutcome.ERROR, status, (), bytes(12)
    )
    return gbcs.encode(response)
