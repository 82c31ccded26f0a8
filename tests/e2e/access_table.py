"""What each API route and web page should need, written down by hand from the design ("People
and access" in DESIGN.md) and the role matrix (``triage.domain.roles.MATRIX``), not read from
the routes.

The access test compares every route of the application with this table: a route declaring a
permission other than the one written here, refusing (or letting in) the wrong roles, or missing
from here altogether fails there. A new route is added here on purpose, with what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.roles import Permission as P

Route = tuple[str, str]  # method and path template, as the OpenAPI document writes them

API = "/api/v1"

# Anyone, signed in or not: liveness, the API's own description, and the steps of signing in.
PUBLIC: frozenset[Route] = frozenset(
    {
        ("GET", f"{API}/health"),
        ("GET", f"{API}/openapi.json"),
        ("GET", f"{API}/docs"),
        ("POST", f"{API}/auth/activate"),
        ("POST", f"{API}/auth/mfa/confirm"),
        ("POST", f"{API}/auth/login"),
    }
)

# Any signed-in operator, about their own account only.
SIGNED_IN: frozenset[Route] = frozenset(
    {
        ("POST", f"{API}/auth/logout"),
        ("POST", f"{API}/auth/password"),
    }
)

# An enrolled Triage Tool's signed request; never an operator's token.
TOOL: frozenset[Route] = frozenset(
    {
        ("GET", f"{API}/agent/work-orders"),
        ("POST", f"{API}/agent/results"),
        ("POST", f"{API}/agent/refusals"),
        ("POST", f"{API}/agent/security-logs"),
    }
)

# One permission, checked before anything else (the request's body is not even read).
NEEDS: dict[Route, P] = {
    # The ledger: everyone reads it; exporting all of it is for who assures the facility; only an
    # administrator acknowledges a failed integrity check (writes are held until then).
    ("GET", f"{API}/ledger"): P.LEDGER_READ,
    ("GET", f"{API}/ledger/checkpoints"): P.LEDGER_READ,
    ("GET", f"{API}/ledger/proofs/inclusion"): P.LEDGER_READ,
    ("GET", f"{API}/ledger/proofs/consistency"): P.LEDGER_READ,
    ("GET", f"{API}/ledger/integrity"): P.LEDGER_READ,
    ("GET", f"{API}/ledger/export"): P.ASSURANCE_READ,
    ("POST", f"{API}/ledger/integrity/acknowledge"): P.FACILITY_MANAGE,
    # The ledger's tile read API (C2SP tlog-tiles, issue 21): for who assures the facility, as
    # the export is (anyone at all when the facility sets TRIAGE_TLOG_PUBLIC; tested in
    # tests/e2e/test_tlog_api.py).
    ("GET", f"{API}/ledger/tlog/checkpoint"): P.ASSURANCE_READ,
    ("GET", f"{API}/ledger/tlog/tile/entries/{{index:path}}"): P.ASSURANCE_READ,
    ("GET", f"{API}/ledger/tlog/tile/entries-u32/{{index:path}}"): P.ASSURANCE_READ,
    ("GET", f"{API}/ledger/tlog/tile/{{level}}/{{index:path}}"): P.ASSURANCE_READ,
    # The witnesses that cosign the checkpoints (issue 21): everyone who reads the ledger reads
    # the policy and how the witnesses answered; only an administrator sets the policy, and
    # whoever issues checkpoints asks the witnesses for their cosignatures.
    ("GET", f"{API}/ledger/witness-policy"): P.LEDGER_READ,
    ("PUT", f"{API}/ledger/witness-policy"): P.FACILITY_MANAGE,
    ("GET", f"{API}/ledger/witnesses"): P.LEDGER_READ,
    ("POST", f"{API}/ledger/witnesses/gather"): P.LEDGER_CHECKPOINT,
    # Asset owners as parties: an administrator registers and changes them.
    ("POST", f"{API}/asset-owners"): P.ASSET_OWNER_MANAGE,
    ("PATCH", f"{API}/asset-owners/{{owner_id}}"): P.ASSET_OWNER_MANAGE,
    # Dispatches: stores and supervisors pack, close and hand over, and record an
    # acknowledgement received by mail; the asset owner's person acknowledges (issue 19 B).
    # Communications hubs back to the DCC (issue 20): a supervisor returns one; an
    # administrator keeps the hub policy; the facility's readers read it.
    ("POST", f"{API}/hubs/{{device_id}}/return"): P.DEVICE_DISPOSE,
    ("GET", f"{API}/hubs/policy"): P.TRIAGE_READ,
    ("PUT", f"{API}/hubs/policy"): P.POLICY_MANAGE,
    # DUIS requests out (issue 20): stores and supervisors produce an owner's batch.
    ("POST", f"{API}/duis/batches"): P.DUIS_PRODUCE,
    # Read Inventory responses in (issue 20): stores and supervisors import one; the facility's
    # readers read the refused statuses; an administrator sets them.
    ("POST", f"{API}/inventory/responses"): P.INVENTORY_IMPORT,
    ("GET", f"{API}/inventory/smi-policy"): P.TRIAGE_READ,
    ("PUT", f"{API}/inventory/smi-policy"): P.POLICY_MANAGE,
    # The incident register (issue 20): its readers read it and the rules, anyone who may
    # report raises one, the security manager notifies, contains, closes and keeps the rules.
    ("GET", f"{API}/incidents"): P.INCIDENT_READ,
    ("POST", f"{API}/incidents"): P.INCIDENT_REPORT,
    ("POST", f"{API}/incidents/vulnerabilities"): P.INCIDENT_REPORT,
    ("GET", f"{API}/incidents/rules"): P.INCIDENT_READ,
    ("PUT", f"{API}/incidents/rules"): P.INCIDENT_MANAGE,
    ("POST", f"{API}/incidents/sweep"): P.INCIDENT_MANAGE,
    ("GET", f"{API}/incidents/{{incident_id}}"): P.INCIDENT_READ,
    ("GET", f"{API}/incident-register"): P.INCIDENT_READ,
    ("GET", f"{API}/incident-register.csv"): P.INCIDENT_READ,
    ("GET", f"{API}/incident-register.pdf"): P.INCIDENT_READ,
    ("POST", f"{API}/incidents/{{incident_id}}/notifications"): P.INCIDENT_MANAGE,
    ("POST", f"{API}/incidents/{{incident_id}}/severity"): P.INCIDENT_MANAGE,
    ("POST", f"{API}/incidents/{{incident_id}}/containment"): P.INCIDENT_MANAGE,
    ("POST", f"{API}/incidents/{{incident_id}}/closure"): P.INCIDENT_MANAGE,
    ("POST", f"{API}/dispatches"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/pack"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/unpack"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/cancel"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/close"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/hand-over"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/acknowledgement/received"): P.DISPATCH_MANAGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/acknowledgement"): P.DISPATCH_ACKNOWLEDGE,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/acknowledgement/signed"): (P.DISPATCH_ACKNOWLEDGE),
    # Device custody: an administrator defines locations and the idle days, the bench and
    # stores move devices, stores and supervisors count them, stores set random seal issue.
    ("GET", f"{API}/locations"): P.TRIAGE_READ,
    ("POST", f"{API}/locations"): P.FACILITY_MANAGE,
    ("PATCH", f"{API}/locations/{{code}}"): P.FACILITY_MANAGE,
    ("POST", f"{API}/devices/{{device_id}}/move"): P.DEVICE_MOVE,
    ("POST", f"{API}/device-stocktakes"): P.DEVICE_STOCKTAKE,
    ("GET", f"{API}/device-stocktakes"): P.TRIAGE_READ,
    ("GET", f"{API}/device-stocktakes/{{stocktake_id}}"): P.TRIAGE_READ,
    ("PUT", f"{API}/custody/settings/idle-days"): P.FACILITY_MANAGE,
    ("PUT", f"{API}/custody/settings/random-seal-issue"): P.SEAL_STOCK,
    ("POST", f"{API}/jobs/{{job_id}}/seal-draw"): P.DEVICE_SEAL,
    # Destruction and return evidence: the facility's readers see the methods, an administrator
    # keeps them; a supervisor destroys (with evidence) or returns; a second person witnesses.
    ("GET", f"{API}/destruction-methods"): P.TRIAGE_READ,
    ("PUT", f"{API}/destruction-methods/{{code}}"): P.FACILITY_MANAGE,
    ("POST", f"{API}/disposals/evidence"): P.DEVICE_DISPOSE,
    ("POST", f"{API}/disposals/destructions"): P.DEVICE_DISPOSE,
    ("POST", f"{API}/disposals/returns"): P.DEVICE_DISPOSE,
    ("POST", f"{API}/disposals/jobs/{{job_id}}/witness"): P.DISPOSAL_WITNESS,
    # Retention of evidence files: the facility's readers see the rules, holds and purges; a
    # security manager or administrator changes a rule, holds, releases and purges.
    ("GET", f"{API}/retention/rules"): P.TRIAGE_READ,
    ("PUT", f"{API}/retention/rules/{{kind}}"): P.RETENTION_MANAGE,
    ("GET", f"{API}/retention/holds"): P.TRIAGE_READ,
    ("POST", f"{API}/retention/holds"): P.RETENTION_MANAGE,
    ("POST", f"{API}/retention/holds/{{hold_id}}/release"): P.RETENTION_MANAGE,
    ("GET", f"{API}/retention/purge"): P.TRIAGE_READ,
    ("POST", f"{API}/retention/purge"): P.RETENTION_MANAGE,
    ("GET", f"{API}/retention/purges"): P.TRIAGE_READ,
    # Intake.
    ("POST", f"{API}/consignments"): P.CONSIGNMENT_IMPORT,
    ("POST", f"{API}/consignments/{{consignment_id}}/close"): P.CONSIGNMENT_CLOSE,
    ("GET", f"{API}/exceptions"): P.TRIAGE_READ,
    ("POST", f"{API}/exceptions/{{exception_id}}/resolve"): P.EXCEPTION_RESOLVE,
    # Devices and triage jobs: the bench's and the supervisor's work.
    ("POST", f"{API}/devices/scan"): P.DEVICE_SCAN,
    ("GET", f"{API}/jobs/{{job_id}}/label"): P.TRIAGE_READ,
    ("POST", f"{API}/jobs/{{job_id}}/inspection"): P.DEVICE_INSPECT,
    ("POST", f"{API}/jobs/{{job_id}}/security-log/read-orders"): P.DEVICE_INSPECT,
    ("POST", f"{API}/jobs/{{job_id}}/security-log"): P.SECURITY_LOG_UPLOAD,
    ("GET", f"{API}/jobs/{{job_id}}/security-log"): P.TRIAGE_READ,
    ("GET", f"{API}/jobs/{{job_id}}/security-log/{{sha256}}/raw"): P.HISTORY_READ,
    ("POST", f"{API}/jobs/{{job_id}}/override"): P.DECISION_OVERRIDE,
    ("POST", f"{API}/jobs/{{job_id}}/work-orders"): P.RESET_REQUEST,
    ("POST", f"{API}/jobs/{{job_id}}/seal"): P.DEVICE_SEAL,
    ("POST", f"{API}/jobs/{{job_id}}/release"): P.DEVICE_RELEASE,
    ("POST", f"{API}/jobs/{{job_id}}/quarantine"): P.DEVICE_QUARANTINE,
    ("POST", f"{API}/jobs/{{job_id}}/disposal"): P.DEVICE_DISPOSE,
    # People: an administrator issues activations and assigns benches, never tokens for others.
    ("POST", f"{API}/operators/{{operator_id}}/activation"): P.OPERATOR_MANAGE,
    ("PUT", f"{API}/operators/{{operator_id}}/benches"): P.OPERATOR_MANAGE,
    ("POST", f"{API}/operators"): P.OPERATOR_MANAGE,
    ("PUT", f"{API}/operators/{{operator_id}}/roles"): P.OPERATOR_MANAGE,
    ("POST", f"{API}/operators/{{operator_id}}/lock"): P.OPERATOR_MANAGE,
    ("POST", f"{API}/locks/unlock"): P.ACCOUNT_UNLOCK,
    # Security: only a security manager sets thresholds, watches alerts and reinstates what an
    # anomaly suspended; tools are suspended and retired by who manages them.
    ("GET", f"{API}/thresholds"): P.ACCESS_REVIEW,
    ("PUT", f"{API}/thresholds"): P.THRESHOLD_MANAGE,
    ("PUT", f"{API}/working-hours"): P.THRESHOLD_MANAGE,
    # The facility's triage settings: everyone works under them; an administrator changes them.
    ("GET", f"{API}/facility/settings"): P.TRIAGE_READ,
    ("PUT", f"{API}/facility/settings"): P.FACILITY_MANAGE,
    ("GET", f"{API}/alerts"): P.ALERT_READ,
    ("POST", f"{API}/alerts/{{alert_id}}/resolve"): P.ALERT_READ,
    ("POST", f"{API}/operators/{{operator_id}}/reinstate"): P.SUSPENSION_REINSTATE,
    ("POST", f"{API}/tools/{{tool_id}}/suspend"): P.TOOL_MANAGE,
    ("POST", f"{API}/tools/{{tool_id}}/reinstate"): P.SUSPENSION_REINSTATE,
    ("POST", f"{API}/tools/{{tool_id}}/retire"): P.TOOL_MANAGE,
    ("GET", f"{API}/access-review"): P.ACCESS_REVIEW,
    # Seals: stores keep them, the bench reports them, a security manager closes a discrepancy.
    ("GET", f"{API}/seals"): P.SEAL_READ,
    ("GET", f"{API}/seals/{{serial}}"): P.SEAL_READ,
    ("GET", f"{API}/seals/labels"): P.SEAL_READ,
    ("POST", f"{API}/seals/batches"): P.SEAL_STOCK,
    ("GET", f"{API}/seals/batches"): P.SEAL_READ,
    ("GET", f"{API}/seals/batches/{{batch_id}}"): P.SEAL_READ,
    ("GET", f"{API}/seals/batches/{{batch_id}}/labels"): P.SEAL_READ,
    ("POST", f"{API}/seals/issue"): P.SEAL_STOCK,
    ("POST", f"{API}/seals/return"): P.SEAL_STOCK,
    ("POST", f"{API}/seals/{{serial}}/void"): P.SEAL_REPORT,
    ("POST", f"{API}/seals/{{serial}}/lost"): P.SEAL_REPORT,
    ("POST", f"{API}/seals/{{serial}}/broken"): P.SEAL_REPORT,
    ("GET", f"{API}/seals/reports/fitted"): P.SEAL_READ,
    ("GET", f"{API}/seals/reports/unused"): P.SEAL_READ,
    ("GET", f"{API}/seals/discrepancies"): P.SEAL_READ,
    ("POST", f"{API}/seals/discrepancies/{{discrepancy_id}}/resolve"): (P.SEAL_DISCREPANCY_RESOLVE),
    ("POST", f"{API}/seals/stocktakes"): P.SEAL_STOCK,
    ("GET", f"{API}/seals/stocktakes"): P.SEAL_READ,
    ("GET", f"{API}/seals/reconciliation"): P.SEAL_READ,
    ("POST", f"{API}/seals/reconciliations"): P.SEAL_RECONCILE,
    ("GET", f"{API}/seals/reconciliations"): P.SEAL_READ,
    ("GET", f"{API}/seals/reconciliations/{{reconciliation_id}}"): P.SEAL_READ,
    # Assurance: the administrator records the party and commissioning mode; the catalogue,
    # evidence and assessments are managed by the security manager or the administrator and
    # read by them and the auditor.
    ("GET", f"{API}/assurance/status"): P.ASSURANCE_READ,
    ("PUT", f"{API}/assurance/party"): P.FACILITY_MANAGE,
    ("POST", f"{API}/assurance/commissioning"): P.FACILITY_MANAGE,
    ("POST", f"{API}/assurance/commissioning/end"): P.FACILITY_MANAGE,
    ("GET", f"{API}/assurance/controls"): P.ASSURANCE_READ,
    ("POST", f"{API}/assurance/controls"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assurance/controls/{{control_id}}/applicability"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assurance/catalogue"): P.ASSURANCE_MANAGE,
    ("GET", f"{API}/assurance/readiness"): P.ASSURANCE_READ,
    ("GET", f"{API}/assurance/schedule"): P.ASSURANCE_READ,
    ("GET", f"{API}/assurance/evidence"): P.ASSURANCE_READ,
    ("POST", f"{API}/assurance/evidence"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assurance/evidence/generate"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assurance/verify-now"): P.ASSURANCE_READ,
    ("GET", f"{API}/assurance/evidence/{{evidence_id}}/file"): P.ASSURANCE_READ,
    ("GET", f"{API}/assurance/evidence-check"): P.ASSURANCE_READ,
    ("GET", f"{API}/assurance/oscal/catalog"): P.ASSURANCE_READ,
    ("GET", f"{API}/assurance/oscal/poam"): P.ASSURANCE_READ,
    ("GET", f"{API}/assessments"): P.ASSURANCE_READ,
    ("POST", f"{API}/assessments"): P.ASSURANCE_MANAGE,
    ("GET", f"{API}/assessments/{{assessment_id}}"): P.ASSURANCE_READ,
    ("POST", f"{API}/assessments/{{assessment_id}}/fieldwork"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assessments/{{assessment_id}}/evidence"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assessments/{{assessment_id}}/findings"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/assessments/{{assessment_id}}/outcome"): P.ASSURANCE_MANAGE,
    ("GET", f"{API}/assessments/{{assessment_id}}/oscal"): P.ASSURANCE_READ,
    ("GET", f"{API}/assessments/{{assessment_id}}/pack"): P.ASSURANCE_READ,
    ("GET", f"{API}/assessments/{{assessment_id}}/report"): P.ASSURANCE_READ,
    ("POST", f"{API}/findings/{{finding_id}}/response"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/findings/{{finding_id}}/actions"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/findings/{{finding_id}}/close"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/actions/{{action_id}}/done"): P.ASSURANCE_MANAGE,
    ("POST", f"{API}/steps/{{step_id}}/done"): P.ASSURANCE_MANAGE,
}


@dataclass(frozen=True)
class Whose:
    """A route whose service decides from whose thing is asked about: one's own (when ``own``)
    for any signed-in operator, anyone else's only with one of ``others`` (none: nobody)."""

    own: bool
    others: frozenset[P]


