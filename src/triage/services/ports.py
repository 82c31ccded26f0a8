"""Every port of the services in one module: what the use cases need from storage (the unit
of work and its repositories), from the key box, password hasher and TOTP codes, from the
packaged data files, from the document renderer and the export builders. ``triage.adapters``
implements them; tests/unit/fakes.py fakes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, Self

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.domain.alert import Alert
    from triage.domain.assessment import Commissioning, Rules, SecParty
    from triage.domain.asset_owner import AssetOwner
    from triage.domain.assurance_records import (
        AdoptedCatalogue,
        ApprovalStep,
        Assessment,
        AssessmentSummary,
        AttachedEvidence,
        BenchResets,
        DayOutcomes,
        DecisionCount,
        Evidence,
        Finding,
        JobCount,
        PolicyInForce,
        RecordedParty,
        RemedialAction,
    )
    from triage.domain.catalogue import Catalogue, Control, ControlReadiness
    from triage.domain.consignment import Consignment
    from triage.domain.credentials import AccessLock, StoredCredential, WebSession
    from triage.domain.custody import (
        CustodySettings,
        DeviceCustody,
        DeviceStocktake,
        IdleDevice,
        Location,
        LocationCount,
        SealDraw,
    )
    from triage.domain.device import Device, InventoryStatus
    from triage.domain.device_list import DeviceQuery, ListedDevice, Position
    from triage.domain.dispatch import Dispatch, DispatchState, DispatchSummary
    from triage.domain.disposal import DestructionMethod, DisposalRecord
    from triage.domain.duis_request import (
        DccUser,
        DuisBatch,
        DuisSettings,
        FinishedJob,
        ProducedRequest,
    )
    from triage.domain.duis_rules import DuisRules
    from triage.domain.facility import Facility
    from triage.domain.hub_return import HubPolicy, HubReturnRecord
    from triage.domain.incident import (
        Incident,
        IncidentKind,
        IncidentRules,
        IncidentStatus,
        Severity,
    )
    from triage.domain.intake_exception import IntakeException
    from triage.domain.inventory_reading import InventoryReading
    from triage.domain.job import TriageJob
    from triage.domain.lifecycle import JobState
    from triage.domain.people import Holder, Operator
    from triage.domain.reset_profile import ResetProfiles
    from triage.domain.retention import EvidenceFile, LegalHold, Purged, RetentionRule
    from triage.domain.seal_register import (
        FittedCount,
        SealBatch,
        SealEvent,
        Stocktake,
        StoredReconciliation,
    )
    from triage.domain.seals import Discrepancy, Seal, SealStatus
    from triage.domain.seals import Scope as SealScope
    from triage.domain.security_log_reading import SecurityLogRecord
    from triage.domain.tamper_policy import TamperPolicy
    from triage.domain.thresholds import Metric, ThresholdSetting, WorkingHours
    from triage.domain.thresholds import Scope as ThresholdScope
    from triage.domain.token import StoredToken
    from triage.domain.tool import Tool
    from triage.domain.work_order_record import ResetResult, StoredWorkOrder
    from triage.ledger.audit import StorageOpener
    from triage.ledger.entry import Entry
    from triage.ledger.log import Log, LogStorage
    from triage.ledger.tiles import TileCache
    from triage.services.ledger import InclusionProof
    from triage.services.throttle import Throttles


# -- the data files that ship with the system, parsed (uow.packaged) ------------------------------


class PackagedData(Protocol):
    """Data files that ship with the system."""

    def common_passwords(self) -> frozenset[str]:
        """The list of common passwords no one may choose, lower-case."""
        ...

    def tamper_policy(self) -> TamperPolicy:
        """The default tamper policy, activated the first time a policy is needed."""
        ...

    def reset_profiles(self) -> ResetProfiles:
        """The reset profiles a work order names and a reset is checked against."""
        ...

    def assessment_rules(self) -> Rules:
        """The rules choosing which security assessment is due next."""
        ...

    def catalogue(self) -> Catalogue:
        """The control catalogue shipped with this version of the package."""
        ...

    def incident_rules(self) -> IncidentRules:
        """The default incident notification rules (issue 20, D)."""
        ...

    def catalogue_text(self) -> str:
        """The YAML of that catalogue, as recorded when it is adopted."""
        ...

    def duis_rules(self) -> DuisRules:
        """The default rules saying which DUIS requests a triage outcome calls for (issue 20)."""
        ...


# -- authentication: credentials, the password hasher, TOTP codes (uow.credentials) ---------------


class PasswordHasher(Protocol):
    """Hashes passwords for keeping (``triage.adapters.passwords``)."""

    def hash(self, password: str) -> str:
        """A salted hash of ``password`` with its parameters, as kept."""
        ...

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; None takes as long and is False."""
        ...

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than today's."""
        ...


