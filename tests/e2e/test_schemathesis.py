"""The published OpenAPI document is a contract: schemathesis fuzzes every operation as every
caller (each role, a bench tool signing its requests, and nobody) against the real application
and checks each answer against the document.

In process (ASGI): the same application ``triage serve`` runs, without a socket, so a few
thousand requests take a minute or two. Each caller runs schemathesis's engine, the phases of
``schemathesis run`` (examples, coverage, fuzzing; not the stateful phase, for time), with a
fixed seed; its pytest loader ``from_fixture`` does not work with this pytest.

The facility is a throwaway one with some of everything in it; the fuzzing changes it freely,
and afterwards the ledger must still verify and the projections must still agree with it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import engine
from schemathesis.engine import events
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.e2e.conftest import Triage
from tests.gbcs_logs import clean_log
from tests.people import enrol
from triage import bootstrap
from triage.adapters.devices.simulated import DeviceSpec, SimulatedFleet
from triage.adapters.replay import replay_check
from triage.config import Settings
from triage.domain import agent_request
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.roles import MATRIX, Permission, Role
from triage.domain.thresholds import MAX_COUNT
from triage.domain.tool import tool_key_name
from triage.entrypoints.asgi import create_app
from triage.ledger import note
from triage.ledger.entry import format_time
from triage.services import (
    anomaly,
    assessment,
    asset_owners,
    intake,
    job_steps,
    operators,
    seals,
    security_log,
    tools,
)
from triage.services import ledger as ledger_service

# Every caller the API has: each role (by API token), a bench tool (by signed request) and
# nobody at all. The tool goes before the roles: their fuzzing may suspend it (a security
# manager's random threshold, an administrator's suspend), and then its requests are refused.
ROLES = [role.value for role in Role]
CALLERS = ["nobody", "tool", *ROLES]
TOOL_ID = "BENCH-1"
DEVICES = ["00-1A-2B-FF-FE-00-00-01", "00-1A-2B-FF-FE-00-00-02", "00-1A-2B-FF-FE-00-00-03"]

# Examples per operation in the fuzzing phase. An operation is fuzzed in full (every phase,
# EXAMPLES_ALLOWED) by the first caller in CALLERS that may call it; the other callers that may
# call it fuzz it lightly (EXAMPLES_ALSO, no coverage phase: the input's validation is the same
# whoever calls, the role only changes what the service decides); callers refused before
# anything else is looked at, more lightly still (every answer is the same 401 or 403).
EXAMPLES_ALLOWED = 15
EXAMPLES_ALSO = 4
EXAMPLES_REFUSED = 3

# Every check schemathesis has, except:
# - positive_data_acceptance: valid input is rightly refused here all the time (an id that does
#   not exist is 404, a step the lifecycle forbids is 409, a role without the permission 403);
# - max_response_time (off unless given a limit): a timing assertion, which the suite does not
#   make;
# - object_level_authorization: permissions are per role, never per object owner, so there is
#   no "someone else's object" for it to probe.
EXCLUDED_CHECKS = ("positive_data_acceptance", "object_level_authorization")
# OPTIONS on these paths answers "Allow: GET, POST", truthfully: GET /api/v1/seals/issue is the
# seal-detail route /api/v1/seals/{serial} for a seal called "issue" (a 404), and GET
# /api/v1/incidents/vulnerabilities (or /sweep) the incident route for an incident of that id.
# The check reads only the literal path's methods; every other path must advertise exactly its
# own.
OVERLAPPING = {
    "POST /api/v1/seals/issue": "`Allow: GET, POST` does not match the schema. Undocumented "
    "methods advertised: GET\n",
    "POST /api/v1/seals/return": "`Allow: GET, POST` does not match the schema. Undocumented "
    "methods advertised: GET\n",
    "POST /api/v1/incidents/vulnerabilities": "`Allow: GET, POST` does not match the schema. "
    "Undocumented methods advertised: GET\n",
    "POST /api/v1/incidents/sweep": "`Allow: GET, POST` does not match the schema. "
    "Undocumented methods advertised: GET\n",
}


@dataclass
class Fuzzed:
    """The throwaway facility and a way in for each caller."""

    application: bootstrap.App
    api: FastAPI
    data_dir: Path
    tool_key: str

    def fresh_token(self, role: Role) -> str:
        """A token of a person in ``role`` enrolled just now. The fuzzing changes the facility
        freely, people included: schemathesis reuses ids from earlier answers, so an
        administrator's or security manager's fuzzing may revoke an auditor's token or
        deactivate the auditor. Whoever comes next starts with someone new."""
        system = Caller.system("test")
        operator_id = f"{role.value.replace('_', '-')}-{secrets.token_hex(4)}"
        owner = "MAP-1" if role is Role.ASSET_OWNER else None
        operators.create_operator(
            self.application.uow,
            system,
            operator_id,
            operator_id,
            frozenset({role}),
            asset_owner=owner,
        )
        at = "B1" if role in (Role.BENCH_OPERATOR, Role.SUPERVISOR) else None
        return enrol(self.application, system, operator_id, bench=at).token


def _caller(application: bootstrap.App, operator_id: str, bench_: str | None) -> Caller:
    return dataclasses.replace(
        operators.operator_caller(application.uow, operator_id), bench=bench_
    )


def build_facility(root: Path) -> Fuzzed:
    """A facility with staff in every role, a tool, seals, a consignment and jobs."""
    data_dir = root / "var"
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'triage.db'}")
    application = bootstrap.initialise(settings).app
    uow = application.uow
    system = Caller.system("test")
    callers: dict[Role, Caller] = {}
    # Consignments are imported for registered owners; the asset owner's person acts for it.
    asset_owners.register(uow, system, "MAP-1", "Meter Assets One")
    for role in Role:
        operator_id = role.value.replace("_", "-")
        owner = "MAP-1" if role is Role.ASSET_OWNER else None
        operators.create_operator(
            uow, system, operator_id, operator_id, frozenset({role}), asset_owner=owner
        )
        at = "B1" if role in (Role.BENCH_OPERATOR, Role.SUPERVISOR) else None
        callers[role] = _caller(application, operator_id, at)
    admin = callers[Role.ADMINISTRATOR]
    for caller in callers.values():
        # Activated by the administrator, as a bench's staff must be before the seeding below.
        enrol(application, admin, caller.id, bench=caller.bench)
    signer, verifier = note.generate_key(tool_key_name(TOOL_ID))
    tools.enrol_tool(uow, admin, TOOL_ID, "B1", verifier)
    # The tool's fuzzing reports refusals of made-up work orders by the hundred: let it, or
    # the anomaly threshold suspends it and the rest of its requests are all refused.
    anomaly.set_threshold(
        uow, callers[Role.SECURITY_MANAGER], "tool", TOOL_ID, "refused_commands", MAX_COUNT, 1
    )
    assessment.record_party(uow, admin, "TFP-1", "Test Triage Ltd", ["Other SEC Party"])
    assessment.start_commissioning(
        uow, admin, datetime.now(UTC) + timedelta(days=30), "fuzzing before the first FUSA"
    )
    stores = callers[Role.STORES]
    seals.receive_batch(
        uow,
        stores,
        supplier="Acme Seals",
        delivery_reference="DN-1",
        iso_class="H",
        class_description=None,
        store="STORE-A",
        first="SL-0001",
        last="SL-0020",
    )
    seals.issue(uow, stores, "bench-operator", first="SL-0001", last="SL-0010")
    fleet = root / "fleet.json"
    SimulatedFleet.create(fleet, [DeviceSpec(d, "ESME") for d in DEVICES])
    rows = [
        ManifestRow(
            i + 2,
            {
                "device_id": d,
                "device_type": "ESME",
                "manufacturer": "Acme",
                "model": "M1",
                "firmware_version": "1.0",
                "inventory_status": "Decommissioned",
                "asset_owner": "MAP-1",
            },
        )
        for i, d in enumerate(DEVICES)
    ]
    supervisor = callers[Role.SUPERVISOR]
    intake.import_manifest(uow, supervisor, "CONS-1", "MAP-1", rows)
    operator = callers[Role.BENCH_OPERATOR]
    for device_id in DEVICES[:2]:
        scanned = intake.scan_device(uow, operator, device_id)
        assert scanned.job is not None
        security_log.upload(
            uow,
            supervisor,
            application.evidence_store(),
            scanned.job.id,
            clean_log(device_id),
            "SR-1",
        )
        clean = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
        job_steps.inspect(uow, operator, scanned.job.id, clean)
    intake.scan_device(uow, operator, "00-1A-2B-FF-FE-00-00-99")  # not on any manifest
    return Fuzzed(application, create_app(application), data_dir, signer)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    made = build_facility(tmp_path_factory.mktemp("schemathesis"))
    yield made
    made.application.close()


def signing(app: ASGIApp, tool_id: str, signer_key: str) -> ASGIApp:
    """``app`` behind a bench agent that signs every request it passes on, as ``triage agent``
    does: over the method, the path and query as the server sees them, a fresh time and nonce,
    and the body."""

    async def signed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        url = Request(scope).url
        target = url.path + (f"?{url.query}" if url.query else "")
        sent = format_time(datetime.now(UTC))
        nonce = secrets.token_hex(16)
        raw = note.sign_message(
            agent_request.request_message(scope["method"], target, sent, nonce, body), signer_key
        )
        extra = {
            agent_request.HEADER_TOOL: tool_id,
            agent_request.HEADER_TIME: sent,
            agent_request.HEADER_NONCE: nonce,
            agent_request.HEADER_SIGNATURE: base64.b64encode(raw).decode(),
        }
        headers = [*scope["headers"], *((k.lower().encode(), v.encode()) for k, v in extra.items())]
        replayed = False

        async def once() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": headers}, once, send)

    return signed


def _may_call(caller: str, operation: Any) -> bool:
    """Whether ``caller`` gets past the operation's access check (as ``x-access`` says)."""
    access = operation.definition.raw.get("x-access")
    if access == "public":
        return True
    if access == "tool":
        return caller == "tool"
    if caller in ("tool", "nobody"):
        return False
    if access in ("self", "service"):
        return True
    return Permission(access) in MATRIX[Role(caller)]


REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]


def _first_caller(operation: Any) -> str | None:
    """The first caller in CALLERS that may call ``operation``: it fuzzes it in full."""
    return next((caller for caller in CALLERS if _may_call(caller, operation)), None)


# How a caller fuzzes an operation: the first that may call it in full, the others that may
# lightly, and those refused more lightly still.
FULL, ALSO, REFUSED = "full", "also", "refused"
SHARES = (FULL, ALSO, REFUSED)


def _share(caller: str, operation: Any) -> str:
    if not _may_call(caller, operation):
        return REFUSED
    return FULL if _first_caller(operation) == caller else ALSO


def _schema(fuzzed: Fuzzed, caller: str, share: str) -> Any:
    """The published document, as ``caller`` sees it, with the operations it has ``share`` in:
    FULL, the operations it is the first to be allowed to call, fuzzed in every phase; ALSO,
    those others were allowed first, fuzzed lightly; REFUSED, those refused to it, more
    lightly (the answer is the same 401 or 403)."""
    headers = {}
    if caller in ROLES:
        headers["Authorization"] = f"Bearer {fuzzed.fresh_token(Role(caller))}"
    phases: dict[str, Any] = {"stateful": {"enabled": False}}
    if share != FULL:
        phases["coverage"] = {"enabled": False}
    examples = {FULL: EXAMPLES_ALLOWED, ALSO: EXAMPLES_ALSO, REFUSED: EXAMPLES_REFUSED}[share]
    config = schemathesis.Config.from_dict(
        {
            "seed": 9457,
            "suppress-health-check": ["all"],
            "headers": headers,
            "workers": 1,
            "generation": {
                "mode": "all",
                "max-examples": examples,
                "deterministic": True,
                "database": "none",
            },
            "phases": phases,
            "checks": {
                **{name: {"enabled": False} for name in EXCLUDED_CHECKS},
                # A body over the size limit is refused with 413 before it is read (documented
                # on every operation); schemathesis's default list of rejections lacks 413.
                "negative_data_rejection": {"expected-statuses": REJECTIONS},
            },
        }
    )
    app = signing(fuzzed.api, TOOL_ID, fuzzed.tool_key) if caller == "tool" else fuzzed.api
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=config)

    def chosen(ctx: Any) -> bool:
        return _share(caller, ctx.operation) == share

    return schema.include(func=chosen)


