"""The fake ``TriageRepository`` (uow.triage): its people half and its workflow half."""

from __future__ import annotations

from tests.unit.fake_people_tables import PeopleTables
from tests.unit.fake_workflow_tables import WorkflowTables
from tests.unit.fakes import FakeDatabase, area


@area("triage")
class FakeTriageRepository(PeopleTables, WorkflowTables):
    """``TriageRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