class TotpCodes(Protocol):
    """Computes an authenticator's time-based codes (``triage.adapters.totp``)."""

    def new_secret(self) -> str: ...

    def provisioning_uri(self, secret: str, operator_id: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app reads from a QR code."""
        ...

    def code(self, secret: str, step: int) -> str:
        """The code of ``secret`` for TOTP time step ``step``."""
        ...


class SecretSealer(Protocol):
    """Encrypts secrets the server must read back (``App.secret_box()``)."""

    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


class CredentialRepository(Protocol):
    """Passwords, second factors, recovery codes, login attempts, web sessions and locks."""

    def credential(self, operator_id: str, for_update: bool = False) -> StoredCredential | None:
        """The operator's credential; ``for_update`` holds it until the transaction ends."""
        ...

    def set_pending_credential(
        self, operator_id: str, password_hash: str, sealed_totp_secret: bytes, at: datetime
    ) -> None:
        """A new password and a TOTP secret not yet confirmed (it cannot be used to log in)."""
        ...

    def confirm_totp(self, operator_id: str, step: int, at: datetime) -> None: ...

    def set_password(self, operator_id: str, password_hash: str, at: datetime) -> None: ...

    def use_totp_step(self, operator_id: str, step: int) -> bool:
        """Record ``step`` as used; False when it or a later step already was."""
        ...

    def set_activation_code(
        self, operator_id: str, code_hash: bytes, at: datetime, expires_at: datetime
    ) -> None: ...

    def activation_code(self, operator_id: str) -> tuple[bytes, datetime] | None:
        """The hash and expiry of the operator's outstanding activation code."""
        ...

    def delete_activation_code(self, operator_id: str) -> None: ...

    def replace_recovery_codes(self, operator_id: str, code_hashes: Sequence[bytes]) -> None: ...

    def use_recovery_code(self, operator_id: str, code_hash: bytes, at: datetime) -> bool:
        """Mark an unused code used; False when there is no such unused code."""
        ...

    def recovery_codes_left(self, operator_id: str) -> int: ...

    def add_attempt(self, operator_id: str | None, source: str, ok: bool, at: datetime) -> None:
        """Remember one login attempt (``operator_id`` None: not counted against an account)."""
        ...

    def consecutive_failures(self, operator_id: str) -> tuple[int, datetime | None]:
        """Failed attempts since the last success or unlock, and when the last one was."""
        ...

    def consecutive_failures_from(self, operator_id: str, source: str) -> int:
        """Of the failed attempts since the operator's last success or unlock, those from
        ``source``."""
        ...

    def source_failures(self, source: str, since: datetime) -> int: ...

    def forget_failures(self, subject_kind: str, subject_id: str) -> None:
        """Reset the failure count of an operator or a source (after an unlock)."""
        ...

    def lock(self, subject_kind: str, subject_id: str) -> AccessLock | None: ...

    def holder(self, operator_id: str) -> Holder | None:
        """The operator, their lock and their second factor, in one read (None: no operator)."""
        ...

    def locks(self) -> list[AccessLock]: ...

    def add_session(self, session: WebSession) -> None: ...

    def session(self, session_id: bytes) -> WebSession | None: ...

    def touch_session(self, session_id: bytes, at: datetime) -> None: ...

    def end_session(self, session_id: bytes, at: datetime) -> bool:
        """End a live session; False when it had already ended."""
        ...

    def end_sessions(self, operator_id: str, at: datetime, keep: bytes | None = None) -> int:
        """End the operator's live sessions but ``keep``; returns how many ended."""
        ...


# -- the seal register (uow.seals) ----------------------------------------------------------------


class SealRepository(Protocol):
    """Reads of the seal register: batches, seals, their steps, discrepancies and counts."""

    def batch(self, batch_id: str) -> SealBatch | None: ...

    def batches(self, offset: int, limit: int) -> tuple[list[SealBatch], int]: ...

    def clashes(self, serials: Sequence[str], span: tuple[str, str] | None) -> dict[str, str]:
        """Those of ``serials`` already in the register, with their batch ids."""
        ...

    def seal(self, serial: str) -> Seal | None: ...

    def seals_by_serial(self, serials: Sequence[str]) -> dict[str, Seal]: ...

    def seals(
        self,
        status: SealStatus | None,
        store: str | None,
        holder: str | None,
        batch_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Seal], int]: ...

    def in_stock(self, store: str) -> list[str]:
        """Serials the register has in stock at ``store``."""
        ...

    def events(self, serial: str) -> list[SealEvent]:
        """Every step of one seal, oldest first."""
        ...

    def figures(self, scope: SealScope) -> dict[str, int]:
        """The reconciliation figures of ``scope`` (see ``triage.domain.seals.tally``)."""
        ...

    def running_figures(self) -> dict[str, int]:
        """The facility's figures as kept step by step while seals move (a handful of rows,
        whatever the number of seals); ``figures`` counts the seals and their history."""
        ...

    def discrepancy(self, discrepancy_id: str) -> Discrepancy | None: ...

    def discrepancies(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[Discrepancy], int]: ...

    def stocktake(self, stocktake_id: str) -> Stocktake | None: ...

    def stocktakes(self, offset: int, limit: int) -> tuple[list[Stocktake], int]: ...

    def reconciliation(self, reconciliation_id: str) -> StoredReconciliation | None: ...

    def reconciliations(
        self, offset: int, limit: int
    ) -> tuple[list[StoredReconciliation], int]: ...

    def fitted_per_day(self, since: datetime, until: datetime) -> list[FittedCount]:
        """Seals fitted per day (UTC) and operator in ``[since, until)``."""
        ...

    def issued_before(self, before: datetime) -> list[Seal]:
        """Seals still issued (not fitted, returned, void or lost) since before ``before``."""
        ...


# -- anomaly thresholds, alerts and working hours (uow.security) ----------------------------------


