"""The DUIS schema a DUIS file in is validated against, when the facility has installed one."""

from __future__ import annotations

from triage.bootstrap import App
from triage.services.ports import DuisValidator


def configured_schema(application: App) -> DuisValidator | None:
    """The facility's DUIS schema when its file is there (TRIAGE_DUIS_SCHEMA, default
    <data_dir>/duis/DUIS Schema V5.4.xsd), else None: a response in is then read by our own
    strict parser only. A schema that is there but cannot be loaded is refused (Conflict),
    never skipped."""
    path = application.settings.duis_schema
    if path is None or not path.exists():
        return None
    return application.duis_schema()
