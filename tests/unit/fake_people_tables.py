"""The people half of the fake ``TriageRepository``: operators, their benches, tokens, tools,
used agent nonces and the tamper policy in force."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.unit.fakes import FakeTables, projects
from triage.domain.digests import token_hash
from triage.domain.people import Operator
from triage.domain.roles import Role
from triage.domain.token import StoredToken
from triage.domain.tool import Tool, ToolStatus
from triage.errors import Conflict
from triage.ledger.entry import Entry

_TOOL_STATUS = {
    "tool.suspended": ToolStatus.SUSPENDED,
    "tool.reinstated": ToolStatus.ACTIVE,
    "tool.retired": ToolStatus.RETIRED,
}


@dataclass
class PolicyRow:
    """One row of the tamper-policy table."""

    hash: str
    policy_id: str
    version: str
    source: str
    active: bool
    activated_at: datetime


@dataclass
class People:
    """The people tables, as plain data (the fake database is deep-copied)."""

    operators: dict[str, Operator] = field(default_factory=dict)
    # operator id -> bench -> when it was first assigned
    benches: dict[str, dict[str, datetime]] = field(default_factory=dict)
    tokens: dict[str, StoredToken] = field(default_factory=dict)
    token_ids: dict[bytes, str] = field(default_factory=dict)  # secret's hash -> token id
    tools: dict[str, Tool] = field(default_factory=dict)
    nonces: set[tuple[str, str]] = field(default_factory=set)
    policies: dict[str, PolicyRow] = field(default_factory=dict)  # by hash


class PeopleTables(FakeTables):
    """Operators, benches, tokens, tools, nonces, the active policy."""

    @property
    def people(self) -> People:
        # Made on first use: the composed repository's ``__init__`` belongs to fake_triage.
        state: People | None = self.__dict__.get("_people")
        if state is None:
            state = self.__dict__["_people"] = People()
        return state

    # -- reads and what is kept beside the projections (the port) ------------------------------
    def operator(self, operator_id: str) -> Operator | None:
        return self.people.operators.get(operator_id)

    def operators(self) -> list[Operator]:
        return [self.people.operators[k] for k in sorted(self.people.operators)]

    def operator_benches(self, operator_id: str) -> frozenset[str]:
        return frozenset(self.people.benches.get(operator_id, {}))

    def bench_assignments(self) -> dict[str, list[str]]:
        return {
            operator_id: sorted(benches)
            for operator_id, benches in sorted(self.people.benches.items())
            if benches
        }

    def add_token(self, token: StoredToken, secret: str) -> None:
        digest = token_hash(secret)
        if token.id in self.people.tokens or digest in self.people.token_ids:
            raise Conflict(f"token {token.id!r} already exists")
        if token.operator_id not in self.people.operators:
            raise Conflict(f"no operator {token.operator_id!r} for a token")
        # As stored: the scopes' text keeps no order and an empty set reads back as None.
        self.people.tokens[token.id] = dataclasses.replace(
            token, scopes=token.scopes or None, revoked_at=None
        )
        self.people.token_ids[digest] = token.id

    def token_by_secret(self, secret: str) -> StoredToken | None:
        token_id = self.people.token_ids.get(token_hash(secret))
        return None if token_id is None else self.people.tokens[token_id]

    def token(self, token_id: str) -> StoredToken | None:
        return self.people.tokens.get(token_id)

    def tokens(self, operator_id: str | None = None) -> list[StoredToken]:
        found = [
            t
            for t in self.people.tokens.values()
            if operator_id is None or t.operator_id == operator_id
        ]
        return sorted(found, key=lambda t: (t.operator_id, t.created_at))

    def revoke_token(self, token_id: str, at: datetime) -> None:
        found = self.people.tokens.get(token_id)
        if found is not None and found.revoked_at is None:
            self.people.tokens[token_id] = dataclasses.replace(found, revoked_at=at)

    def tool(self, tool_id: str) -> Tool | None:
        return self.people.tools.get(tool_id)

    def all_tools(self) -> list[Tool]:
        """Every enrolled tool by id (not a port method: for other areas' fakes that read the
        tool table, as ``SecurityRepository.tools`` does)."""
        return [self.people.tools[k] for k in sorted(self.people.tools)]

    def use_agent_nonce(self, tool_id: str, nonce: str) -> bool:
        if (tool_id, nonce) in self.people.nonces:
            return False
        self.people.nonces.add((tool_id, nonce))
        return True

    def active_policy_source(self) -> str | None:
        active = [p.source for p in self.people.policies.values() if p.active]
        return active[0] if active else None

    # -- projections ---------------------------------------------------------------------------
    def _change_operator(self, operator_id: str, **values: Any) -> None:
        # An update of a row that is not there changes nothing, as in SQL.
        found = self.people.operators.get(operator_id)
        if found is not None:
            self.people.operators[operator_id] = dataclasses.replace(found, **values)

    @projects("operator.created")
    def _operator_created(self, entry: Entry, index: int) -> None:
        operator_id = entry.subject.id
        if operator_id in self.people.operators:
            raise Conflict(f"operator {operator_id!r} already exists")
        self.people.operators[operator_id] = Operator(
            id=operator_id,
            name=entry.data["name"],
            roles=frozenset(Role(r) for r in entry.data["roles"]),
            active=True,
            created_at=entry.at,
        )

    @projects("operator.roles_changed")
    def _roles_changed(self, entry: Entry, index: int) -> None:
        roles = frozenset(Role(r) for r in entry.data["roles"])
        self._change_operator(entry.subject.id, roles=roles)

    @projects("operator.deactivated")
    def _deactivated(self, entry: Entry, index: int) -> None:
        self._change_operator(entry.subject.id, active=False)

    @projects("operator.suspended", "operator.reinstated")
    def _suspension(self, entry: Entry, index: int) -> None:
        self._change_operator(entry.subject.id, suspended=entry.type == "operator.suspended")

    @projects("auth.mfa_enrolled")
    def _mfa_enrolled(self, entry: Entry, index: int) -> None:
        self._change_operator(entry.subject.id, mfa_enrolled=True)

    @projects("auth.login")
    def _login(self, entry: Entry, index: int) -> None:
        self._change_operator(entry.subject.id, last_login_at=entry.at)

    @projects("operator.benches_assigned")
    def _benches_assigned(self, entry: Entry, index: int) -> None:
        # The entry holds the whole new set; a bench kept keeps when it was first assigned.
        held = self.people.benches.get(entry.subject.id, {})
        now = {bench: held.get(bench, entry.at) for bench in entry.data["benches"]}
        if now:
            self.people.benches[entry.subject.id] = now
        else:
            self.people.benches.pop(entry.subject.id, None)

    @projects("tool.enrolled")
    def _tool_enrolled(self, entry: Entry, index: int) -> None:
        tool_id = entry.subject.id
        if tool_id in self.people.tools:
            raise Conflict(f"tool {tool_id!r} is already enrolled")
        self.people.tools[tool_id] = Tool(
            id=tool_id,
            bench=entry.data["bench"],
            verifier_key=entry.data["verifier_key"],
            status=ToolStatus.ACTIVE,
            enrolled_at=entry.at,
        )

    @projects(*_TOOL_STATUS)
    def _tool_status(self, entry: Entry, index: int) -> None:
        found = self.people.tools.get(entry.subject.id)
        if found is not None:
            self.people.tools[found.id] = dataclasses.replace(
                found,
                status=_TOOL_STATUS[entry.type],
                status_reason=entry.data["reason"],
                status_changed_at=entry.at,
            )

    @projects("policy.activated")
    def _policy_activated(self, entry: Entry, index: int) -> None:
        data = entry.data
        for row in self.people.policies.values():
            row.active = False
        # One row a text: a text in force before is put back in force.
        self.people.policies[data["hash"]] = PolicyRow(
            hash=data["hash"],
            policy_id=data["policy_id"],
            version=data["version"],
            source=data["source"],
            active=True,
            activated_at=entry.at,
        )
