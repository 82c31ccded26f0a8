"""Roles and the one permission matrix that the API, the web pages and the CLI all check."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """What a person at the facility does."""

    BENCH_OPERATOR = "bench_operator"
    SUPERVISOR = "supervisor"
    STORES = "stores"
    SECURITY_MANAGER = "security_manager"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    # A person of an asset owner (a Meter Asset Provider or an energy supplier) outside the
    # facility: reads its own devices only and acknowledges what is dispatched to it.
    ASSET_OWNER = "asset_owner"


class Permission(StrEnum):
    """One kind of act the system can be asked to do."""

    CONSIGNMENT_IMPORT = "consignment.import"
    CONSIGNMENT_CLOSE = "consignment.close"
    DEVICE_SCAN = "device.scan"
    DEVICE_INSPECT = "device.inspect"
    SECURITY_LOG_UPLOAD = "security_log.upload"
    DECISION_OVERRIDE = "decision.override"
    EXCEPTION_RESOLVE = "exception.resolve"
    RESET_REQUEST = "reset.request"
    DEVICE_SEAL = "device.seal"
    DEVICE_RELEASE = "device.release"
    DEVICE_DISPOSE = "device.dispose"
    DEVICE_QUARANTINE = "device.quarantine"
    TRIAGE_READ = "triage.read"
    HISTORY_READ = "history.read"
    RECEIPT_ISSUE = "receipt.issue"
    LEDGER_READ = "ledger.read"
    LEDGER_CHECKPOINT = "ledger.checkpoint"
    OPERATOR_MANAGE = "operator.manage"
    TOOL_MANAGE = "tool.manage"
    POLICY_MANAGE = "policy.manage"
    FACILITY_MANAGE = "facility.manage"
    ACCOUNT_UNLOCK = "account.unlock"
    SUSPENSION_REINSTATE = "suspension.reinstate"
    THRESHOLD_MANAGE = "threshold.manage"
    ALERT_READ = "alert.read"
    ACCESS_REVIEW = "access.review"
    SEAL_READ = "seal.read"
    SEAL_STOCK = "seal.stock"
    SEAL_REPORT = "seal.report"
    SEAL_RECONCILE = "seal.reconcile"
    SEAL_DISCREPANCY_RESOLVE = "seal.discrepancy_resolve"
    ASSURANCE_READ = "assurance.read"
    ASSURANCE_MANAGE = "assurance.manage"
    # Chain of custody beyond the facility's walls (issue 19).
    OWNER_READ = "owner.read"
    ASSET_OWNER_MANAGE = "asset_owner.manage"
    DISPATCH_MANAGE = "dispatch.manage"
    DISPATCH_ACKNOWLEDGE = "dispatch.acknowledge"
    DISPOSAL_WITNESS = "disposal.witness"
    DEVICE_MOVE = "device.move"
    DEVICE_STOCKTAKE = "device.stocktake"
    RETENTION_MANAGE = "retention.manage"
    # The national inventory and the SSC (issue 20).
    INVENTORY_IMPORT = "inventory.import"
    DUIS_PRODUCE = "duis.produce"
    INCIDENT_READ = "incident.read"
    INCIDENT_REPORT = "incident.report"
    INCIDENT_MANAGE = "incident.manage"


_READ = {
    Permission.TRIAGE_READ,
    Permission.HISTORY_READ,
    Permission.LEDGER_READ,
    Permission.SEAL_READ,
}
_BENCH = {
    Permission.DEVICE_SCAN,
    Permission.DEVICE_INSPECT,
    Permission.RESET_REQUEST,
    Permission.DEVICE_SEAL,
    Permission.DEVICE_RELEASE,
    Permission.RECEIPT_ISSUE,
    Permission.SEAL_REPORT,
    Permission.DEVICE_MOVE,
    Permission.INCIDENT_REPORT,
}

# Separation of duties is built into the matrix: a security manager does not run triage, an
# auditor only reads and verifies, an administrator manages people and tools but triages
# nothing, and nobody at all has a permission to change or delete ledger entries. Stores keep
# the seals (receive, issue, take back, count) but fit none; a discrepancy in the seal count is
# explained to, and closed by, a security manager.
MATRIX: dict[Role, frozenset[Permission]] = {
    Role.BENCH_OPERATOR: frozenset(_READ | _BENCH),
    Role.SUPERVISOR: frozenset(
        _READ
        | _BENCH
        | {
            Permission.CONSIGNMENT_IMPORT,
            Permission.CONSIGNMENT_CLOSE,
            Permission.DECISION_OVERRIDE,
            # A supplier's 6.13 response for a device the bench cannot read: a supervisor
            # vouches for where it came from.
            Permission.SECURITY_LOG_UPLOAD,
            Permission.EXCEPTION_RESOLVE,
            Permission.DEVICE_DISPOSE,
            Permission.DEVICE_QUARANTINE,
            Permission.DISPOSAL_WITNESS,
            Permission.DISPATCH_MANAGE,
            Permission.DEVICE_STOCKTAKE,
            Permission.INVENTORY_IMPORT,
            Permission.DUIS_PRODUCE,
            Permission.INCIDENT_READ,
        }
    ),
    Role.STORES: frozenset(
        _READ
        | {
            Permission.CONSIGNMENT_IMPORT,
            Permission.CONSIGNMENT_CLOSE,
            Permission.DEVICE_SCAN,
            Permission.SEAL_STOCK,
            Permission.SEAL_REPORT,
            Permission.SEAL_RECONCILE,
            Permission.DISPOSAL_WITNESS,
            Permission.DISPATCH_MANAGE,
            Permission.DEVICE_MOVE,
            Permission.DEVICE_STOCKTAKE,
            Permission.INVENTORY_IMPORT,
            Permission.DUIS_PRODUCE,
            Permission.INCIDENT_REPORT,
        }
    ),
    # Only a security manager reinstates what an anomaly suspended, sets the thresholds and
    # watches the alerts; an administrator can unlock a locked-out account but not reinstate.
    Role.SECURITY_MANAGER: frozenset(
        _READ
        | {
            Permission.TOOL_MANAGE,
            Permission.LEDGER_CHECKPOINT,
            Permission.RECEIPT_ISSUE,
            Permission.ACCOUNT_UNLOCK,
            Permission.SUSPENSION_REINSTATE,
            Permission.THRESHOLD_MANAGE,
            Permission.ALERT_READ,
            Permission.ACCESS_REVIEW,
            Permission.SEAL_RECONCILE,
            Permission.SEAL_DISCREPANCY_RESOLVE,
            Permission.ASSURANCE_READ,
            Permission.ASSURANCE_MANAGE,
            Permission.DISPOSAL_WITNESS,
            Permission.RETENTION_MANAGE,
            # The incident and vulnerability register and its notifications to the SSC.
            Permission.INCIDENT_READ,
            Permission.INCIDENT_REPORT,
            Permission.INCIDENT_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset(
        _READ
        | {
            Permission.RECEIPT_ISSUE,
            Permission.ACCESS_REVIEW,
            Permission.ASSURANCE_READ,
            Permission.INCIDENT_READ,
        }
    ),
    Role.ADMINISTRATOR: frozenset(
        _READ
        | {
            Permission.OPERATOR_MANAGE,
            Permission.TOOL_MANAGE,
            Permission.POLICY_MANAGE,
            Permission.FACILITY_MANAGE,
            Permission.LEDGER_CHECKPOINT,
            Permission.ACCOUNT_UNLOCK,
            Permission.ACCESS_REVIEW,
            Permission.ASSURANCE_READ,
            Permission.ASSURANCE_MANAGE,
            Permission.ASSET_OWNER_MANAGE,
            Permission.RETENTION_MANAGE,
            Permission.INCIDENT_READ,
            Permission.INCIDENT_REPORT,
        }
    ),
    # Outside the facility: none of the facility's reads (they show every owner's devices),
    # only the owner-scoped ones, and the acknowledgement of its own dispatches.
    Role.ASSET_OWNER: frozenset({Permission.OWNER_READ, Permission.DISPATCH_ACKNOWLEDGE}),
}


def permissions(roles: Iterable[Role]) -> frozenset[Permission]:
    """Everything any of ``roles`` may do."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= MATRIX[role]
    return frozenset(granted)


def roles_with(permission: Permission) -> list[Role]:
    """The roles holding ``permission``, for error messages and documentation."""
    return [role for role in Role if permission in MATRIX[role]]