class SecurityRepository(Protocol):
    """Thresholds, counted activity and alerts."""

    def thresholds(self) -> list[ThresholdSetting]:
        """Every threshold value a security manager has set."""
        ...

    def working_hours(self) -> WorkingHours | None:
        """The facility's working hours, or None when every hour is working time."""
        ...

    def activity_totals(
        self, tool_id: str | None, operator_id: str | None
    ) -> Mapping[ThresholdScope, Mapping[Metric, int]]:
        """Counted events of each metric, ever (so at least any window's count), of a tool
        and of an operator (either may be None), by scope; a metric with none, or a subject
        with none at all, may be missing."""
        ...

    def count_activity(
        self, metric: Metric, scope: ThresholdScope, subject_id: str, since: datetime
    ) -> int:
        """Counted events of ``metric`` by one tool or operator after ``since``."""
        ...

    def last_entry_at(
        self, subject_kind: str, subject_id: str, entry_types: Sequence[str]
    ) -> datetime | None:
        """When the latest entry of one of ``entry_types`` about a subject was made."""
        ...

    def arrived_as_expected(self, job_id: str) -> bool:
        """True when the job's device came in a consignment that expected it."""
        ...

    def alert(self, alert_id: str) -> Alert | None: ...

    def alerts(self, status: str | None, offset: int, limit: int) -> tuple[list[Alert], int]: ...

    def tools(self) -> list[Tool]:
        """Every enrolled tool with its status and the reason for it."""
        ...


# -- security assessments (uow.assessments) -------------------------------------------------------


class AssessmentRepository(Protocol):
    """The provider, commissioning mode, and assessments with findings, actions and steps."""

    def party(self) -> SecParty | None: ...

    def party_record(self) -> RecordedParty | None: ...

    def commissioning(self, facility_id: str) -> Commissioning | None: ...

    def summaries(self) -> list[AssessmentSummary]:
        """Every assessment's id, kind, result and dates (no findings), oldest first."""
        ...

    def steps(self, assessment_id: str) -> list[ApprovalStep]:
        """The additional steps of one assessment's approval."""
        ...

    def assessment(self, assessment_id: str) -> Assessment | None:
        """One assessment with its findings, actions, steps and attached evidence (the
        evidence without its ledger index, which the ledger knows)."""
        ...

    def finding(self, finding_id: str) -> Finding | None: ...

    def action(self, action_id: str) -> RemedialAction | None: ...

    def step(self, step_id: str) -> ApprovalStep | None: ...

    def open_severities(self) -> list[str]:
        """Severities of the findings still open."""
        ...

    def jobs_opened_since(self, since: datetime) -> int:
        """Triage jobs opened since ``since`` (the volume the schedule weighs)."""
        ...


# -- assurance: controls, evidence, figures (uow.assurance) ---------------------------------------


class AssuranceRepository(Protocol):
    """Reads of the catalogue in force, the provider's controls, applicability and evidence."""

    def adopted_catalogue(self) -> AdoptedCatalogue | None:
        """The catalogue adopted last (with its YAML text), if any."""
        ...

    def provider_controls(self) -> list[Control]:
        """The provider's own controls, by id."""
        ...

    def not_applicable(self) -> dict[str, str]:
        """Control id -> reason, for the controls marked not applicable."""
        ...

    def evidence(self, evidence_id: str) -> Evidence | None: ...

    def evidence_list(
        self, name: str | None, offset: int, limit: int
    ) -> tuple[list[Evidence], int]: ...

    def latest_evidence(self) -> list[Evidence]:
        """The latest evidence of each kind and name."""
        ...

    def policy_in_force(self) -> PolicyInForce | None:
        """The active tamper policy's id, version, hash and when it was activated."""
        ...

    def decision_counts(self) -> list[DecisionCount]:
        """Decisions by outcome, by policy or override, and policy hash."""
        ...

    def outcomes_per_day(self, since: datetime) -> list[DayOutcomes]:
        """Decisions per day and outcome since ``since``."""
        ...

    def resets_per_bench(self, since: datetime) -> list[BenchResets]:
        """Verified resets per bench since ``since``."""
        ...

    def job_counts(self) -> list[JobCount]:
        """Triage jobs by state and outcome."""
        ...


class FileStore(Protocol):
    """Evidence files by their SHA-256 (``adapters.evidence_store.EvidenceStore``)."""

    def put(self, content: bytes) -> tuple[str, int]: ...

    def put_stream(self, source: BinaryIO, limit: int = ...) -> tuple[str, int]: ...

    def read(self, sha256: str) -> bytes: ...

    def check(self, sha256: str) -> str: ...


class PurgeableFileStore(FileStore, Protocol):
    """The evidence store as a purge uses it (issue 19, retention): it may also delete."""

    def delete(self, sha256: str) -> bool:
        """Delete the file if it is there; True when it was."""
        ...


# -- documents: the renderer of certificates and labels -------------------------------------------


@dataclass(frozen=True)
class Document:
    """A rendered document and the file name it is saved under."""

    content: bytes
    filename: str


@dataclass(frozen=True)
class SealLabel:
    """The label of a bag of seals: one seal, by its serial."""

    serial: str  # e.g. "SL-000123"
    batch_id: str  # uuid string
    seal_class: str  # e.g. "ISO 17712 H" or "other: supplier grade A"
    supplier: str


@dataclass(frozen=True)
class DeviceLabel:
    """The label of a released device's bag."""

    device_id: str  # e.g. "00-11-22-33-44-55-66-77"
    device_type: str  # e.g. "ESME"
    job_id: str  # uuid string
    seal_serial: str | None  # None when no seal is fitted yet
    facility_name: str