# Reads of devices, their jobs and documents, consignments and asset owners: the facility's
# people with the permission written here see every asset owner's; a person of an asset owner
# (owner.read) only its own, filtered in the service (another owner's is 404:
# tests/e2e/test_chain_of_custody.py tries every read).
OWNER_SCOPED: dict[Route, P] = {
    ("GET", f"{API}/consignments"): P.TRIAGE_READ,
    ("GET", f"{API}/consignments/{{consignment_id}}"): P.TRIAGE_READ,
    ("GET", f"{API}/devices"): P.TRIAGE_READ,
    ("GET", f"{API}/devices.csv"): P.TRIAGE_READ,
    ("GET", f"{API}/devices/{{device_id}}/history"): P.HISTORY_READ,
    ("GET", f"{API}/devices/{{device_id}}/receipt"): P.RECEIPT_ISSUE,
    ("GET", f"{API}/devices/{{device_id}}/certificate"): P.RECEIPT_ISSUE,
    ("GET", f"{API}/devices/{{device_id}}/certificate-of-destruction"): P.RECEIPT_ISSUE,
    ("GET", f"{API}/disposals/awaiting-witness"): P.TRIAGE_READ,
    ("GET", f"{API}/hubs/returns"): P.TRIAGE_READ,
    ("GET", f"{API}/disposals/jobs/{{job_id}}"): P.TRIAGE_READ,
    ("GET", f"{API}/disposals/jobs/{{job_id}}/evidence/{{sha256}}"): P.TRIAGE_READ,
    ("GET", f"{API}/disposals/certificates/{{device_id}}"): P.RECEIPT_ISSUE,
    ("POST", f"{API}/disposals/batch-certificate.json"): P.RECEIPT_ISSUE,
    ("POST", f"{API}/disposals/batch-certificate.pdf"): P.RECEIPT_ISSUE,
    ("GET", f"{API}/jobs"): P.TRIAGE_READ,
    ("GET", f"{API}/jobs/{{job_id}}"): P.TRIAGE_READ,
    ("GET", f"{API}/asset-owners"): P.TRIAGE_READ,
    ("GET", f"{API}/asset-owners/{{owner_id}}"): P.TRIAGE_READ,
    ("GET", f"{API}/consignments/{{consignment_id}}/outcome"): P.TRIAGE_READ,
    ("GET", f"{API}/consignments/{{consignment_id}}/outcome.csv"): P.TRIAGE_READ,
    ("GET", f"{API}/consignments/{{consignment_id}}/outcome.pdf"): P.TRIAGE_READ,
    ("GET", f"{API}/custody"): P.TRIAGE_READ,
    ("GET", f"{API}/custody/idle"): P.TRIAGE_READ,
    ("GET", f"{API}/devices/{{device_id}}/location"): P.TRIAGE_READ,
    ("GET", f"{API}/dispatches"): P.TRIAGE_READ,
    ("GET", f"{API}/dispatches/{{dispatch_id}}"): P.TRIAGE_READ,
    ("GET", f"{API}/dispatches/{{dispatch_id}}/note.json"): P.TRIAGE_READ,
    ("GET", f"{API}/dispatches/{{dispatch_id}}/note.pdf"): P.TRIAGE_READ,
    ("GET", f"{API}/duis/batches"): P.TRIAGE_READ,
    ("GET", f"{API}/duis/batches/{{batch_id}}"): P.TRIAGE_READ,
    ("GET", f"{API}/duis/batches/{{batch_id}}/zip"): P.TRIAGE_READ,
    ("GET", f"{API}/duis/requests"): P.TRIAGE_READ,
    ("GET", f"{API}/duis/requests/{{request_id}}/xml"): P.TRIAGE_READ,
    ("GET", f"{API}/devices/{{device_id}}/inventory"): P.TRIAGE_READ,
}

