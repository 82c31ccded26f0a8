"""Validation against the DUIS schema the facility configures.

We do not ship the DUIS XSD (GPL-3.0): the facility gets ``DUIS Schema V5.4.xsd`` from the DCC
with the two schemas it imports (``MMC Schema V5.4.xsd`` and ``xmldsig-core-schema.xsd``) and
puts them in one folder (``Settings.duis_schema``, env ``TRIAGE_DUIS_SCHEMA``).

The schema is loaded with ``defuse="always"``: the xmldsig schema begins with a DOCTYPE that
declares entities, which defused parsing refuses, so xmlschema uses its own bundled copy of the
same W3C schema. Loading takes most of a second, so a schema is loaded once per path and
process; validation is guarded by a lock (an xmlschema schema is not documented as safe to
share between threads). xmlschema itself is imported only when a schema is loaded: most
commands never need it, and importing it costs about a tenth of a second at every start.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from triage.duis.errors import DuisError, DuisSchemaError
from triage.duis.xml import parse

if TYPE_CHECKING:
    import xmlschema

_LOADED: dict[Path, DuisSchema] = {}
_LOADING = threading.Lock()
# A reason quoted from xmlschema can list a long pattern: enough to say what is wrong.
_MAX_REASON = 300


class DuisSchema:
    """The DUIS schema at one path; implements ``services.ports.DuisValidator``."""

    def __init__(self, path: Path, schema: xmlschema.XMLSchema10) -> None:
        self.path = path
        self._schema = schema
        self._lock = threading.Lock()

    def validate(self, xml: bytes) -> None:
        """Nothing if ``xml`` is a valid DUIS message, else DuisSchemaError naming the first
        element at fault (``/sr:Request/sr:Body/...``) and what is wrong with it."""
        try:
            parse(xml)  # refuses a DTD, entities, external references and oversized input
        except DuisError as exc:
            raise DuisSchemaError("/", str(exc)) from None
        import xmlschema

        with self._lock:
            resource = xmlschema.XMLResource(bytes(xml), defuse="always")
            error = next(iter(self._schema.iter_errors(resource)), None)
        if error is not None:
            reason = " ".join(str(error.reason or "does not validate").split())
            if len(reason) > _MAX_REASON:
                reason = reason[: _MAX_REASON - 3] + "..."
            raise DuisSchemaError(error.path or "/", reason)


def load(path: Path) -> DuisSchema:
    """The DUIS schema at ``path``, loaded once per process; DuisError if it cannot be read."""
    key = path.resolve()
    with _LOADING:
        found = _LOADED.get(key)
        if found is None:
            if not key.is_file():
                raise DuisError(f"no DUIS schema at {key}")
            import xmlschema

            try:
                schema = xmlschema.XMLSchema10(str(key), defuse="always")
            except (xmlschema.XMLSchemaException, OSError) as exc:
                raise DuisError(f"the DUIS schema at {key} cannot be loaded: {exc}") from exc
            found = _LOADED[key] = DuisSchema(key, schema)
        return found
