"""Automatic evidence: documents the system produces about itself for the assessor (ledger
verification, replay, access review, tools and thresholds, breaches, seal reconciliation, the
tamper policy and its decisions, triage outcomes, assessments and remediation, the incident
and vulnerability register with its notifications), each stored by
its SHA-256 and recorded in the ledger. One generator a kind of evidence the control catalogue
asks for by name."""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from triage.domain.assurance_records import Assessment, AssuranceStatus, Evidence
from triage.domain.caller import Caller
from triage.domain.catalogue import Catalogue
from triage.domain.roles import Permission
from triage.errors import InvalidInput
from triage.ledger.audit import AuditReport
from triage.ledger.entry import Ref, format_time
from triage.services import access_review, anomaly, assessment, incident_reports, seals
from triage.services import ledger as ledger_service
from triage.services.assurance import ASSURANCE
from triage.services.common import make_entry
from triage.services.issuer import Issuer
from triage.services.ports import FileStore, ReplayCheck, UnitOfWorkFactory
from triage.services.proof_encoding import replay_json, verification_json

# An automatic evidence document: JSON, stored as it is and read by assessors, whose shape is
# each generator's own.
EvidenceDocument = dict[str, Any]

JSON_MEDIA = "application/json"
_EVERYTHING = 10**9


# -- evidence --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationEvidence:
    """The whole ledger verified against the facility's key, and its latest checkpoint."""

    report: AuditReport
    latest_checkpoint: str | None
    verifier_key: str

    def to_json(self) -> EvidenceDocument:
        return {
            **verification_json(self.report),
            "latest_checkpoint": self.latest_checkpoint,
            "verifier_key": self.verifier_key,
        }


@dataclass(frozen=True)
class ReplayEvidence:
    """The ledger replayed into fresh tables and compared with the live ones."""

    entries: int
    rows: int
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> EvidenceDocument:
        return dict(replay_json(self))


def verify_ledger(
    uow_factory: UnitOfWorkFactory,
    issuer: Issuer,
    progress: Callable[[int, int], None] | None = None,
) -> VerificationEvidence:
    """Verify the whole ledger (the automatic evidence 'ledger_verification'); ``progress`` is
    told how many entries are checked of how many."""
    report = ledger_service.verify(
        uow_factory, ledger_service.LEDGER_ACTOR, issuer.verifier_key, issuer.origin, progress
    )
    latest = ledger_service.status(uow_factory, ledger_service.LEDGER_ACTOR).latest_checkpoint
    return VerificationEvidence(
        report, None if latest is None else latest.note, issuer.verifier_key
    )


def replay_ledger(replay: ReplayCheck) -> ReplayEvidence:
    """Replay the ledger and compare (the automatic evidence 'replay_check')."""
    found = replay()
    return ReplayEvidence(found.entries, found.rows, tuple(str(d) for d in found.differences))


class Progress(Protocol):
    """Told what a verification is doing: its step ('verify' then 'replay'), and how many
    entries are checked of how many (for 'verify')."""

    def __call__(self, step: str, done: int, total: int, /) -> None: ...


def _generators(
    uow_factory: UnitOfWorkFactory,
    issuer: Issuer,
    replay: ReplayCheck,
    progress: Progress | None = None,
) -> dict[str, Callable[[], EvidenceDocument]]:
    def verification() -> EvidenceDocument:
        told = None if progress is None else functools.partial(progress, "verify")
        return verify_ledger(uow_factory, issuer, told).to_json()

    def replay_check() -> EvidenceDocument:
        if progress is not None:
            progress("replay", 0, 0)
        return replay_ledger(replay).to_json()

    def tool_inventory() -> EvidenceDocument:
        with uow_factory(write=False) as uow:
            tools = uow.security.tools()
        return {
            "tools": [access_review.tool_json(t) for t in tools],
            "thresholds": anomaly.thresholds(uow_factory, ASSURANCE).to_json(),
        }

    def breaches() -> EvidenceDocument:
        with uow_factory(write=False) as uow:
            items, total = uow.security.alerts(None, 0, _EVERYTHING)
        return {
            "alerts": [dataclasses.asdict(a) for a in items],
            "total": total,
            "open": sum(a.status == "open" for a in items),
        }

    def tamper_policy() -> EvidenceDocument:
        with uow_factory(write=False) as uow:
            policy = uow.assurance.policy_in_force()
            decisions = uow.assurance.decision_counts()
        return {
            "policy_in_force": None if policy is None else dataclasses.asdict(policy),
            "decisions": [dataclasses.asdict(d) for d in decisions],
        }

    def triage_outcomes() -> EvidenceDocument:
        with uow_factory(write=False) as uow:
            counts = uow.assurance.job_counts()
        return {
            "jobs": [dataclasses.asdict(c) for c in counts],
            "total": sum(c.count for c in counts),
        }

    @functools.cache
    def assessed() -> tuple[list[Assessment], AssuranceStatus]:
        # Both the assessments and the remediation evidence read these: once a round.
        return assessment.list_all(uow_factory, ASSURANCE), assessment.status(
            uow_factory, ASSURANCE
        )

    def assessments() -> EvidenceDocument:
        everything, standing = assessed()
        return {
            "assessments": [a.to_json() for a in everything],
            "total": len(everything),
            "approval": standing.approval.to_json(),
            "next_assessment": standing.next_assessment.to_json(),
            "may_triage": standing.may_triage,
            "may_triage_because": standing.may_triage_because,
        }

    def remediation() -> EvidenceDocument:
        everything, standing = assessed()
        findings = [f for a in everything for f in a.findings]
        actions = [action for a in everything for action in a.actions]
        return {
            "findings": [f.to_json() for f in findings],
            "actions": [action.to_json() for action in actions],
            "total": len(findings),
            "open": sum(f.is_open for f in findings),
            "open_actions": sum(action.status == "open" for action in actions),
            "overdue": {
                "findings": [f.to_json() for f in standing.overdue_findings],
                "actions": [action.to_json() for action in standing.overdue_actions],
            },
        }

    def incident_register() -> EvidenceDocument:
        with uow_factory(write=False) as uow:
            found = incident_reports.read_register(uow).to_json()
        counts = found["counts"]
        return {
            **found,
            "total": len(found["incidents"]),
            "open": counts["open"],
            "notifications_overdue": counts["notifications_overdue"],
        }

    return {
        "ledger_verification": verification,
        "replay_check": replay_check,
        "access_review": lambda: access_review.to_dict(
            access_review.access_review(uow_factory, ASSURANCE)
        ),
        "tool_inventory": tool_inventory,
        "breaches": breaches,
        "seal_reconciliation": lambda: seals.reconciliation(
            uow_factory, ASSURANCE, "facility"
        ).to_json(),
        "tamper_policy": tamper_policy,
        "triage_outcomes": triage_outcomes,
        "assessments": assessments,
        "remediation": remediation,
        "incident_register": incident_register,
    }


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, frozenset | set | tuple):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    raise TypeError(f"cannot put {type(value).__name__} into evidence")