# Tokens, locks and benches: sensitive reads and changes whose answer depends on the subject.
WHOSE: dict[Route, Whose] = {
    ("GET", f"{API}/locks"): Whose(False, frozenset({P.ACCESS_REVIEW, P.ACCOUNT_UNLOCK})),
    ("GET", f"{API}/operators"): Whose(False, frozenset({P.OPERATOR_MANAGE, P.ACCESS_REVIEW})),
    ("GET", f"{API}/tokens"): Whose(True, frozenset({P.OPERATOR_MANAGE, P.ACCESS_REVIEW})),
    # Nobody is issued a token by someone else, an administrator included.
    ("POST", f"{API}/tokens"): Whose(True, frozenset()),
    # Revoked at once by its operator, an administrator or a security manager.
    ("POST", f"{API}/tokens/{{token_id}}/revoke"): Whose(
        True, frozenset({P.OPERATOR_MANAGE, P.ACCOUNT_UNLOCK})
    ),
    ("GET", f"{API}/operators/{{operator_id}}/benches"): Whose(
        True, frozenset({P.OPERATOR_MANAGE, P.ACCESS_REVIEW})
    ),
}


def declared(route: Route) -> str:
    """What the route should publish under ``x-access`` in the OpenAPI document."""
    if route in NEEDS:
        return NEEDS[route].value
    if route in WHOSE or route in OWNER_SCOPED:
        return "service"
    if route in SIGNED_IN:
        return "self"
    if route in TOOL:
        return "tool"
    if route in PUBLIC:
        return "public"
    raise KeyError(f"{route[0]} {route[1]} is not in tests/e2e/access_table.py: say what it needs")


