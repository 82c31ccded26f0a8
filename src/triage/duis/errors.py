"""What goes wrong with a DUIS message."""

from __future__ import annotations


class DuisError(ValueError):
    """A DUIS message we cannot use; the message says what and where."""


class DuisMalformed(DuisError):
    """Not well-formed XML, or XML we refuse to parse (a DTD, entities, external references),
    or not the DUIS message it claims to be."""


class DuisSchemaError(DuisError):
    """A message that does not validate against the DUIS schema: ``element`` is the path of the
    element at fault (e.g. ``/sr:Request/sr:Body/sr:UpdateInventory/sr:DeviceID``), ``reason``
    what is wrong with it."""

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.element = element
        self.reason = reason