class DocumentRenderer(Protocol):
    """Prints what the facility hands out on paper."""

    def certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        """A released device's triage certificate, from its receipt (verified first)."""
        ...

    def destruction_certificate(
        self, device_id: str, receipt: str, verifier_key: str, facility_name: str
    ) -> Document:
        """A destroyed device's certificate of destruction, from its receipt (verified first)."""
        ...

    def dispatch_note(self, signed_note: bytes, verifier_key: str) -> Document:
        """A dispatch note (issue 19 B) as a PDF with a QR code, from the signed JSON note
        (verified first)."""
        ...

    def outcome_report(self, signed_report: bytes, verifier_key: str) -> Document:
        """A consignment's outcome report (issue 19 E) as a PDF with a QR code of its digest,
        from the signed JSON report (verified first)."""
        ...

    def destruction_batch_certificate(self, signed: bytes, verifier_key: str) -> Document:
        """A batch certificate of destruction, from its signed document (verified first)."""
        ...

    def seal_labels(self, labels: Sequence[SealLabel], facility_name: str) -> Document:
        """Labels for seal bags, one a page."""
        ...

    def device_labels(self, labels: Sequence[DeviceLabel]) -> Document:
        """Labels for device bags, one a page."""
        ...


# -- exports: the replay check, the OSCAL and evidence-pack builders ------------------------------


# An OSCAL JSON document (catalog, assessment-results, plan-of-action-and-milestones): its shape
# is OSCAL's, checked with compliance-trestle's models by the adapter's tests, not by a type here.
OscalDocument = dict[str, Any]


class ReplayResult(Protocol):
    """What a replay of the ledger into fresh tables found (``adapters.replay.ReplayReport``)."""

    @property
    def entries(self) -> int: ...

    @property
    def rows(self) -> int: ...

    @property
    def differences(self) -> Sequence[object]: ...

    @property
    def notes(self) -> Sequence[str]:
        """What is said but is no failure (credentials set before digests were recorded)."""
        ...


class ReplayCheck(Protocol):
    """Replays the whole ledger into fresh tables and compares them with the live ones."""

    def __call__(self) -> ReplayResult: ...


@dataclass(frozen=True)
class EntryProof:
    """An evidence entry's inclusion proof against a signed checkpoint, with the entry's bytes:
    checkable with nothing but the verifier key."""

    proof: InclusionProof
    entry: bytes
    checkpoint: str


class OscalBuilder(Protocol):
    """OSCAL JSON documents (``adapters.oscal``); each is a JSON object as OSCAL defines it."""

    def catalog(
        self,
        catalogue: Catalogue,
        own: Sequence[Control],
        not_applicable: Mapping[str, str],
        at: datetime,
    ) -> OscalDocument: ...

    def assessment_results(
        self,
        assessment: Assessment,
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
        register: Sequence[Mapping[str, Any]] = (),
    ) -> OscalDocument:
        """``register``: the incident register's rows (``incident_reports.incident_json``), each
        an observation."""
        ...

    def plan_of_action(
        self,
        assessments: Sequence[Assessment],
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
    ) -> OscalDocument: ...


class PackBuilder(Protocol):
    """An assessment's report (PDF) and evidence pack (zip) (``adapters.evidence_pack``)."""

    def report(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        facility_name: str,
        catalogue_label: str,
        at: datetime,
    ) -> bytes: ...

    def pack(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        files: Sequence[tuple[AttachedEvidence, bytes]],
        proofs: Mapping[str, EntryProof],
        report: bytes,
        at: datetime,
    ) -> bytes: ...

    def filename(self, assessment: Assessment) -> str:
        """The pack's file name (the report's is the same ending .pdf)."""
        ...


# -- the unit of work, the ledger, facilities and the triage tables -------------------------------