def _failures(schema: Any) -> tuple[int, list[str]]:
    """Run schemathesis's engine on ``schema`` (the phases of ``schemathesis run``): how many
    requests it made, and a report of each failed check or error."""
    requests = 0
    found: dict[tuple[str, str, str], str] = {}
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    label = event.recorder.label
                    if check.name == "allow_header_conformance" and failure.message.startswith(
                        OVERLAPPING.get(label, "\0")
                    ):
                        continue
                    key = (label, check.name, failure.title)
                    found.setdefault(
                        key,
                        f"{key[0]} [{check.name}] {failure.title}\n{failure.message}\n"
                        f"{check.failure_info.code_sample}",
                    )
        elif isinstance(event, events.NonFatalError):
            found.setdefault(
                (event.label, "error", str(event.value)), f"{event.label}: {event.info}"
            )
        elif isinstance(event, events.FatalError):
            found[("", "fatal", "")] = f"schemathesis stopped: {event.exception!r}"
    return requests, sorted(found.values())


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_as_documented(fuzzed: Fuzzed, caller: str) -> None:
    requests, failures = 0, []
    for share in SHARES:
        made, found = _failures(_schema(fuzzed, caller, share))
        requests += made
        failures += found
    assert not failures, f"{len(failures)} problems:\n\n" + "\n\n".join(failures)
    assert requests > 300, requests
    # Whatever the fuzzing did, the record still holds: the ledger verifies and the
    # projections are what replaying it gives.
    app = fuzzed.application
    report = ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    )
    assert report.ok, report.first_problem()
    replayed = replay_check(app.database, app.facility.id)
    assert not replayed.differences, replayed.differences


def test_the_ledger_verifies_from_the_command_line_after_the_fuzzing(fuzzed: Fuzzed) -> None:
    triage = Triage(fuzzed.data_dir)
    auditor = fuzzed.fresh_token(Role.AUDITOR)
    verified = json.loads(triage.run("ledger", "verify", "--json", "--token", auditor).stdout)
    assert verified["ok"], verified["problems"]
    replayed = json.loads(triage.run("ledger", "replay", "--json", "--token", auditor).stdout)
    assert replayed["ok"], replayed["differences"]
