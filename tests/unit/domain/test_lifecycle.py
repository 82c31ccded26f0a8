"""The lifecycle table is the only thing that moves a device; these tests read it as a graph."""

from __future__ import annotations

from collections import deque

import pytest

from triage.domain.lifecycle import (
    FINAL_STATES,
    TRANSITIONS,
    Action,
    JobState,
    allowed_actions,
    mermaid,
    step,
)
from triage.domain.roles import MATRIX
from triage.errors import IllegalTransition

ILLEGAL = [
    (state, action)
    for action, transition in TRANSITIONS.items()
    for state in JobState
    if state not in transition.sources
]
LEGAL = [
    (state, action)
    for action, transition in TRANSITIONS.items()
    for state in sorted(transition.sources)
]
# Every state a device must pass through, in order, between arrival and release.
MANDATORY = (
    JobState.INSPECTED,
    JobState.ELIGIBLE,
    JobState.RESET_AUTHORISED,
    JobState.RESET_DONE,
    JobState.VERIFIED,
    JobState.SEALED,
)


def _successors(state: JobState) -> set[JobState]:
    return {target for a in allowed_actions(state) for target in TRANSITIONS[a].targets}


def _paths(
    start: JobState, avoiding: frozenset[JobState] = frozenset()
) -> dict[JobState, list[JobState]]:
    """A shortest path to every state reachable from ``start`` without entering ``avoiding``."""
    paths = {start: [start]}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for nxt in sorted(_successors(here) - set(paths) - avoiding):
            paths[nxt] = [*paths[here], nxt]
            queue.append(nxt)
    return paths


def test_the_table_has_illegal_and_legal_pairs_to_check() -> None:
    # Guards the generated parameter lists: an empty list would make the tests below vacuous.
    assert len(ILLEGAL) + len(LEGAL) == len(JobState) * len(Action)
    assert ILLEGAL
    assert LEGAL


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_an_action_not_in_the_table_is_refused_naming_action_state_and_next_steps(
    state: JobState, action: Action
) -> None:
    transition = TRANSITIONS[action]
    targets = [None, *sorted(transition.targets)]
    for target in targets:
        with pytest.raises(IllegalTransition) as caught:
            step(state, action, target)
        message = str(caught.value)
        assert action.value.replace("_", " ") in message
        assert f"that is {state.value};" in message
        listed = message.split("the next step can be: ")[1].split(", ")
        expected = sorted(a.value for a in allowed_actions(state)) or ["nothing"]
        assert listed == expected


@pytest.mark.parametrize(("state", "action"), LEGAL, ids=[f"{s}-{a}" for s, a in LEGAL])
def test_an_allowed_action_leads_only_to_its_declared_targets(
    state: JobState, action: Action
) -> None:
    declared = TRANSITIONS[action].targets
    for target in declared:
        assert step(state, action, target) is target
    if len(declared) == 1:
        assert step(state, action) == next(iter(declared))
    else:
        with pytest.raises(ValueError, match="explicit target"):
            step(state, action)
    for undeclared in set(JobState) - declared:
        with pytest.raises(IllegalTransition) as caught:
            step(state, action, undeclared)
        message = str(caught.value)
        assert f"cannot lead to {undeclared.value}" in message
        for target in declared:
            assert target.value in message


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_a_final_state_allows_no_action(state: JobState) -> None:
    assert state.is_final
    assert allowed_actions(state) == []
    for action in Action:
        with pytest.raises(IllegalTransition, match="can be: nothing"):
            step(state, action)


def test_only_final_states_are_final() -> None:
    for state in set(JobState) - FINAL_STATES:
        assert not state.is_final
        assert allowed_actions(state), f"{state} is a dead end but not final"


def test_mermaid_diagram_shows_every_transition_and_state() -> None:
    diagram = mermaid()
    lines = set(diagram.splitlines())
    for action, transition in TRANSITIONS.items():
        who = transition.permission.value if transition.permission else "system/tool"
        for source in transition.sources:
            for target in transition.targets:
                assert f"    {source.value} --> {target.value}: {action.value} ({who})" in lines
    for state in JobState:
        assert state.value in diagram
    for state in FINAL_STATES:
        assert f"    {state.value} --> [*]" in lines
    assert "    [*] --> received" in lines


def test_every_permission_in_the_lifecycle_is_held_by_some_role() -> None:
    held = set().union(*MATRIX.values())
    for action, transition in TRANSITIONS.items():
        if transition.permission is not None:
            assert transition.permission in held, f"nobody may {action.value}"


def test_every_state_is_reachable_from_received() -> None:
    assert set(_paths(JobState.RECEIVED)) == set(JobState)


def test_release_is_reachable_at_all() -> None:
    # Without this the skip tests below would pass for a lifecycle that never releases.
    assert JobState.RELEASED in _paths(JobState.RECEIVED)


@pytest.mark.parametrize("skipped", MANDATORY)
def test_a_device_cannot_reach_release_without_passing_through(skipped: JobState) -> None:
    path = _paths(JobState.RECEIVED, frozenset({skipped})).get(JobState.RELEASED)
    assert path is None, " -> ".join(path)


def test_release_is_only_reachable_from_sealed() -> None:
    into_released = {
        source
        for transition in TRANSITIONS.values()
        if JobState.RELEASED in transition.targets
        for source in transition.sources
    }
    assert into_released == {JobState.SEALED}
    for state in set(JobState) - {JobState.SEALED}:
        assert JobState.RELEASED not in _successors(state)


def test_a_full_triage_walks_the_table_to_release() -> None:
    walk = [
        (Action.INSPECT, None),
        (Action.DECIDE, JobState.ELIGIBLE),
        (Action.AUTHORISE_RESET, None),
        (Action.COMPLETE_RESET, None),
        (Action.VERIFY, None),
        (Action.SEAL, None),
        (Action.RELEASE, None),
    ]
    state = JobState.RECEIVED
    visited = [state]
    for action, target in walk:
        state = step(state, action, target)
        visited.append(state)
    assert visited == [JobState.RECEIVED, *MANDATORY, JobState.RELEASED]


@pytest.mark.parametrize(
    "state", sorted(set(JobState) - FINAL_STATES - {JobState.RECEIVED, JobState.QUARANTINED})
)
def test_damage_found_at_any_step_before_release_can_quarantine_the_device(
    state: JobState,
) -> None:
    # A verified or sealed device found damaged at the bench is set aside, not sealed anyway.
    assert step(state, Action.QUARANTINE) is JobState.QUARANTINED
    assert TRANSITIONS[Action.QUARANTINE].permission is not None


def test_a_device_is_not_quarantined_before_its_inspection_nor_after_it_left() -> None:
    for state in (JobState.RECEIVED, JobState.QUARANTINED, *sorted(FINAL_STATES)):
        with pytest.raises(IllegalTransition, match="cannot quarantine"):
            step(state, Action.QUARANTINE)
