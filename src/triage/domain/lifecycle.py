"""The triage lifecycle: one state machine, its guards and who may take each step.

A triage job is one visit of one device through the facility. Every step a job can take is a
row of ``TRANSITIONS``: the states it may start from, the states it may end in, the permission
it needs (None for steps the system or the Triage Tool takes on its own evidence) and the type
of the ledger entry that records it. Nothing else moves a job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from triage.domain.roles import Permission
from triage.errors import IllegalTransition, InvalidInput


class JobState(StrEnum):
    """Where a device is in its triage job."""

    RECEIVED = "received"
    INSPECTED = "inspected"
    AWAITING_REVIEW = "awaiting_review"
    ELIGIBLE = "eligible"
    REVERIFY_METROLOGY = "reverify_metrology"
    QUARANTINED = "quarantined"
    RESET_AUTHORISED = "reset_authorised"
    RESET_DONE = "reset_done"
    RESET_FAILED = "reset_failed"
    VERIFIED = "verified"
    VERIFICATION_FAILED = "verification_failed"
    SEALED = "sealed"
    SEAL_BROKEN = "seal_broken"
    RELEASED = "released"
    RETURNED_TO_MANUFACTURER = "returned_to_manufacturer"
    RETURNED_TO_DCC = "returned_to_dcc"
    DESTROYED = "destroyed"

    @property
    def is_final(self) -> bool:
        """True when the job is over and the device has left triage."""
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        JobState.RELEASED,
        JobState.RETURNED_TO_MANUFACTURER,
        JobState.RETURNED_TO_DCC,
        JobState.DESTROYED,
    }
)


class Action(StrEnum):
    """A step of the lifecycle."""

    INSPECT = "inspect"
    DECIDE = "decide"
    OVERRIDE = "override"
    AUTHORISE_RESET = "authorise_reset"
    COMPLETE_RESET = "complete_reset"
    FAIL_RESET = "fail_reset"
    VERIFY = "verify"
    FAIL_VERIFICATION = "fail_verification"
    SEAL = "seal"
    BREAK_SEAL = "break_seal"
    RELEASE = "release"
    QUARANTINE = "quarantine"
    RETURN_TO_MANUFACTURER = "return_to_manufacturer"
    RETURN_TO_DCC = "return_to_dcc"
    DESTROY = "destroy"


@dataclass(frozen=True)
class Transition:
    """One step: from which states, to which states, by whose permission, recorded how."""

    action: Action
    sources: frozenset[JobState]
    targets: frozenset[JobState]
    permission: Permission | None
    entry_type: str
    description: str


S = JobState
_DECIDED = frozenset({S.ELIGIBLE, S.QUARANTINED, S.REVERIFY_METROLOGY})

TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.INSPECT,
            frozenset({S.RECEIVED}),
            frozenset({S.INSPECTED}),
            Permission.DEVICE_INSPECT,
            "device.inspected",
            "record the four boundary facts, the security log alerts and any legitimate reasons",
        ),
        Transition(
            Action.DECIDE,
            frozenset({S.INSPECTED}),
            _DECIDED | {S.AWAITING_REVIEW},
            None,
            "device.decided",
            "the tamper policy decides on the inspection",
        ),
        Transition(
            Action.OVERRIDE,
            _DECIDED | {S.AWAITING_REVIEW},
            _DECIDED,
            Permission.DECISION_OVERRIDE,
            "decision.overridden",
            "a supervisor who did not inspect the device decides, with a written justification",
        ),
        Transition(
            Action.AUTHORISE_RESET,
            frozenset(
                {
                    S.ELIGIBLE,
                    S.RESET_AUTHORISED,
                    S.RESET_FAILED,
                    S.VERIFICATION_FAILED,
                    S.SEAL_BROKEN,
                }
            ),
            frozenset({S.RESET_AUTHORISED}),
            Permission.RESET_REQUEST,
            "reset.authorised",
            "a signed work order is issued to one tool for one device",
        ),
        Transition(
            Action.COMPLETE_RESET,
            frozenset({S.RESET_AUTHORISED}),
            frozenset({S.RESET_DONE}),
            None,
            "reset.completed",
            "the tool reports a reset, signed, with device state digests before and after",
        ),
        Transition(
            Action.FAIL_RESET,
            frozenset({S.RESET_AUTHORISED}),
            frozenset({S.RESET_FAILED}),
            None,
            "reset.failed",
            "the tool reports that the reset failed",
        ),
        Transition(
            Action.VERIFY,
            frozenset({S.RESET_DONE}),
            frozenset({S.VERIFIED}),
            None,
            "reset.verified",
            "the state read back shows every item of the reset profile cleared or kept",
        ),
        Transition(
            Action.FAIL_VERIFICATION,
            frozenset({S.RESET_DONE}),
            frozenset({S.VERIFICATION_FAILED}),
            None,
            "reset.verification_failed",
            "the state read back shows an item not cleared, or a kept item changed",
        ),
        Transition(
            Action.SEAL,
            frozenset({S.VERIFIED}),
            frozenset({S.SEALED}),
            Permission.DEVICE_SEAL,
            "seal.fitted",
            "a tamper-protection seal is fitted and its serial recorded",
        ),
        Transition(
            Action.RELEASE,
            frozenset({S.SEALED}),
            frozenset({S.RELEASED}),
            Permission.DEVICE_RELEASE,
            "device.released",
            "the sealed device leaves the facility as triaged",
        ),
        Transition(
            Action.BREAK_SEAL,
            frozenset({S.SEALED}),
            frozenset({S.SEAL_BROKEN}),
            Permission.SEAL_REPORT,
            "seal.broken",
            "the seal is found broken before dispatch: reset and verify again, or quarantine",
        ),
        Transition(
            Action.QUARANTINE,
            # From any state before release (damage may be found at any step), but not from
            # received: a device is quarantined on the evidence of its inspection, so that no
            # path (quarantine, then an override) can reach release without one.
            frozenset(JobState) - FINAL_STATES - {S.RECEIVED, S.QUARANTINED},
            frozenset({S.QUARANTINED}),
            Permission.DEVICE_QUARANTINE,
            "device.quarantined",
            "set aside, with the reason: by a supervisor when damage is found at any step "
            "before release, or by the system when reset attempts run out",
        ),
        Transition(
            Action.RETURN_TO_MANUFACTURER,
            frozenset({S.QUARANTINED, S.REVERIFY_METROLOGY}),
            frozenset({S.RETURNED_TO_MANUFACTURER}),
            Permission.DEVICE_DISPOSE,
            "device.returned_to_manufacturer",
            "sent back to the manufacturer (or for metrology re-verification)",
        ),
        Transition(
            Action.RETURN_TO_DCC,
            # Only a communications hub (the DCC's, not the asset owner's: services.hub_returns
            # checks the device type), once decided and before any reset, or set aside.
            _DECIDED | {S.AWAITING_REVIEW},
            frozenset({S.RETURNED_TO_DCC}),
            Permission.DEVICE_DISPOSE,
            "device.returned_to_dcc",
            "a communications hub goes back to the DCC with a fault or no-fault return",
        ),
        Transition(
            Action.DESTROY,
            frozenset({S.QUARANTINED, S.REVERIFY_METROLOGY}),
            frozenset({S.DESTROYED}),
            Permission.DEVICE_DISPOSE,
            "device.destroyed",
            "securely destroyed",
        ),
    )
}


def step(state: JobState, action: Action, target: JobState | None = None) -> JobState:
    """The state after ``action`` from ``state``; raises IllegalTransition if not allowed."""
    transition = TRANSITIONS[action]
    if state not in transition.sources:
        allowed = ", ".join(sorted(a.value for a in allowed_actions(state))) or "nothing"
        raise IllegalTransition(
            f"cannot {action.value.replace('_', ' ')} a device that is {state.value}; "
            f"from {state.value} the next step can be: {allowed}"
        )
    if target is None:
        if len(transition.targets) != 1:
            raise InvalidInput(f"{action.value} needs an explicit target state", field="target")
        (target,) = transition.targets
    if target not in transition.targets:
        raise IllegalTransition(
            f"{action.value.replace('_', ' ')} cannot lead to {target.value}; it leads to "
            + ", ".join(sorted(t.value for t in transition.targets))
        )
    return target


def allowed_actions(state: JobState) -> list[Action]:
    """Actions that may be taken from ``state``."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram (the docs embed exactly this)."""
    lines = ["stateDiagram-v2", "    [*] --> received"]
    for transition in TRANSITIONS.values():
        who = transition.permission.value if transition.permission else "system/tool"
        for source in sorted(transition.sources):
            for target in sorted(transition.targets):
                lines.append(f"    {source} --> {target}: {transition.action} ({who})")
    lines.extend(f"    {state} --> [*]" for state in sorted(FINAL_STATES))
    return "\n".join(lines)


