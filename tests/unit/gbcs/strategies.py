"""Hypothesis strategies for 6.13 responses the encoder accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from triage.gbcs import USE_CASES, LogEntry, LogResponse, ResponseOutcome, UseCase

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
times = st.integers(min_value=0, max_value=0xFFFFFFFF).map(lambda s: EPOCH + timedelta(seconds=s))
codes = st.integers(min_value=0, max_value=0xFFFF)
euis = st.binary(min_size=8, max_size=8).map(lambda b: "-".join(f"{x:02X}" for x in b))
octets = st.binary(max_size=40).map(lambda b: b.hex().upper())

# The fields after [0] time and [1] code of each DLMS log.
_DLMS_EXTRA: dict[str, st.SearchStrategy[tuple[int | str, ...]]] = {
    "ECS35a": st.tuples(octets),
    "ECS35b": st.just(()),
    "ECS35c": st.tuples(octets),
    "ECS35d": st.just(()),
    "ECS35e": st.tuples(st.integers(0, 0xFFFFFFFF)),
    "ECS35f": st.tuples(st.integers(0, 0xFF), st.integers(0, 0xFFFFFFFF)),
    "ECS35g": st.tuples(st.integers(0, 0xFF), st.integers(0, 0xFFFFFFFF)),
}
_LOG_IDS = {"CS10a": 3, "CS10b": 4}


def _extra(use_case: UseCase) -> st.SearchStrategy[tuple[int | str, ...]]:
    if use_case.name in _LOG_IDS:
        log_id: int | str = _LOG_IDS[use_case.name]
        return st.tuples(st.just(log_id), octets)
    return _DLMS_EXTRA[use_case.name]


def entries_of(use_case: UseCase) -> st.SearchStrategy[tuple[LogEntry, ...]]:
    """Entries of a log of ``use_case``."""
    entry = st.builds(LogEntry, codes, times, _extra(use_case))
    return st.lists(entry, max_size=12).map(tuple)


@st.composite
def responses(draw: st.DrawFn, use_cases: list[str] | None = None) -> LogResponse:
    """A success, error or not-found response of one of ``use_cases`` (default: all)."""
    use_case = USE_CASES[draw(st.sampled_from(use_cases or sorted(USE_CASES)))]
    outcome = draw(st.sampled_from(ResponseOutcome))
    zigbee = use_case.encoding == "zigbee"
    if outcome is ResponseOutcome.NOT_FOUND and not zigbee:
        outcome = ResponseOutcome.ERROR
    status: str | None = None
    if outcome is ResponseOutcome.NOT_FOUND:
        status = "ZCL status 0x8B Not Found"
    elif outcome is ResponseOutcome.ERROR:
        status = draw(
            st.sampled_from(["ZCL status 0xC0 Hardware Failure", "ZCL status 0x01 Failure"])
            if zigbee
            else st.sampled_from(
                ["DLMS data access result 1 (hardware fault)", "DLMS data access result 200"]
            )
        )
    routed = draw(st.booleans())
    return LogResponse(
        use_case=use_case,
        originator=draw(euis),
        recipient=draw(euis),
        originator_counter=draw(st.integers(0, 2**64 - 1)),
        outcome=outcome,
        status=status,
        entries=draw(entries_of(use_case)) if outcome is ResponseOutcome.SUCCESS else (),
        mac=draw(st.binary(min_size=12, max_size=12)),
        requester=draw(euis) if routed else None,
        requester_counter=draw(st.integers(0, 2**64 - 1)) if routed else None,
    )
