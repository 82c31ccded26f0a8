"""The tools' fake repository (uow.tools): enrolled tools and used agent nonces."""

from __future__ import annotations

import dataclasses

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.tool import Tool, ToolStatus
from triage.errors import Conflict
from triage.ledger.entry import Entry

_TOOL_STATUS = {
    "tool.suspended": ToolStatus.SUSPENDED,
    "tool.reinstated": ToolStatus.ACTIVE,
    "tool.retired": ToolStatus.RETIRED,
}


@area("tools")
class FakeToolRepository(FakeTables):
    """``ToolRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.tools: dict[str, Tool] = {}
        self.nonces: set[tuple[str, str]] = set()

    # -- the port ------------------------------------------------------------------------------
    def get(self, tool_id: str) -> Tool | None:
        return self.tools.get(tool_id)

    def use_agent_nonce(self, tool_id: str, nonce: str) -> bool:
        if (tool_id, nonce) in self.nonces:
            return False
        self.nonces.add((tool_id, nonce))
        return True

    def all_tools(self) -> list[Tool]:
        """Every enrolled tool by id (not a port method: for other areas' fakes that read the
        tool table, as ``SecurityRepository.tools`` does)."""
        return [self.tools[k] for k in sorted(self.tools)]

    # -- projections ---------------------------------------------------------------------------
    @projects("tool.enrolled")
    def _enrolled(self, entry: Entry, index: int) -> None:
        tool_id = entry.subject.id
        if tool_id in self.tools:
            raise Conflict(f"tool {tool_id!r} is already enrolled")
        self.tools[tool_id] = Tool(
            id=tool_id,
            bench=entry.data["bench"],
            verifier_key=entry.data["verifier_key"],
            status=ToolStatus.ACTIVE,
            enrolled_at=entry.at,
        )

    @projects(*_TOOL_STATUS)
    def _status(self, entry: Entry, index: int) -> None:
        found = self.tools.get(entry.subject.id)
        if found is not None:
            self.tools[found.id] = dataclasses.replace(
                found,
                status=_TOOL_STATUS[entry.type],
                status_reason=entry.data["reason"],
                status_changed_at=entry.at,
            )