# -- the web pages: a browser's session; a page's permission is checked before its form is read

# Anyone: the sign-in page, signing in, and signing out (which ends only the caller's session).
WEB_PUBLIC: frozenset[Route] = frozenset(
    {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
)

# Every other page and form, and the permission it needs (None: any signed-in person).
WEB: dict[Route, P | None] = {
    ("GET", "/"): None,
    ("GET", "/bench"): P.DEVICE_SCAN,
    ("GET", "/devices"): None,  # owner-scoped in the service, as the API's list
    ("POST", "/bench/scan"): P.DEVICE_SCAN,
    ("GET", "/bench/jobs/{job_id}"): P.DEVICE_SCAN,
    ("POST", "/bench/jobs/{job_id}/inspect"): P.DEVICE_INSPECT,
    ("POST", "/bench/jobs/{job_id}/photo"): P.DEVICE_INSPECT,
    ("GET", "/bench/jobs/{job_id}/photos/{sha256}"): P.HISTORY_READ,
    ("GET", "/bench/devices/{device_id}/certificate"): None,  # owner-scoped in the service
    ("GET", "/bench/devices/{device_id}/receipt"): None,  # owner-scoped in the service
    ("GET", "/devices/{device_id}"): None,  # owner-scoped in the service
    ("GET", "/devices/{device_id}/certificate-of-destruction"): None,  # owner-scoped
    ("GET", "/devices/{device_id}/label"): P.TRIAGE_READ,
    ("POST", "/devices/{device_id}/quarantine"): P.DEVICE_QUARANTINE,
    ("POST", "/devices/{device_id}/dispose"): P.DEVICE_DISPOSE,
    ("POST", "/devices/{device_id}/return-to-dcc"): P.DEVICE_DISPOSE,
    ("GET", "/hubs"): None,  # owner-scoped in the service
    # The incident register (issue 20).
    ("GET", "/incidents"): P.INCIDENT_READ,
    ("POST", "/incidents"): P.INCIDENT_REPORT,
    ("GET", "/incidents/report"): P.INCIDENT_REPORT,
    ("POST", "/incidents/report"): P.INCIDENT_REPORT,
    ("GET", "/incidents/{incident_id}"): P.INCIDENT_READ,
    ("POST", "/incidents/{incident_id}/notify"): P.INCIDENT_MANAGE,
    ("POST", "/incidents/{incident_id}/severity"): P.INCIDENT_MANAGE,
    ("POST", "/incidents/{incident_id}/contain"): P.INCIDENT_MANAGE,
    ("POST", "/incidents/{incident_id}/close"): P.INCIDENT_MANAGE,
    ("POST", "/hubs/policy"): P.POLICY_MANAGE,
    # Destruction and return evidence.
    ("GET", "/disposals"): None,  # owner-scoped in the service
    ("POST", "/disposals/jobs/{job_id}/witness"): P.DISPOSAL_WITNESS,
    ("POST", "/disposals/batch-certificate"): P.RECEIPT_ISSUE,
    ("GET", "/disposals/jobs/{job_id}/destroy"): P.DEVICE_DISPOSE,
    ("POST", "/disposals/jobs/{job_id}/destroy"): P.DEVICE_DISPOSE,
    ("GET", "/disposals/jobs/{job_id}/evidence/{sha256}"): None,  # owner-scoped in the service
    ("GET", "/disposals/methods"): P.TRIAGE_READ,
    ("POST", "/disposals/methods"): P.FACILITY_MANAGE,
    ("POST", "/bench/jobs/{job_id}/reset"): P.RESET_REQUEST,
    ("POST", "/bench/jobs/{job_id}/seal"): P.DEVICE_SEAL,
    ("POST", "/bench/jobs/{job_id}/seal-draw"): P.DEVICE_SEAL,
    # Device custody.
    ("GET", "/custody"): P.TRIAGE_READ,
    ("POST", "/custody/move"): P.DEVICE_MOVE,
    ("POST", "/custody/stocktake"): P.DEVICE_STOCKTAKE,
    ("GET", "/custody/stocktakes/{stocktake_id}"): P.TRIAGE_READ,
    ("POST", "/custody/locations"): P.FACILITY_MANAGE,
    ("POST", "/custody/idle-days"): P.FACILITY_MANAGE,
    ("POST", "/custody/random-seals"): P.SEAL_STOCK,
    ("POST", "/bench/jobs/{job_id}/release"): P.DEVICE_RELEASE,
    ("POST", "/bench/jobs/{job_id}/security-log/read"): P.DEVICE_INSPECT,
    ("GET", "/jobs/{job_id}/security-log/{sha256}/raw"): P.HISTORY_READ,
    ("GET", "/supervisor"): P.DECISION_OVERRIDE,
    ("POST", "/supervisor/jobs/{job_id}/override"): P.DECISION_OVERRIDE,
    ("POST", "/supervisor/jobs/{job_id}/quarantine"): P.DEVICE_QUARANTINE,
    ("POST", "/supervisor/jobs/{job_id}/dispose"): P.DEVICE_DISPOSE,
    ("GET", "/stores"): P.SEAL_STOCK,
    ("POST", "/stores/batches"): P.SEAL_STOCK,
    ("POST", "/stores/issue"): P.SEAL_STOCK,
    ("POST", "/stores/return"): P.SEAL_STOCK,
    ("POST", "/stores/void"): P.SEAL_REPORT,
    ("POST", "/stores/lost"): P.SEAL_REPORT,
    ("POST", "/stores/broken"): P.SEAL_REPORT,
    ("POST", "/stores/seals"): P.SEAL_READ,
    ("GET", "/stores/seals/{serial}"): P.SEAL_READ,
    ("GET", "/stores/discrepancies"): P.SEAL_READ,
    ("POST", "/stores/discrepancies/{discrepancy_id}/resolve"): P.SEAL_DISCREPANCY_RESOLVE,
    ("GET", "/stores/stocktake"): P.SEAL_STOCK,
    ("POST", "/stores/stocktake"): P.SEAL_STOCK,
    ("GET", "/security/tools"): P.ALERT_READ,
    ("POST", "/security/tools/{tool_id}/reinstate"): P.SUSPENSION_REINSTATE,
    ("GET", "/security/people"): P.ALERT_READ,
    ("POST", "/security/tokens/{token_id}/revoke"): P.ACCOUNT_UNLOCK,
    ("POST", "/security/locks/{subject_kind}/{subject_id}/unlock"): P.ACCOUNT_UNLOCK,
    ("POST", "/security/alerts/{alert_id}/resolve"): P.ALERT_READ,
    ("POST", "/security/thresholds"): P.THRESHOLD_MANAGE,
    ("POST", "/security/operators/{operator_id}/reinstate"): P.SUSPENSION_REINSTATE,
    ("GET", "/admin"): P.FACILITY_MANAGE,
    ("POST", "/admin/policy"): P.POLICY_MANAGE,
    # Asset owners: listed by the service (its own for an owner's person), changed by an
    # administrator.
    ("GET", "/asset-owners"): None,
    ("POST", "/asset-owners"): P.ASSET_OWNER_MANAGE,
    ("GET", "/asset-owners/{owner_id}"): None,
    ("POST", "/asset-owners/{owner_id}"): P.ASSET_OWNER_MANAGE,
    # Dispatches: listed and shown by the service (its own for an owner's person).
    ("GET", "/dispatches"): None,
    ("POST", "/dispatches"): P.DISPATCH_MANAGE,
    ("GET", "/dispatches/{dispatch_id}"): None,
    ("POST", "/dispatches/{dispatch_id}/pack"): P.DISPATCH_MANAGE,
    ("POST", "/dispatches/{dispatch_id}/unpack"): P.DISPATCH_MANAGE,
    ("POST", "/dispatches/{dispatch_id}/cancel"): P.DISPATCH_MANAGE,
    ("POST", "/dispatches/{dispatch_id}/close"): P.DISPATCH_MANAGE,
    ("GET", "/dispatches/{dispatch_id}/note.json"): None,
    ("GET", "/dispatches/{dispatch_id}/note.pdf"): None,
    # DUIS requests out (issue 20): listed and downloaded by the service (its own for an
    # owner's person), produced by stores and supervisors.
    ("GET", "/duis"): None,
    ("POST", "/duis"): P.DUIS_PRODUCE,
    ("GET", "/duis/batches/{batch_id}.zip"): None,
    ("GET", "/duis/requests/{request_id}.xml"): None,
    # Read Inventory responses in (issue 20): the facility's readers see the readings and the
    # refused statuses; stores and supervisors import; an administrator sets the statuses.
    ("GET", "/inventory"): P.TRIAGE_READ,
    ("POST", "/inventory/responses"): P.INVENTORY_IMPORT,
    ("POST", "/inventory/smi-policy"): P.POLICY_MANAGE,
    ("POST", "/dispatches/{dispatch_id}/hand-over"): P.DISPATCH_MANAGE,
    ("POST", "/dispatches/{dispatch_id}/acknowledge"): P.DISPATCH_ACKNOWLEDGE,
    ("POST", "/dispatches/{dispatch_id}/acknowledge-signed"): P.DISPATCH_ACKNOWLEDGE,
    ("POST", "/dispatches/{dispatch_id}/acknowledge-received"): P.DISPATCH_MANAGE,
    ("GET", "/people"): P.OPERATOR_MANAGE,
    ("POST", "/people"): P.OPERATOR_MANAGE,
    ("GET", "/people/{operator_id}"): P.OPERATOR_MANAGE,
    ("POST", "/people/{operator_id}/roles"): P.OPERATOR_MANAGE,
    ("POST", "/people/{operator_id}/benches"): P.OPERATOR_MANAGE,
    ("POST", "/people/{operator_id}/activation"): P.OPERATOR_MANAGE,
    ("POST", "/people/{operator_id}/lock"): P.OPERATOR_MANAGE,
    ("POST", "/people/{operator_id}/unlock"): P.ACCOUNT_UNLOCK,
    ("POST", "/people/{operator_id}/tokens"): P.OPERATOR_MANAGE,
    ("POST", "/people/{operator_id}/tokens/{token_id}/revoke"): P.OPERATOR_MANAGE,
    ("POST", "/admin/party"): P.FACILITY_MANAGE,
    ("POST", "/admin/commissioning"): P.FACILITY_MANAGE,
    ("GET", "/auditor"): P.ASSURANCE_READ,
    ("GET", "/auditor/assessments"): P.ASSURANCE_READ,
    ("GET", "/auditor/device"): P.HISTORY_READ,
    ("POST", "/auditor/device"): P.HISTORY_READ,
    ("POST", "/auditor/receipt"): P.ASSURANCE_READ,
    ("POST", "/auditor/verify"): P.ASSURANCE_READ,
    ("GET", "/consignments"): None,  # owner-scoped in the service
    ("POST", "/consignments/preview"): P.CONSIGNMENT_IMPORT,
    ("POST", "/consignments/import"): P.CONSIGNMENT_IMPORT,
    ("GET", "/consignments/{asset_owner}/{reference:path}"): None,  # owner-scoped
    ("POST", "/consignments/{asset_owner}/{reference:path}/close"): P.CONSIGNMENT_CLOSE,
    ("GET", "/outcome-reports/{fmt}/{asset_owner}/{reference:path}"): None,  # owner-scoped
    # Retention: readers see it; a security manager or administrator changes it.
    ("GET", "/retention"): P.TRIAGE_READ,
    ("POST", "/retention/rules"): P.RETENTION_MANAGE,
    ("POST", "/retention/holds"): P.RETENTION_MANAGE,
    ("POST", "/retention/holds/{hold_id}/release"): P.RETENTION_MANAGE,
    ("POST", "/retention/purge"): P.RETENTION_MANAGE,
    ("GET", "/exceptions"): P.TRIAGE_READ,
    ("POST", "/exceptions/{exception_id}/resolve"): P.EXCEPTION_RESOLVE,
    # Assessments, planned and recorded by who manages assurance (the auditor reads them above).
    ("GET", "/assessments"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments"): P.ASSURANCE_MANAGE,
    ("GET", "/assessments/{assessment_id}"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/fieldwork"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/evidence"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/findings"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/findings/{finding_id}/response"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/findings/{finding_id}/actions"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/findings/{finding_id}/close"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/actions/{action_id}/done"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/outcome"): P.ASSURANCE_MANAGE,
    ("POST", "/assessments/{assessment_id}/steps/{step_id}/done"): P.ASSURANCE_MANAGE,
    # Settings: read by who reviews access; working hours are the security manager's (the
    # out-of-hours threshold watches them), the triage settings the administrator's.
    ("GET", "/settings"): P.ACCESS_REVIEW,
    ("POST", "/settings/working-hours"): P.THRESHOLD_MANAGE,
    ("POST", "/settings/triage"): P.FACILITY_MANAGE,
}

# Each list above, once: a route is in exactly one of them.
LISTS: tuple[frozenset[Route], ...] = (
    frozenset(NEEDS),
    frozenset(WHOSE),
    frozenset(OWNER_SCOPED),
    SIGNED_IN,
    TOOL,
    PUBLIC,
    frozenset(WEB),
    WEB_PUBLIC,
)


def every_route() -> set[Route]:
    """Every route the table knows, API and web."""
    routes: set[Route] = set()
    return routes.union(*LISTS)
