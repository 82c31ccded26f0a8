"""Names of the GBCS event and alert codes the tamper policy is about (the list in the domain
description: tamper, the battery and power events that can explain one, integrity warnings).
Other codes have no name here rather than a guessed one."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CODE_NAMES: Mapping[int, str] = MappingProxyType(
    {
        0x8F3F: "tamper detect",
        0x8F73: "battery cover removed",
        0x8F74: "meter cover removed",
        0x8F75: "strong magnetic field",
        0x8F76: "terminal cover removed",
        0x8F77: "second terminal cover removed",
        0x8F78: "other physical access",
        0x8F1F: "low battery capacity",
        0x8F1D: "power supply loss (gas)",
        0x8F82: "battery capacity reset",
        0x8F1B: "firmware verification failed",
        0x8F1C: "firmware verification failed",
        0x81A0: "integrity issue",
        0x8F52: "event log cleared",
    }
)


def code_name(code: int) -> str | None:
    """The name of a GBCS event or alert code we know, else None."""
    return CODE_NAMES.get(code)


def code_hex(code: int) -> str:
    """A code as ``0x`` and four upper-case hex digits, e.g. ``0x8F3F``."""
    return f"0x{code:04X}"