def evidence_bytes(document: Mapping[str, Any]) -> bytes:
    """An evidence document as stored: JSON, keys sorted, indented, UTF-8."""
    return (json.dumps(document, sort_keys=True, indent=2, default=_json_default) + "\n").encode()


def _summary(name: str, document: Mapping[str, Any]) -> EvidenceDocument:
    """The document's headline figures, recorded in its ledger entry."""
    keys = ("ok", "balanced", "size", "total", "open", "entries_checked", "differences")
    found = {k: document[k] for k in keys if k in document and not isinstance(document[k], list)}
    if isinstance(document.get("differences"), list):
        found["differences"] = len(document["differences"])
    return found


def generate(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    issuer: Issuer,
    replay: ReplayCheck,
    store: FileStore,
    names: Sequence[str] | None = None,
) -> list[Evidence]:
    """Produce automatic evidence now (every kind, or those named), store each file by its
    SHA-256 and record it in the ledger. Returns the evidence records."""
    caller.require(Permission.ASSURANCE_MANAGE)
    return _generate(uow_factory, caller, issuer, replay, store, names)


# What "verify now" produces: the whole ledger verified, then replayed into fresh tables.
VERIFY_NOW = ("ledger_verification", "replay_check")


def verify_now(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    issuer: Issuer,
    replay: ReplayCheck,
    store: FileStore,
    progress: Progress | None = None,
) -> list[Evidence]:
    """An auditor verifies the whole ledger now and replays it into fresh tables to compare
    with the register: both recorded as the daily automatic evidence records them (by who
    asked), the verification first. ``progress`` follows the steps."""
    caller.require(Permission.ASSURANCE_READ)
    return _generate(uow_factory, caller, issuer, replay, store, VERIFY_NOW, progress)


def _generate(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    issuer: Issuer,
    replay: ReplayCheck,
    store: FileStore,
    names: Sequence[str] | None,
    progress: Progress | None = None,
) -> list[Evidence]:
    generators = _generators(uow_factory, issuer, replay, progress)
    chosen = list(names) if names else list(generators)
    unknown = [n for n in chosen if n not in generators]
    if unknown:
        raise InvalidInput(
            f"evidence: no automatic evidence named {', '.join(unknown)}; this version "
            f"produces {', '.join(generators)}"
        )
    made = []
    for name in chosen:
        at = uow_factory.clock.now()
        document = {"evidence": name, "generated_at": at, **generators[name]()}
        sha256, size = store.put(evidence_bytes(document))
        made.append((name, sha256, size, _summary(name, document)))
    titles = _titles(uow_factory.packaged.catalogue())
    with uow_factory(write=True) as uow:
        ids = []
        for name, sha256, size, summary in made:
            evidence_id = str(uuid.uuid4())
            data = {
                "evidence_id": evidence_id,
                "name": name,
                "title": titles.get(name, name.replace("_", " ")),
                "sha256": sha256,
                "size": size,
                "media_type": JSON_MEDIA,
                "summary": summary,
            }
            uow.ledger.record(
                [
                    make_entry(
                        uow,
                        caller,
                        "assurance.evidence_generated",
                        Ref("evidence", evidence_id),
                        data,
                    )
                ]
            )
            ids.append(evidence_id)
        result = [uow.assurance.evidence(i) for i in ids]
        uow.commit()
    return [r for r in result if r is not None]


def _titles(catalogue: Catalogue) -> dict[str, str]:
    titles: dict[str, str] = {}
    for control in catalogue.controls:
        for expected in control.evidence:
            if expected.kind == "automatic":
                titles.setdefault(expected.name, expected.title)
    return titles