# -- a job's recorded path --------------------------------------------------------------------

RECEIVED_ENTRY = "device.received"  # the entry that opens a job, in state received
SEAL_FITTED_ENTRY = TRANSITIONS[Action.SEAL].entry_type
RELEASED_ENTRY = TRANSITIONS[Action.RELEASE].entry_type


def _by_entry_type() -> dict[str, tuple[Transition, ...]]:
    found: dict[str, list[Transition]] = {}
    for transition in TRANSITIONS.values():
        found.setdefault(transition.entry_type, []).append(transition)
    return {entry_type: tuple(ts) for entry_type, ts in found.items()}


# Several transitions may share an entry type (none do today, but nothing forbids it).
BY_ENTRY_TYPE: dict[str, tuple[Transition, ...]] = _by_entry_type()


@dataclass(frozen=True)
class PathStep:
    """One ledger entry that moved a job: its index, type, the state it records and, when
    known, the device it is about."""

    index: int
    entry_type: str
    state: str
    subject: str = ""


def check_path(steps: Sequence[PathStep]) -> str | None:
    """The first way a job's recorded steps (oldest first) break the lifecycle, or None.

    A job starts with ``device.received`` in state received and then takes only steps that
    ``TRANSITIONS`` allows (entry type, state before, state after), all about one device; a
    device is released only with a seal fitted since its last reset or broken seal, and only
    once.
    """
    if not steps:
        return "the job has no ledger entries"
    first = steps[0]
    if first.entry_type != RECEIVED_ENTRY or first.state != JobState.RECEIVED.value:
        return (
            f"entry {first.index} ({first.entry_type} -> {first.state}) opens the job; a job "
            f"opens with {RECEIVED_ENTRY} -> {JobState.RECEIVED.value}"
        )
    state = first.state
    sealed_by: int | None = None
    released_by: int | None = None
    for step in steps[1:]:
        name = f"entry {step.index} ({step.entry_type})"
        if step.subject and first.subject and step.subject != first.subject:
            return f"{name} is about device {step.subject}; the job is device {first.subject}'s"
        if step.entry_type == RECEIVED_ENTRY:
            return f"{name} receives the device again within the same job"
        if step.entry_type == RELEASED_ENTRY:
            if released_by is not None:
                return f"{name} releases the device again; entry {released_by} released it"
            if sealed_by is None:
                return (
                    f"{name} releases the device without a seal: no {SEAL_FITTED_ENTRY} entry "
                    f"since its reset (it goes {state} -> {step.state})"
                )
            released_by = step.index
        transitions = BY_ENTRY_TYPE.get(step.entry_type)
        if transitions is None:
            return (
                f"{name} moves the job to {step.state}, but no lifecycle transition is "
                "recorded with that entry type"
            )
        if not any(state in t.sources and step.state in t.targets for t in transitions):
            return f"{name} goes {state} -> {step.state}, which the lifecycle does not allow"
        if step.entry_type == SEAL_FITTED_ENTRY:
            sealed_by = step.index
        elif step.entry_type != RELEASED_ENTRY:
            sealed_by = None
        state = step.state
    return None
