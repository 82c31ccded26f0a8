"""``check_path``: a job's recorded steps against the lifecycle, generated from TRANSITIONS."""

from __future__ import annotations

from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from triage.domain.lifecycle import (
    BY_ENTRY_TYPE,
    RECEIVED_ENTRY,
    TRANSITIONS,
    Action,
    JobState,
    PathStep,
    check_path,
)

DEVICE = "BC-33-AC-FF-FE-FA-55-01"


def _path(*steps: tuple[str, JobState | str]) -> list[PathStep]:
    """A job's path: received, then ``steps`` as (entry type, state), indexes from 10."""
    path = [PathStep(10, RECEIVED_ENTRY, JobState.RECEIVED.value, DEVICE)]
    for i, (entry_type, state) in enumerate(steps):
        path.append(PathStep(11 + i, entry_type, str(state), DEVICE))
    return path


def _shortest() -> dict[JobState, list[tuple[str, JobState]]]:
    """A legal path (entry type, state) to every state reachable from received."""
    found: dict[JobState, list[tuple[str, JobState]]] = {JobState.RECEIVED: []}
    queue = deque([JobState.RECEIVED])
    while queue:
        state = queue.popleft()
        for transition in TRANSITIONS.values():
            if state not in transition.sources:
                continue
            for target in sorted(transition.targets):
                if target not in found:
                    found[target] = [*found[state], (transition.entry_type, target)]
                    queue.append(target)
    return found


SHORTEST = _shortest()
ILLEGAL_STEPS = [
    (source, entry_type, target)
    for source in sorted(SHORTEST)
    for entry_type, transitions in BY_ENTRY_TYPE.items()
    for target in JobState
    if not any(source in t.sources and target in t.targets for t in transitions)
]


def test_every_state_is_reachable_by_a_legal_path() -> None:
    assert set(SHORTEST) == set(JobState)
    for steps in SHORTEST.values():
        assert check_path(_path(*steps)) is None


@st.composite
def legal_walks(draw: st.DrawFn) -> list[tuple[str, JobState]]:
    state, steps = JobState.RECEIVED, []
    for _ in range(draw(st.integers(0, 30))):
        choices = [
            (t.entry_type, target)
            for t in TRANSITIONS.values()
            if state in t.sources
            for target in sorted(t.targets)
        ]
        if not choices:
            break
        entry_type, state = draw(st.sampled_from(choices))
        steps.append((entry_type, state))
    return steps


@given(legal_walks())
def test_any_walk_the_lifecycle_allows_passes(steps: list[tuple[str, JobState]]) -> None:
    assert check_path(_path(*steps)) is None


def test_every_step_the_lifecycle_does_not_allow_is_named() -> None:
    # From every state, every entry type to every state that TRANSITIONS does not allow.
    assert len(ILLEGAL_STEPS) > 1000
    missed = []
    for source, entry_type, target in ILLEGAL_STEPS:
        path = _path(*SHORTEST[source], (entry_type, target))
        problem = check_path(path)
        if problem is None or not problem.startswith(f"entry {path[-1].index} ({entry_type})"):
            missed.append((source, entry_type, target, problem))
    assert missed == []


def test_a_release_without_a_seal_is_named_as_such() -> None:
    # Attack 6: the register was set to sealed, then a legitimate release was recorded.
    verified = SHORTEST[JobState.VERIFIED]
    released = TRANSITIONS[Action.RELEASE].entry_type
    problem = check_path(_path(*verified, (released, JobState.RELEASED)))
    assert problem is not None
    assert "releases the device without a seal" in problem
    assert "verified -> released" in problem


def test_a_second_release_is_named_as_such() -> None:
    steps = SHORTEST[JobState.RELEASED]
    released = TRANSITIONS[Action.RELEASE].entry_type
    path = _path(*steps, (released, JobState.RELEASED))
    problem = check_path(path)
    assert problem is not None
    assert f"entry {path[-1].index} ({released}) releases the device again" in problem
    assert f"entry {path[-2].index} released it" in problem


def test_a_seal_broken_then_released_without_a_new_seal_is_named() -> None:
    sealed = SHORTEST[JobState.SEALED]
    broken = TRANSITIONS[Action.BREAK_SEAL].entry_type
    released = TRANSITIONS[Action.RELEASE].entry_type
    problem = check_path(
        _path(*sealed, (broken, JobState.SEAL_BROKEN), (released, JobState.RELEASED))
    )
    assert problem is not None
    assert "without a seal" in problem


def test_a_path_opens_with_the_device_received() -> None:
    inspected = TRANSITIONS[Action.INSPECT].entry_type
    problem = check_path([PathStep(5, inspected, JobState.INSPECTED.value, DEVICE)])
    assert problem == (
        "entry 5 (device.inspected -> inspected) opens the job; a job opens with "
        "device.received -> received"
    )
    assert check_path([]) == "the job has no ledger entries"


def test_a_second_receipt_or_an_unknown_step_or_another_device_is_named() -> None:
    again = check_path(_path((RECEIVED_ENTRY, JobState.RECEIVED)))
    assert again == "entry 11 (device.received) receives the device again within the same job"
    unknown = check_path(_path(("device.teleported", JobState.RELEASED)))
    assert unknown is not None
    assert "no lifecycle transition is recorded with that entry type" in unknown
    inspected = TRANSITIONS[Action.INSPECT].entry_type
    elsewhere = [*_path(), PathStep(11, inspected, JobState.INSPECTED.value, "OTHER")]
    assert check_path(elsewhere) == (
        f"entry 11 ({inspected}) is about device OTHER; the job is device {DEVICE}'s"
    )