class LedgerRecorder(Protocol):
    """The facility's log within the unit of work."""

    @property
    def log(self) -> Log: ...

    @property
    def storage(self) -> LogStorage: ...

    def create(self) -> None:
        """Create the facility's empty log."""
        ...

    def record(self, entries: Sequence[Entry]) -> int:
        """Append entries; returns the index of the first."""
        ...

    def indexes_for(self, subject_kind: str, subject_id: str) -> list[int]:
        """Indexes of every entry about one subject, oldest first."""
        ...

    def latest_about(
        self, subject_kind: str, subject_id: str, limit: int, before: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        """The latest ``limit`` entries about one subject (below ``before``, if given), newest
        first, as (index, stored bytes), None for an entry the log does not hold."""
        ...


@dataclass(frozen=True)
class OrderSettings:
    """The facility's settings a reset work order is issued under: the attempts a device is
    allowed, how long an order is valid, and the working hours (None: every hour)."""

    max_reset_attempts: int
    work_order_minutes: int
    working_hours: WorkingHours | None


class FacilityRepository(Protocol):
    """Facilities known to this database."""

    def add(self, facility: Facility) -> None: ...

    def get(self, facility_id: str) -> Facility | None: ...

    def list(self) -> list[Facility]: ...

    def settings(self) -> tuple[int, int]:
        """This facility's (max reset attempts, work order validity in minutes)."""
        ...

    def order_settings(self) -> OrderSettings:
        """What ``settings`` says, and the working hours, in one read."""
        ...

    def custody_settings(self) -> CustodySettings:
        """This facility's idle-device days and whether seals are issued at random."""
        ...


class OperatorRepository(Protocol):
    """Operators and the benches assigned to them (projections of the ledger)."""

    def get(self, operator_id: str) -> Operator | None: ...

    def all(self) -> list[Operator]:
        """Every operator, by id."""
        ...

    def benches(self, operator_id: str) -> frozenset[str]:
        """The benches assigned to the operator (none: they work at no bench)."""
        ...

    def bench_assignments(self) -> dict[str, list[str]]:
        """Every operator's assigned benches, sorted, by operator id (only those with any)."""
        ...


class TokenRepository(Protocol):
    """API tokens: what is kept beside the ledger (the secret's hash) and their revocation."""

    def add(self, token: StoredToken, secret: str) -> None:
        """Store a token by its secret's hash: the secret itself is never stored."""
        ...

    def by_secret(self, secret: str) -> StoredToken | None: ...

    def get(self, token_id: str) -> StoredToken | None: ...

    def all(self, operator_id: str | None = None) -> list[StoredToken]:
        """Every token (of one operator, if given), by operator and creation time."""
        ...

    def revoke(self, token_id: str, at: datetime) -> None: ...


class ToolRepository(Protocol):
    """Enrolled bench tools and the nonces of their signed requests."""

    def get(self, tool_id: str) -> Tool | None: ...

    def use_agent_nonce(self, tool_id: str, nonce: str) -> bool:
        """Remember a signed request's nonce; False when it was seen before (a replay)."""
        ...


class PolicyRepository(Protocol):
    """The tamper policies activated (projections of the ledger)."""

    def active_source(self) -> str | None:
        """The text of the policy in force, if any."""
        ...


class ConsignmentRepository(Protocol):
    """Consignments and the devices their manifests list."""

    def get(self, consignment_id: str) -> Consignment | None: ...

    def by_reference(self, asset_owner: str, reference: str) -> Consignment | None: ...

    def with_reference(self, reference: str) -> list[Consignment]:
        """Every consignment under ``reference`` (one an asset owner; oldest first)."""
        ...

    def page(
        self, offset: int, limit: int, owner: str | None = None
    ) -> tuple[list[Consignment], int]:
        """One page of consignments (of asset owner ``owner``, if given) by creation time, and
        how many there are."""
        ...

    def expected_in_open(self, device_id: str) -> tuple[str, Device, bool] | None:
        """(consignment id, device as the manifest has it, arrived) while it is still awaited."""
        ...

    def expected_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        """Which of ``device_ids`` an open consignment still awaits, and which consignment."""
        ...

    def missing_devices(self, consignment_id: str) -> list[str]: ...

    def arrived_devices(self, consignment_id: str) -> list[str]:
        """The devices of the consignment scanned in, by id."""
        ...


class DeviceRepository(Protocol):
    """Devices received."""

    def get(self, device_id: str) -> Device | None: ...

    def search(self, query: DeviceQuery, after: Position | None, limit: int) -> list[ListedDevice]:
        """Up to ``limit`` stays of devices matching ``query``, newest received first, starting
        just after ``after`` (a keyset: never a count of rows to skip)."""
        ...


class JobRepository(Protocol):
    """Triage jobs, their decisions and their reset results."""

    def get(self, job_id: str) -> TriageJob | None: ...

    def open_for_device(self, device_id: str) -> TriageJob | None: ...

    def open_for_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        """Device id -> open job id, for those of ``device_ids`` with an open job."""
        ...

    def for_device(self, device_id: str) -> list[TriageJob]: ...

    def page(
        self, state: JobState | None, offset: int, limit: int, owner: str | None = None
    ) -> tuple[list[TriageJob], int]:
        """One page of jobs (in ``state``, and of devices of asset owner ``owner``, if given)
        by opening time, and how many there are."""
        ...

    def count_by_state(self) -> dict[JobState, int]:
        """How many jobs are in each state (the states no job is in are left out)."""
        ...

    def decision_count(self, job_id: str) -> int: ...

    def latest_reasons(self, job_ids: Sequence[str]) -> dict[str, list[str]]:
        """Job id -> the reasons' texts of its latest decision (none for an override), for
        those of ``job_ids`` with a decision."""
        ...

    def reset_results(self, job_id: str) -> list[ResetResult]: ...


class WorkOrderRepository(Protocol):
    """Work orders issued to bench tools."""

    def get(self, work_order_id: str) -> StoredWorkOrder | None: ...

    def issued(self, tool_id: str, now: datetime) -> list[StoredWorkOrder]:
        """The tool's orders issued and not expired at ``now``, oldest first."""
        ...

    def live(self, job_id: str, now: datetime) -> StoredWorkOrder | None:
        """The job's factory reset order issued and not expired at ``now``, if any."""
        ...

    def outstanding(
        self, *, tool_id: str | None = None, operator_id: str | None = None
    ) -> list[StoredWorkOrder]:
        """The orders still issued (expired or not) to ``tool_id`` or given by
        ``operator_id`` (either, when both are named), oldest first."""
        ...

    def expired(self, before: datetime, limit: int) -> list[StoredWorkOrder]:
        """Factory reset orders still issued whose time ran out by ``before``, soonest expired
        first (an expired read order needs no closing: it is simply never handed out)."""
        ...


class SecurityLogRepository(Protocol):
    """Security logs recorded for triage jobs (projections of the ledger)."""

    def for_job(self, job_id: str) -> list[SecurityLogRecord]:
        """Every log recorded for the job, oldest first."""
        ...


class ExceptionRepository(Protocol):
    """Intake exceptions."""

    def get(self, exception_id: str) -> IntakeException | None: ...

    def page(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[IntakeException], int]:
        """One page of exceptions (with ``status``, if given) by when they were raised, and
        how many there are."""
        ...


class AssetOwnerRepository(Protocol):
    """Asset owners: the parties devices belong to (projections of the ledger)."""

    def get(self, owner_id: str) -> AssetOwner | None: ...

    def all(self) -> list[AssetOwner]:
        """Every registered asset owner, by id."""
        ...


class DispatchRepository(Protocol):
    """Issue 19 (B): dispatches, packed devices, handovers, acknowledgements (projections)."""

    def get(self, dispatch_id: str) -> Dispatch | None:
        """The dispatch with its packed devices, refused packings and discrepancies."""
        ...

    def page(
        self, owner: str | None, state: DispatchState | None, offset: int, limit: int
    ) -> tuple[list[DispatchSummary], int]:
        """One page of dispatches (of ``owner``, in ``state``, when given), newest first, and
        how many there are."""
        ...

    def holding(self, job_id: str) -> str | None:
        """The dispatch, not cancelled, the job's device is packed in, if any."""
        ...

    def note(self, dispatch_id: str) -> bytes | None:
        """The signed dispatch note of a closed dispatch, as handed out."""
        ...


class DisposalRepository(Protocol):
    """Destruction methods, and how devices left for good: destroyed (with evidence and
    witness) or returned to the manufacturer (projections of the ledger). ``owner`` limits what
    is read to one asset owner's devices (None: every device)."""

    def for_job(self, job_id: str) -> DisposalRecord | None:
        """How the job's device left, if it was destroyed or returned with its evidence."""
        ...

    def for_device(self, device_id: str) -> list[DisposalRecord]:
        """The device's disposals, latest first (a device can come back and go again)."""
        ...

    def destroyed(
        self,
        owner: str | None,
        *,
        device_ids: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[DisposalRecord]:
        """Destructions of ``device_ids`` (every device when None) done between ``since`` and
        ``until`` (inclusive, when given), by day then device."""
        ...

    def awaiting_witness(self, owner: str | None) -> list[DisposalRecord]:
        """Destructions no one has witnessed yet, oldest first."""
        ...

    def method(self, code: str) -> DestructionMethod | None: ...

    def methods(self) -> list[DestructionMethod]:
        """Every destruction method, active or not, by code."""
        ...


class CustodyRepository(Protocol):
    """Device locations, where each device is, device stocktakes and the seals drawn at
    random (projections of the ledger). ``owner`` limits what is read to one asset owner's
    devices (None: every device)."""

    def location(self, code: str) -> Location | None: ...

    def locations(self) -> list[Location]:
        """Every location, by code."""
        ...

    def where(self, device_id: str) -> DeviceCustody | None:
        """Where the device is (None: never in the facility's custody)."""
        ...

    def recorded_at(self, device_ids: Sequence[str]) -> dict[str, str | None]:
        """Where each of ``device_ids`` is recorded (None: left the facility); those never in
        custody are absent."""
        ...

    def devices_at(self, code: str) -> list[str]:
        """The devices recorded at location ``code``, sorted."""
        ...

    def counts(self, idle_before: datetime, owner: str | None) -> list[LocationCount]:
        """Devices per location (in the facility), and how many have not moved since
        ``idle_before``."""
        ...

    def longest_at(
        self,
        code: str | None,
        idle_before: datetime | None,
        owner: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[IdleDevice], int]:
        """Devices in the facility (at ``code`` if given; only those not moved since
        ``idle_before`` if given), longest there first, and how many in all."""
        ...

    def stocktake(self, stocktake_id: str) -> DeviceStocktake | None: ...

    def stocktakes(self, offset: int, limit: int) -> tuple[list[DeviceStocktake], int]:
        """Device stocktakes, newest first."""
        ...

    def drawn_seal(self, job_id: str) -> SealDraw | None:
        """The seal drawn at random for the job, if one was."""
        ...


class RetentionRepository(Protocol):
    """Issue 19 (E): retention rules, legal holds, purged evidence files (projections)."""

    def rules(self) -> list[RetentionRule]:
        """The rules set for a kind of evidence file (kinds never set keep their default)."""
        ...

    def holds(self, active_only: bool) -> list[LegalHold]:
        """Legal holds, oldest first (only those not released, when ``active_only``)."""
        ...

    def hold(self, hold_id: str) -> LegalHold | None: ...

    def files(self, sha256: str | None = None) -> list[EvidenceFile]:
        """Every record of an evidence file (of one digest, if given), with its job's
        consignment and closing time."""
        ...

    def purges(self, sha256: str | None = None, limit: int | None = None) -> list[Purged]:
        """Files purged (of one digest, if given), newest first (the first ``limit``)."""
        ...


class Clock(Protocol):
    """Where the use cases take the time from (``triage.adapters.clock``; tests move it)."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class DuisValidator(Protocol):
    """The DUIS schema the facility configured (issue 20): validates one message."""

    def validate(self, xml: bytes) -> None:
        """Nothing if ``xml`` is valid against the DUIS schema, else
        ``triage.duis.errors.DuisSchemaError`` naming the element at fault."""
        ...


class InventoryRepository(Protocol):
    """Issue 20 (A): Smart Metering Inventory readings (projections)."""

    def latest(self, device_id: str) -> InventoryReading | None:
        """The device's latest reading (the SMI gate reads it), or None."""
        ...

    def for_device(self, device_id: str) -> list[InventoryReading]:
        """The device's readings, oldest first."""
        ...

    def recent(self, limit: int) -> list[InventoryReading]:
        """The latest ``limit`` readings of any device, newest first."""
        ...

    def refused_statuses(self) -> frozenset[InventoryStatus] | None:
        """The SMI gate's refused statuses as last set, or None (never set: the default)."""
        ...


class DuisRequestRepository(Protocol):
    """Issue 20 (B): DUIS requests produced (projections)."""

    def get(self, request_id: str) -> ProducedRequest | None: ...

    def xml(self, request_id: str) -> bytes | None:
        """The request's file as written."""
        ...

    def page(self, owner: str | None, offset: int, limit: int) -> tuple[list[ProducedRequest], int]:
        """One page of the requests written (of asset owner ``owner``, if given), newest
        first, and how many there are."""
        ...

    def in_batch(self, batch_id: str) -> list[ProducedRequest]:
        """The requests handed out in a batch, by originator and counter."""
        ...

    def unbatched(self, owner: str, device_ids: Sequence[str] | None) -> list[ProducedRequest]:
        """The owner's requests written and not handed out in a batch yet (of those devices)."""
        ...

    def purposes(self, job_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(job id, purpose) of every request written for one of ``job_ids``."""
        ...

    def last_counter(self, originator: str) -> int:
        """The largest RequestID counter written for ``originator`` (0: none yet)."""
        ...

    def finished_jobs(
        self,
        owner: str,
        states: Sequence[str],
        device_ids: Sequence[str] | None,
        consignment_id: str | None,
    ) -> list[FinishedJob]:
        """The jobs of the owner's devices in one of ``states`` (of those devices, or of that
        consignment), oldest closed first."""
        ...

    def batch(self, batch_id: str) -> DuisBatch | None: ...

    def batches(
        self,
        owner: str | None,
        offset: int,
        limit: int,
        dispatch_id: str | None = None,
        consignment_id: str | None = None,
    ) -> tuple[list[DuisBatch], int]:
        """One page of batches (of that owner, dispatch, consignment), newest first."""
        ...

    def dcc_user(self, owner: str) -> DccUser | None: ...

    def dcc_users(self) -> list[DccUser]: ...

    def settings(self) -> DuisSettings:
        """The DCC's EUI-64 and the rules recorded (defaults when none is)."""
        ...


class HubReturnRepository(Protocol):
    """Issue 20 (C): communications hubs returned to the DCC (projections)."""

    def for_job(self, job_id: str) -> HubReturnRecord | None:
        """The hub's return that ended this job, if it ended so."""
        ...

    def returns(
        self, scope: str | None = None, device_id: str | None = None, limit: int = 200
    ) -> list[HubReturnRecord]:
        """Returns to the DCC, newest first (of one asset owner's devices, with ``scope``; of
        one device, with ``device_id``)."""
        ...

    def policy(self, facility_id: str) -> HubPolicy:
        """The facility's hub policy (the default, no reset of a hub, until one is set)."""
        ...


class IncidentRepository(Protocol):
    """Issue 20 (D): incidents, vulnerabilities and notifications (projections)."""

    def get(self, incident_id: str) -> Incident | None:
        """The incident with its notifications."""
        ...

    def open_for(self, source: str, about_kind: str, about_id: str) -> str | None:
        """The id of an incident from ``source`` about that subject not yet closed, if any."""
        ...

    def find(
        self,
        *,
        kind: IncidentKind | None = None,
        status: IncidentStatus | None = None,
        severity: Severity | None = None,
        source: str | None = None,
        overdue_at: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Incident], int]:
        """Incidents, newest first, with how many match; ``overdue_at``: only those with a
        notification missing after its deadline then (and not closed)."""
        ...

    def due_alerts(self, at: datetime) -> list[tuple[str, str, datetime]]:
        """(incident id, recipient, deadline) of each notification missing past its deadline
        at ``at``, of an incident not closed, for which no overdue alert was raised."""
        ...

    def rules_text(self) -> str | None:
        """The notification rules the facility recorded (YAML), or None: the default."""
        ...


# -- issue 21: cosignatures gathered from witnesses (uow.cosignatures, a WitnessClient) ---------


@dataclass(frozen=True)
class StoredCosignature:
    """A witness's cosignature on one of the facility's checkpoints, verified before it was
    stored: the cosigner's key (``cosigner_key`` is its vkey), its timestamp and the signature
    line exactly as the witness returned it."""

    size: int
    key_name: str
    key_hash: int
    cosigner_key: str
    timestamp: int
    line: str
    gathered_at: datetime


@dataclass(frozen=True)
class WitnessAttempt:
    """The facility's last attempt to have one witness cosign a checkpoint: when, for which
    size, how it ended (``outcome``: a short word such as cosigned, refused, rollback,
    unreachable; ``detail``: what the witness said), and the size the witness said it holds
    when it answered 409."""

    key_name: str
    key_hash: int
    at: datetime
    size: int
    outcome: str
    detail: str
    witness_size: int | None = None


class CosignatureRepository(Protocol):
    """Cosignatures on the facility's checkpoints and the last attempt per witness (not ledger
    entries: they attest to the ledger; see ``tables.ledger_cosignature``)."""

    def add(self, cosignature: StoredCosignature) -> bool:
        """Store a cosignature (once: the same witness on the same size again changes nothing);
        True when it was new."""
        ...

    def for_size(self, size: int) -> list[StoredCosignature]:
        """The cosignatures stored on the checkpoint of ``size``, oldest first."""
        ...

    def cosigned_sizes(self, at_least: int = 0) -> list[int]:
        """Checkpoint sizes (``>= at_least``) with at least one cosignature, largest first."""
        ...

    def latest_by(self, key_name: str, key_hash: int) -> StoredCosignature | None:
        """That witness's cosignature on the largest checkpoint it cosigned for the facility."""
        ...

    def record_attempt(self, attempt: WitnessAttempt) -> None:
        """Keep ``attempt`` as that witness's last attempt (replacing the one before)."""
        ...

    def attempts(self) -> list[WitnessAttempt]:
        """The last attempt of every witness ever asked."""
        ...

    def checkpoint_issued_at(self, sizes: Sequence[int]) -> dict[int, datetime]:
        """When the stored checkpoints of ``sizes`` were issued (those the table holds)."""
        ...


class WitnessUnreachable(Exception):
    """A witness did not answer: refused connection, timeout, a broken reply."""


class WitnessClient(Protocol):
    """C2SP tlog-witness add-checkpoint over HTTP (``triage.adapters.witness_client``)."""

    def add_checkpoint(self, url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
        """POST ``body`` to ``<url>/add-checkpoint``: (status, content type, body) of whatever
        the witness answered; WitnessUnreachable when it did not answer within ``timeout``."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything in it commits with its ledger entries, or nothing does."""

    @property
    def facility_id(self) -> str: ...

    @property
    def ledger(self) -> LedgerRecorder: ...

    @property
    def facilities(self) -> FacilityRepository: ...

    @property
    def operators(self) -> OperatorRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def tools(self) -> ToolRepository: ...

    @property
    def policies(self) -> PolicyRepository: ...

    @property
    def consignments(self) -> ConsignmentRepository: ...

    @property
    def devices(self) -> DeviceRepository: ...

    @property
    def jobs(self) -> JobRepository: ...

    @property
    def work_orders(self) -> WorkOrderRepository: ...

    @property
    def security_logs(self) -> SecurityLogRepository: ...

    @property
    def exceptions(self) -> ExceptionRepository: ...

    @property
    def credentials(self) -> CredentialRepository: ...

    @property
    def security(self) -> SecurityRepository: ...

    @property
    def seals(self) -> SealRepository: ...

    @property
    def assurance(self) -> AssuranceRepository: ...

    @property
    def assessments(self) -> AssessmentRepository: ...

    @property
    def asset_owners(self) -> AssetOwnerRepository: ...

    @property
    def dispatches(self) -> DispatchRepository: ...

    @property
    def disposals(self) -> DisposalRepository: ...

    @property
    def custody(self) -> CustodyRepository: ...

    @property
    def retention(self) -> RetentionRepository: ...

    @property
    def inventory(self) -> InventoryRepository: ...

    @property
    def duis_requests(self) -> DuisRequestRepository: ...

    @property
    def hub_returns(self) -> HubReturnRepository: ...

    @property
    def incidents(self) -> IncidentRepository: ...

    @property
    def cosignatures(self) -> CosignatureRepository: ...

    @property
    def packaged(self) -> PackagedData:
        """The data files that ship with the system (the factory's)."""
        ...

    @property
    def clock(self) -> Clock:
        """The time the use cases record (the factory's)."""
        ...

    @property
    def settings(self) -> Settings:
        """The installation's settings: facility data, intervals and limits (the factory's)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make the changes durable; without it, leaving the block rolls them back."""
        ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work: ``write=True`` for one that may change state."""

    def __call__(self, *, write: bool) -> UnitOfWork: ...

    def first_write(self, step: Callable[[UnitOfWork], None]) -> UnitOfWorkFactory:
        """This factory, but the first writing unit of work it opens runs ``step`` first
        (holding the writer lock) and commits what ``step`` wrote even when the rest of its
        transaction is rolled back: a signed request's nonce is claimed in the transaction
        that acts on the request, and stays claimed when the request is refused."""
        ...

    @property
    def passwords(self) -> PasswordHasher:
        """Hashes and checks passwords."""
        ...

    @property
    def totp(self) -> TotpCodes:
        """Computes authenticators' codes."""
        ...

    @property
    def packaged(self) -> PackagedData:
        """The data files that ship with the system."""
        ...

    @property
    def clock(self) -> Clock:
        """The time every unit of work it opens records."""
        ...

    @property
    def settings(self) -> Settings:
        """The installation's settings: intervals and limits the use cases apply."""
        ...

    @property
    def throttles(self) -> Throttles:
        """The in-memory rate limits of this application (gone with the factory)."""
        ...

    def tile_cache(self) -> TileCache:
        """What this process remembers of the log's tiles (never changes once seen)."""
        ...

    def log_opener(self) -> StorageOpener:
        """Lets worker processes read the facility's log (for parallel verification)."""
        ...

    def checkpoint_keeper(self) -> CheckpointKeeper | None:
        """Where the latest signed checkpoint is kept outside the database (None: nowhere)."""
        ...

    def witness_client(self) -> WitnessClient:
        """How the facility reaches witnesses to have its checkpoints cosigned."""
        ...


class CheckpointKeeper(Protocol):
    """The facility's latest signed checkpoint and the leaf hashes it covers, kept outside the
    database (``triage.adapters.checkpoint_file``)."""

    @property
    def path(self) -> Path: ...

    def tracked(self) -> bool:
        """True when this installation keeps one (a missing file is then a failure)."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Serialise the processes that issue checkpoints."""
        ...

    def read(self) -> str | None:
        """The kept signed note, if any."""
        ...

    def read_hashes(self, count: int) -> bytes: ...

    def hashes_count(self) -> int: ...

    def keep(self, signed_note: str, size: int, first: int, hashes: Sequence[bytes]) -> bool:
        """Keep a checkpoint the database just stored, with leaf hashes from ``first``."""
        ...
