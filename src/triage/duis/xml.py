"""Safe parsing of DUIS XML: no DTD, no entity declarations, no external references, a size cap.

A DUIS message never needs a DTD, so any DOCTYPE is refused before an entity can be declared
(billion laughs) or an external one fetched (XXE). Parsing goes through defusedxml, which
turns each of those into an exception we report in plain words.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as SafeET

from triage.duis.errors import DuisMalformed

# The largest DUIS response (a DSPInventory of 17 devices, or a 6.13 log of a few KiB in base64)
# stays far below this; anything bigger is not a message we take.
MAX_BYTES = 1024 * 1024

_DTD_REFUSED = (
    "a DTD/entity declaration is refused: a DUIS message has no DOCTYPE, and entities could "
    "expand without bound or read files"
)


def parse(data: bytes, what: str = "DUIS message") -> ET.Element:
    """The root element of ``data``, parsed with DTDs, entities and external references refused.

    Raises DuisMalformed saying what is wrong (the line and column of malformed XML).
    """
    if not isinstance(data, bytes | bytearray):
        raise DuisMalformed(f"{what}: expected the file's bytes, got {type(data).__name__}")
    if not data.strip():
        raise DuisMalformed(f"{what}: the file is empty")
    if len(data) > MAX_BYTES:
        raise DuisMalformed(
            f"{what}: {len(data)} bytes; a DUIS message is at most {MAX_BYTES // 1024} KiB"
        )
    try:
        root: ET.Element = SafeET.fromstring(
            bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise DuisMalformed(
            f"{what}: not well-formed XML at line {line}, column {column + 1}: {reason}"
        ) from exc
    except DefusedXmlException as exc:
        raise DuisMalformed(f"{what}: {_DTD_REFUSED} ({type(exc).__name__})") from exc
    except (ValueError, LookupError) as exc:
        # e.g. an encoding declaration naming an encoding Python does not know
        raise DuisMalformed(f"{what}: cannot be read as XML: {exc}") from exc
    return root
