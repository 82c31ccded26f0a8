"""Tamper-protection seals: serials and ranges, each seal's lifecycle, stocktakes, and the
reconciliation sums that must account for every seal (and must notice when one is not)."""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.domain.seals import (
    HOLDING_FIGURES,
    MAX_LIST,
    MAX_RANGE,
    MOVEMENT_FIGURES,
    MOVES,
    SERIAL_RULE,
    Discrepancy,
    DiscrepancyKind,
    Equation,
    Move,
    Movement,
    Reconciliation,
    Scope,
    ScopeKind,
    Seal,
    SealStatus,
    check_fittable,
    choose_serials,
    compare_stocktake,
    describe_class,
    equations,
    expand_range,
    move,
    normalise_serial,
    reconcile,
    seal_class,
    serial_list,
    tally,
)
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALNUM = string.ascii_uppercase + string.digits
SERIAL_CHARS = ALNUM + "-"
STORES = ("STORE-A", "STORE-B", "STORE-C")
OPERATORS = ("op-ann", "op-bob", "op-cat")
ALL_FIGURES = MOVEMENT_FIGURES + HOLDING_FIGURES
FEW = settings(max_examples=150, deadline=None)


def a_seal(
    status: SealStatus = SealStatus.IN_STOCK,
    serial: str = "SL-000100",
    *,
    batch_id: str = "batch-1",
    store: str | None = "STORE-A",
    holder: str | None = None,
    device_id: str | None = None,
) -> Seal:
    """A seal in ``status``, with the holder and device that status implies filled in."""
    if status is not SealStatus.IN_STOCK and holder is None:
        holder = "op-ann"
    if status in (SealStatus.FITTED, SealStatus.BROKEN) and device_id is None:
        device_id = "dev-1"
    return Seal(
        serial=serial,
        batch_id=batch_id,
        status=status,
        store=store,
        holder=holder,
        device_id=device_id,
        job_id="job-1" if device_id else None,
        issued_at=None if holder is None else T0,
        status_at=T0,
    )


def a_discrepancy(
    serial: str,
    *,
    batch_id: str | None = "batch-1",
    store: str | None = None,
    operator_id: str | None = None,
    raised_at: datetime = T0,
) -> Discrepancy:
    return Discrepancy(
        id=f"d-{serial}",
        kind=DiscrepancyKind.LOST,
        serial=serial,
        batch_id=batch_id,
        store=store,
        operator_id=operator_id,
        device_id=None,
        detail="nowhere on the bench or in the store",
        status="open",
        raised_by="sup-1",
        raised_at=raised_at,
    )


def zero_figures(**changes: int) -> dict[str, int]:
    figures = dict.fromkeys(ALL_FIGURES, 0)
    figures.update(changes)
    return figures


# -- serials -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SL-000100", "SL-000100"),
        ("  sl-000100\t", "SL-000100"),
        ("abcd", "ABCD"),
        ("1-2-", "1-2-"),
        ("A" * 32, "A" * 32),
    ],
)
def test_a_serial_is_stored_trimmed_and_upper_case(text: str, expected: str) -> None:
    assert normalise_serial(text) == expected


@pytest.mark.parametrize(
    "text",
    ["ABC", "A" * 33, "-ABC", "SL 0001", "SL_0001", "SL/0001", "SL.0001", "SL:0001"],
)
def test_a_serial_that_breaks_the_rule_is_refused_naming_the_field_and_the_rule(
    text: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_serial(text, "first")
    message = str(caught.value)
    assert message.startswith("first: ")
    assert repr(text.strip()) in message
    assert SERIAL_RULE in message


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_serial_is_refused_and_shown_as_empty(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^serial: '\(empty\)' is not a seal serial"):
        normalise_serial(text)


@FEW
@given(
    body=st.text(alphabet=string.ascii_letters + string.digits + "-_. /", max_size=36),
    padding=st.sampled_from(["", " ", "\t", "  \n"]),
)
def test_exactly_the_serials_the_rule_allows_are_accepted(body: str, padding: str) -> None:
    text = f"{padding}{body}{padding}"
    core = text.strip()
    allowed = (
        4 <= len(core) <= 32
        and core[0] in ALNUM + string.ascii_lowercase
        and all(c in SERIAL_CHARS for c in core.upper())
    )
    if allowed:
        assert normalise_serial(text) == core.upper()
    else:
        with pytest.raises(InvalidInput, match=r"^serial: "):
            normalise_serial(text)


@FEW
@given(st.text(max_size=40))
def test_whatever_is_accepted_as_a_serial_keeps_the_rule_and_is_stable(text: str) -> None:
    try:
        serial = normalise_serial(text)
    except InvalidInput:
        return
    assert 4 <= len(serial) <= 32
    assert serial[0] in ALNUM
    assert set(serial) <= set(SERIAL_CHARS)
    assert normalise_serial(serial) == serial


def test_a_range_gives_every_serial_in_order_with_the_padding_kept() -> None:
    serials = expand_range("SL-000100", "SL-000199")
    assert len(serials) == 100
    assert serials[:3] == ["SL-000100", "SL-000101", "SL-000102"]
    assert serials[-1] == "SL-000199"
    assert serials == [f"SL-{n:06d}" for n in range(100, 200)]


def test_a_range_is_read_in_any_case_and_with_spaces() -> None:
    assert expand_range(" sl-0008 ", "sl-0011") == ["SL-0008", "SL-0009", "SL-0010", "SL-0011"]


def test_a_range_whose_ends_are_equal_is_one_seal() -> None:
    assert expand_range("SL-000100", "SL-000100") == ["SL-000100"]


def test_a_range_counts_only_the_final_digits() -> None:
    assert expand_range("A1-B2-09", "A1-B2-11") == ["A1-B2-09", "A1-B2-10", "A1-B2-11"]
    assert expand_range("0098", "0101") == ["0098", "0099", "0100", "0101"]


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("SL-000199", "SL-000100", "SL-000199 comes after SL-000100; give the lower serial first"),
        ("SL-000100", "SK-000199", "differ before their final digits ('SL-' and 'SK-')"),
        ("SL-0100", "SL-00199", "different numbers of final digits"),
        ("SL-9999", "SL-10000", "different numbers of final digits"),
        ("SL-ABCD", "SL-ABCE", "both ends must end in digits"),
        ("SL-0001", "SL-ABCD", "both ends must end in digits"),
    ],
)
def test_a_range_that_is_not_exactly_what_is_printed_is_refused(
    first: str, last: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        expand_range(first, last)
    message = str(caught.value)
    assert message.startswith("range: ")
    assert says in message


@pytest.mark.parametrize(
    ("first", "last", "field"), [("SL", "SL-0001", "first"), ("SL-1", "x", "last")]
)
def test_a_range_with_a_bad_end_names_that_end(first: str, last: str, field: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^{field}: "):
        expand_range(first, last)


def test_a_range_of_at_most_max_range_seals_is_accepted_and_one_more_refused() -> None:
    assert len(expand_range("SL-000000", f"SL-{MAX_RANGE - 1:06d}")) == MAX_RANGE
    with pytest.raises(InvalidInput, match=rf"is {MAX_RANGE + 1} seals; at most {MAX_RANGE}"):
        expand_range("SL-000000", f"SL-{MAX_RANGE:06d}")


@st.composite
def printed_ranges(draw: st.DrawFn) -> tuple[str, int, int, int]:
    """A prefix (not ending in a digit), a digit width, and low and high ends that fit."""
    width = draw(st.integers(1, 12))
    size = draw(st.integers(max(0, 4 - width), 32 - width))
    if size == 0:
        prefix = ""
    elif size == 1:
        prefix = draw(st.sampled_from(string.ascii_uppercase))
    else:
        prefix = (
            draw(st.sampled_from(ALNUM))
            + draw(st.text(alphabet=SERIAL_CHARS, min_size=size - 2, max_size=size - 2))
            + draw(st.sampled_from(string.ascii_uppercase + "-"))
        )
    top = 10**width - 1
    low = draw(st.integers(0, top))
    high = low + draw(st.integers(0, min(300, top - low)))
    return prefix, width, low, high


@FEW
@given(printed_ranges(), st.booleans())
def test_a_range_gives_exactly_the_serials_between_its_ends(
    printed: tuple[str, int, int, int], lower_case: bool
) -> None:
    prefix, width, low, high = printed
    first, last = f"{prefix}{low:0{width}d}", f"{prefix}{high:0{width}d}"
    given_first, given_last = (first.lower(), last.lower()) if lower_case else (first, last)
    serials = expand_range(given_first, given_last)
    assert len(serials) == high - low + 1
    assert len(set(serials)) == len(serials)
    assert all(normalise_serial(s) == s for s in serials)
    assert serials == sorted(serials)
    assert serials[0] == first
    assert serials[-1] == last
    assert [int(s[len(prefix) :]) for s in serials] == list(range(low, high + 1))


def test_a_list_of_serials_is_checked_one_by_one_and_kept_in_order() -> None:
    assert serial_list([" sl-0002", "SL-0001", "ab-99"]) == ["SL-0002", "SL-0001", "AB-99"]
    assert serial_list(s for s in ["SL-0001"]) == ["SL-0001"]


def test_a_list_naming_a_serial_twice_is_refused_naming_only_the_repeats() -> None:
    with pytest.raises(InvalidInput) as caught:
        serial_list(["sl-0002", "SL-0001", "SL-0002", "SL-0003", "SL-0001"])
    message = str(caught.value)
    assert message == "serials: given more than once: SL-0001, SL-0002"
    assert "SL-0003" not in message


def test_many_repeats_are_summarised() -> None:
    repeated = [f"SL-000{n}" for n in range(7)]
    with pytest.raises(InvalidInput, match=r"SL-0004 and 2 more$"):
        serial_list(repeated + repeated)


def test_an_empty_list_of_serials_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^serials: give at least one serial"):
        serial_list([])


def test_a_list_of_at_most_max_list_serials_is_accepted_and_one_more_refused() -> None:
    assert len(serial_list(f"SL-{n:06d}" for n in range(MAX_LIST))) == MAX_LIST
    with pytest.raises(InvalidInput, match=rf"{MAX_LIST + 1} given; at most {MAX_LIST}"):
        serial_list(f"SL-{n:06d}" for n in range(MAX_LIST + 1))


def test_a_bad_serial_in_a_list_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^serials: 'SL 1' is not a seal serial") as bad:
        serial_list(["SL-0001", "SL 1"])
    assert bad.value.field == "serials"  # the field the list was typed into


def test_a_request_may_name_a_range_and_gets_the_range_back() -> None:
    serials, span = choose_serials("sl-0001", "sl-0003", None)
    assert serials == ["SL-0001", "SL-0002", "SL-0003"]
    assert span == ("SL-0001", "SL-0003")


def test_a_request_may_name_a_list_and_gets_no_range() -> None:
    assert choose_serials(None, None, ["sl-0009", "SL-0001"]) == (["SL-0009", "SL-0001"], None)
    assert choose_serials("", "", ["SL-0001"]) == (["SL-0001"], None)


def test_an_empty_list_beside_a_range_is_no_list() -> None:
    assert choose_serials("SL-0001", "SL-0002", []) == (
        ["SL-0001", "SL-0002"],
        ("SL-0001", "SL-0002"),
    )


@pytest.mark.parametrize(
    ("first", "last"), [("SL-0001", "SL-0002"), ("SL-0001", None), (None, "SL-0002")]
)
def test_a_request_naming_both_a_range_and_a_list_is_refused(
    first: str | None, last: str | None
) -> None:
    with pytest.raises(InvalidInput, match=r"either a range .* or a list, not both"):
        choose_serials(first, last, ["SL-0001"])


@pytest.mark.parametrize(
    ("first", "last", "serials"),
    [(None, None, None), (None, None, []), ("SL-0001", None, None), (None, "SL-0001", None)],
)
def test_a_request_naming_neither_a_whole_range_nor_a_list_is_refused(
    first: str | None, last: str | None, serials: list[str] | None
) -> None:
    with pytest.raises(InvalidInput, match=r"^serials: give a range \(first and last serial\)"):
        choose_serials(first, last, serials)


@pytest.mark.parametrize(
    ("given_class", "expected"), [("I", "I"), ("s", "S"), (" h ", "H"), ("i", "I")]
)
def test_an_iso_class_is_read_in_any_case_and_needs_no_description(
    given_class: str, expected: str
) -> None:
    assert seal_class(given_class, None) == (expected, None)
    assert seal_class(given_class, "ignored for an ISO class") == (expected, None)


@pytest.mark.parametrize("given_class", ["other", "OTHER", " Other "])
def test_another_class_keeps_the_suppliers_description_with_spaces_collapsed(
    given_class: str,
) -> None:
    assert seal_class(given_class, "  bolt   seal\tclass B ") == ("other", "bolt seal class B")


@pytest.mark.parametrize("description", ["abc", "x" * 80])
def test_another_class_description_may_be_3_to_80_characters(description: str) -> None:
    assert seal_class("other", description) == ("other", description)


@pytest.mark.parametrize("description", [None, "", "ab", " a \t ", "x" * 81])
def test_another_class_without_a_usable_description_is_refused(description: str | None) -> None:
    with pytest.raises(InvalidInput, match=r"^class_description: say in 3-80 characters"):
        seal_class("other", description)


@pytest.mark.parametrize("given_class", ["", "X", "ISO", "II", "others", "17712 H"])
def test_an_unknown_class_is_refused(given_class: str) -> None:
    with pytest.raises(InvalidInput, match=r"^seal_class: I, S or H"):
        seal_class(given_class, "a supplier class")


@pytest.mark.parametrize(
    ("code", "description", "printed"),
    [
        ("I", None, "ISO 17712 I (indicative)"),
        ("S", None, "ISO 17712 S (security)"),
        ("H", None, "ISO 17712 H (high security)"),
        ("other", "bolt seal class B", "other: bolt seal class B"),
    ],
)
def test_a_class_is_printed_in_words(code: str, description: str | None, printed: str) -> None:
    assert describe_class(code, description) == printed


# -- the lifecycle of one seal -----------------------------------------------------------------

# The lifecycle as the module docstring tells it, written out independently of MOVES.
ALLOWED = {
    (SealStatus.IN_STOCK, Move.ISSUED): SealStatus.ISSUED,
    (SealStatus.ISSUED, Move.RETURNED): SealStatus.IN_STOCK,
    (SealStatus.ISSUED, Move.FITTED): SealStatus.FITTED,
    (SealStatus.IN_STOCK, Move.VOIDED): SealStatus.VOID,
    (SealStatus.ISSUED, Move.VOIDED): SealStatus.VOID,
    (SealStatus.IN_STOCK, Move.LOST): SealStatus.LOST,
    (SealStatus.ISSUED, Move.LOST): SealStatus.LOST,
    (SealStatus.FITTED, Move.BROKEN): SealStatus.BROKEN,
}
STEPS = [step for step in Move if step is not Move.RECEIVED]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("status", list(SealStatus))
def test_a_step_moves_a_seal_only_where_the_lifecycle_allows(
    status: SealStatus, step: Move
) -> None:
    seal = a_seal(status, "SL-000123")
    if (status, step) in ALLOWED:
        assert move(seal, "SL-000123", step) is ALLOWED[status, step]
        assert MOVES[step][1] is ALLOWED[status, step]
    else:
        with pytest.raises(Conflict) as caught:
            move(seal, "SL-000123", step)
        message = str(caught.value)
        assert message == f"seal SL-000123 cannot be {step.value}: it is {seal.describe()}"


def test_every_step_but_receiving_is_in_the_lifecycle_table() -> None:
    assert set(MOVES) == set(STEPS)


@pytest.mark.parametrize("status", [SealStatus.BROKEN, SealStatus.VOID, SealStatus.LOST])
def test_a_broken_void_or_lost_seal_takes_no_further_step(status: SealStatus) -> None:
    for step in STEPS:
        with pytest.raises(Conflict):
            move(a_seal(status), "SL-000100", step)


def test_receiving_a_seal_already_in_the_register_is_refused_as_a_conflict() -> None:
    """``move`` should refuse every step a status does not allow, receiving included."""
    seal = a_seal(SealStatus.IN_STOCK, "SL-000123")
    with pytest.raises(Conflict, match=r"^seal SL-000123 cannot be received: it is in stock at"):
        move(seal, "SL-000123", Move.RECEIVED)


@pytest.mark.parametrize("step", list(Move))
def test_no_step_applies_to_a_seal_the_register_does_not_have(step: Move) -> None:
    with pytest.raises(NotFound, match=r"^seal SL-000404 is not in the seal register"):
        move(None, "SL-000404", step)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (SealStatus.IN_STOCK, "in stock at STORE-A"),
        (SealStatus.ISSUED, "issued to op-ann"),
        (SealStatus.FITTED, "fitted to device dev-1"),
        (SealStatus.BROKEN, "fitted to device dev-1 and found broken"),
        (SealStatus.VOID, "void"),
        (SealStatus.LOST, "recorded as lost"),
    ],
)
def test_a_seal_says_where_it_is(status: SealStatus, says: str) -> None:
    assert a_seal(status).describe() == says


def test_the_operator_it_is_issued_to_may_fit_a_seal_at_a_bench() -> None:
    seal = a_seal(SealStatus.ISSUED, holder="op-ann")
    assert check_fittable(seal, "SL-000100", "op-ann", "BENCH-1") is seal


def test_a_seal_issued_to_someone_else_may_not_be_fitted() -> None:
    seal = a_seal(SealStatus.ISSUED, holder="op-bob")
    with pytest.raises(Conflict) as caught:
        check_fittable(seal, "SL-000100", "op-ann", "BENCH-1")
    message = str(caught.value)
    assert message.startswith("seal SL-000100 is issued to op-bob, not to you")


def test_a_seal_in_stock_must_be_issued_before_it_is_fitted() -> None:
    seal = a_seal(SealStatus.IN_STOCK, store="STORE-B")
    with pytest.raises(Conflict) as caught:
        check_fittable(seal, "SL-000100", "op-ann", "BENCH-1")
    message = str(caught.value)
    assert message == "seal SL-000100 is in stock at STORE-B: stores must issue it to you"


@pytest.mark.parametrize(
    "status", [SealStatus.FITTED, SealStatus.BROKEN, SealStatus.VOID, SealStatus.LOST]
)
def test_a_seal_already_used_or_out_of_use_may_not_be_fitted(status: SealStatus) -> None:
    seal = a_seal(status, holder="op-ann")
    with pytest.raises(Conflict) as caught:
        check_fittable(seal, "SL-000100", "op-ann", "BENCH-1")
    assert str(caught.value) == f"seal SL-000100 cannot be fitted: it is {seal.describe()}"


def test_a_seal_is_fitted_only_at_a_bench() -> None:
    seal = a_seal(SealStatus.ISSUED, holder="op-ann")
    with pytest.raises(PermissionDenied, match="sign in at the bench"):
        check_fittable(seal, "SL-000100", "op-ann", None)


def test_a_seal_the_register_does_not_have_may_not_be_fitted() -> None:
    with pytest.raises(NotFound, match=r"^seal SL-000404 is not in the seal register"):
        check_fittable(None, "SL-000404", "op-ann", "BENCH-1")


# -- stocktakes --------------------------------------------------------------------------------


def test_a_stocktake_lists_seals_not_scanned_and_seals_scanned_that_should_not_be_there() -> None:
    elsewhere = a_seal(SealStatus.IN_STOCK, "SL-0004", store="STORE-B")
    fitted = a_seal(SealStatus.FITTED, "SL-0005", device_id="dev-9")
    known = {s.serial: s for s in (elsewhere, fitted)}
    result = compare_stocktake(
        "STORE-A",
        ["SL-0001", "SL-0002", "SL-0003"],
        ["SL-0006", "SL-0003", "SL-0005", "SL-0002", "SL-0004", "SL-0003"],
        known,
    )
    assert result.store == "STORE-A"
    assert result.expected == 3
    assert result.counted == 5
    assert result.missing == ["SL-0001"]
    assert result.unexpected == [
        ("SL-0004", "in stock at STORE-B"),
        ("SL-0005", "fitted to device dev-9"),
        ("SL-0006", "not in the seal register"),
    ]


def test_a_stocktake_that_finds_everything_has_nothing_to_explain() -> None:
    result = compare_stocktake("STORE-A", ["SL-0002", "SL-0001"], ["SL-0001", "SL-0002"], {})
    assert (result.expected, result.counted, result.missing, result.unexpected) == (2, 2, [], [])
    assert result.discrepancy_ids("st-1") == {}


SOME_SERIALS = [f"SL-{n:04d}" for n in range(30)]
serial_sets = st.sets(st.sampled_from(SOME_SERIALS), max_size=20)


@FEW
@given(in_stock=serial_sets, scanned=st.lists(st.sampled_from(SOME_SERIALS)))
def test_every_seal_is_either_scanned_missing_or_unexpected_and_counted_once(
    in_stock: set[str], scanned: list[str]
) -> None:
    result = compare_stocktake("STORE-A", sorted(in_stock, reverse=True), scanned, {})
    unexpected = [s for s, _ in result.unexpected]
    assert result.expected == len(in_stock)
    assert result.counted == len(set(scanned))
    assert result.missing == sorted(set(result.missing))
    assert unexpected == sorted(set(unexpected))
    for serial in in_stock:
        assert (serial in scanned) != (serial in result.missing)
    for serial in set(scanned):
        assert (serial in in_stock) != (serial in unexpected)
    assert set(result.missing) <= in_stock
    assert set(unexpected) <= set(scanned)
    assert all(said == "not in the seal register" for _, said in result.unexpected)


@FEW
@given(
    in_stock=serial_sets,
    scanned=serial_sets,
    first_id=st.text(max_size=40),
    second_id=st.text(max_size=40),
)
def test_stocktake_discrepancy_ids_are_stable_and_never_shared(
    in_stock: set[str], scanned: set[str], first_id: str, second_id: str
) -> None:
    result = compare_stocktake("STORE-A", in_stock, scanned, {})
    again = compare_stocktake("STORE-A", sorted(in_stock), sorted(scanned, reverse=True), {})
    ids = result.discrepancy_ids(first_id)
    assert again.discrepancy_ids(first_id) == ids
    assert set(ids) == {f"missing_at_stocktake:{s}" for s in result.missing} | {
        f"unexpected_at_stocktake:{s}" for s, _ in result.unexpected
    }
    assert len(set(ids.values())) == len(ids)
    if first_id != second_id:
        assert not set(ids.values()) & set(result.discrepancy_ids(second_id).values())


# -- reconciliation: a reference simulator -----------------------------------------------------


@dataclass
class History:
    """What a reference simulator did: every movement, every seal as it is now, and its own
    count of each step by each operator."""

    movements: list[Movement] = field(default_factory=list)
    seals: dict[str, Seal] = field(default_factory=dict)
    batches: list[str] = field(default_factory=list)
    by_operator: Counter[tuple[str, Move]] = field(default_factory=Counter)

    def receive(self, store: str, size: int) -> None:
        batch_id = f"batch-{len(self.batches) + 1}"
        self.batches.append(batch_id)
        for _ in range(size):
            serial = f"SL-{len(self.seals) + 1:06d}"
            self.seals[serial] = Seal(
                serial, batch_id, SealStatus.IN_STOCK, store, None, None, None, None, T0
            )
            self.movements.append(Movement(serial, batch_id, Move.RECEIVED, store, None))

    def step(
        self,
        serial: str,
        step: Move,
        status: SealStatus,
        store: str | None,
        operator_id: str | None,
        /,
        **changes: str | None,
    ) -> None:
        """Record ``step`` (with the store and operator the Movement docstring asks for) and
        put the seal in ``status`` with ``changes``."""
        before = self.seals[serial]
        assert move(before, serial, step) is status, "the lifecycle table disagrees"
        self.movements.append(Movement(serial, before.batch_id, step, store, operator_id))
        updates: dict[str, Any] = {"status": status, **changes}
        after = replace(before, **updates)
        self.seals[serial] = after
        if operator_id is not None:
            self.by_operator[operator_id, step] += 1

    def in_status(self, *statuses: SealStatus) -> list[str]:
        return sorted(s.serial for s in self.seals.values() if s.status in statuses)

    def scopes(self) -> list[Scope]:
        return [
            Scope(ScopeKind.FACILITY),
            *(Scope(ScopeKind.OPERATOR, op) for op in OPERATORS),
            *(Scope(ScopeKind.STORE, store) for store in STORES),
            *(Scope(ScopeKind.BATCH, batch) for batch in self.batches),
        ]


def simulate(data: st.DataObject, max_steps: int = 25) -> History:
    """A random history of valid steps, starting with one batch received."""
    h = History()
    h.receive(data.draw(st.sampled_from(STORES)), data.draw(st.integers(1, 3)))
    for _ in range(data.draw(st.integers(0, max_steps))):
        in_stock, issued = h.in_status(SealStatus.IN_STOCK), h.in_status(SealStatus.ISSUED)
        fitted = h.in_status(SealStatus.FITTED)
        kinds = ["receive"]
        kinds += ["issue"] if in_stock else []
        kinds += ["return", "fit"] if issued else []
        kinds += ["void", "lose"] if in_stock or issued else []
        kinds += ["break"] if fitted else []
        kind = data.draw(st.sampled_from(kinds))
        if kind == "receive":
            h.receive(data.draw(st.sampled_from(STORES)), data.draw(st.integers(1, 3)))
        elif kind == "issue":
            serial = data.draw(st.sampled_from(in_stock))
            operator = data.draw(st.sampled_from(OPERATORS))
            store = h.seals[serial].store
            h.step(serial, Move.ISSUED, SealStatus.ISSUED, store, operator, holder=operator)
        elif kind == "return":
            serial = data.draw(st.sampled_from(issued))
            into = data.draw(st.sampled_from(STORES))
            holder = h.seals[serial].holder
            h.step(serial, Move.RETURNED, SealStatus.IN_STOCK, into, holder, store=into)
        elif kind == "fit":
            serial = data.draw(st.sampled_from(issued))
            device = f"dev-{data.draw(st.integers(1, 5))}"
            holder = h.seals[serial].holder
            h.step(serial, Move.FITTED, SealStatus.FITTED, None, holder, device_id=device)
        elif kind in ("void", "lose"):
            serial = data.draw(st.sampled_from(in_stock + issued))
            seal = h.seals[serial]
            step, status = (
                (Move.VOIDED, SealStatus.VOID) if kind == "void" else (Move.LOST, SealStatus.LOST)
            )
            if seal.status is SealStatus.ISSUED:
                h.step(serial, step, status, None, seal.holder)
            else:
                h.step(serial, step, status, seal.store, None)
        else:
            serial = data.draw(st.sampled_from(fitted))
            h.step(serial, Move.BROKEN, SealStatus.BROKEN, None, None)
    return h


def facility_balanced(movements: list[Movement], seals: list[Seal]) -> bool:
    scope = Scope(ScopeKind.FACILITY)
    return reconcile(scope, T0, tally(movements, seals, scope), []).balanced


@FEW
@given(st.data())
def test_every_scope_balances_for_any_valid_history(data: st.DataObject) -> None:
    h = simulate(data)
    seals = list(h.seals.values())
    for scope in h.scopes():
        result = reconcile(scope, T0, tally(h.movements, seals, scope), [])
        assert [e.statement() for e in result.equations if not e.balanced] == [], scope
        assert result.balanced
        assert result.clean


@FEW
@given(st.data())
def test_an_operator_is_accounted_for_every_seal_issued_to_them(data: st.DataObject) -> None:
    h = simulate(data)
    seals = list(h.seals.values())
    for operator in OPERATORS:
        scope = Scope(ScopeKind.OPERATOR, operator)
        f = tally(h.movements, seals, scope)
        [issue] = reconcile(scope, T0, f, []).equations
        assert issue.name == "issued"
        assert issue.left == (("issued", h.by_operator[operator, Move.ISSUED]),)
        held = sum(1 for s in seals if s.status is SealStatus.ISSUED and s.holder == operator)
        assert dict(issue.right) == {
            "fitted": h.by_operator[operator, Move.FITTED],
            "returned": h.by_operator[operator, Move.RETURNED],
            "void_while_held": h.by_operator[operator, Move.VOIDED],
            "lost_while_held": h.by_operator[operator, Move.LOST],
            "held": held,
        }
        # issued = fitted + returned + void + lost + still held, as the module docstring says
        assert f["issued"] == (
            f["fitted"] + f["returned"] + f["void_while_held"] + f["lost_while_held"] + f["held"]
        )


@FEW
@given(st.data())
def test_the_facility_figures_count_every_seal_and_every_step(data: st.DataObject) -> None:
    h = simulate(data)
    seals = list(h.seals.values())
    f = tally(h.movements, seals, Scope(ScopeKind.FACILITY))
    assert f["received"] == len(h.seals)
    assert sum(f[k] for k in MOVEMENT_FIGURES) == len(h.movements)
    assert sum(f[k] for k in HOLDING_FIGURES) == len(h.seals)
    assert f["in_stock"] == len(h.in_status(SealStatus.IN_STOCK))
    assert f["held"] == len(h.in_status(SealStatus.ISSUED))
    # received + returned = issued + void + lost (from stock) + still in stock
    assert f["received"] + f["returned"] == (
        f["issued"] + f["void_from_stock"] + f["lost_from_stock"] + f["in_stock"]
    )


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_single_lost_movement_or_edited_seal_breaks_the_facility_sums(
    data: st.DataObject,
) -> None:
    h = simulate(data)
    seals = list(h.seals.values())
    assert facility_balanced(h.movements, seals)
    for i, dropped in enumerate(h.movements):
        fewer = h.movements[:i] + h.movements[i + 1 :]
        assert not facility_balanced(fewer, seals), f"losing {dropped} went unnoticed"
    for i, seal in enumerate(seals):
        for status in SealStatus:
            if status is seal.status:
                continue
            edited = [*seals[:i], replace(seal, status=status), *seals[i + 1 :]]
            assert not facility_balanced(h.movements, edited), (
                f"editing {seal.serial} from {seal.status} to {status} went unnoticed"
            )


def test_a_small_history_gives_the_figures_counted_by_hand() -> None:
    h = History()
    h.receive("STORE-A", 3)  # SL-000001..3 in batch-1
    h.receive("STORE-B", 1)  # SL-000004 in batch-2
    h.step("SL-000001", Move.ISSUED, SealStatus.ISSUED, "STORE-A", "op-ann", holder="op-ann")
    h.step("SL-000002", Move.ISSUED, SealStatus.ISSUED, "STORE-A", "op-ann", holder="op-ann")
    h.step("SL-000001", Move.FITTED, SealStatus.FITTED, None, "op-ann", device_id="dev-1")
    h.step("SL-000002", Move.RETURNED, SealStatus.IN_STOCK, "STORE-B", "op-ann", store="STORE-B")
    h.step("SL-000003", Move.VOIDED, SealStatus.VOID, "STORE-A", None)
    h.step("SL-000001", Move.BROKEN, SealStatus.BROKEN, None, None)
    seals = list(h.seals.values())

    facility = tally(h.movements, seals, Scope(ScopeKind.FACILITY))
    assert facility == zero_figures(
        received=4,
        issued=2,
        returned=1,
        fitted=1,
        broken=1,
        void_from_stock=1,
        in_stock=2,
        broken_now=1,
        void_now=1,
    )
    store_a = tally(h.movements, seals, Scope(ScopeKind.STORE, "STORE-A"))
    assert store_a == zero_figures(received=3, issued=2, void_from_stock=1)
    store_b = tally(h.movements, seals, Scope(ScopeKind.STORE, "STORE-B"))
    assert store_b == zero_figures(received=1, returned=1, in_stock=2)
    ann = tally(h.movements, seals, Scope(ScopeKind.OPERATOR, "op-ann"))
    assert ann == zero_figures(issued=2, fitted=1, returned=1)
    batch_2 = tally(h.movements, seals, Scope(ScopeKind.BATCH, "batch-2"))
    assert batch_2 == zero_figures(received=1, in_stock=1)


def test_a_seal_edited_behind_the_ledgers_back_shows_in_its_store_and_operator_sums() -> None:
    h = History()
    h.receive("STORE-A", 2)
    h.step("SL-000001", Move.ISSUED, SealStatus.ISSUED, "STORE-A", "op-ann", holder="op-ann")
    seals = [replace(s, status=SealStatus.IN_STOCK) for s in h.seals.values()]
    for scope in (Scope(ScopeKind.STORE, "STORE-A"), Scope(ScopeKind.OPERATOR, "op-ann")):
        result = reconcile(scope, T0, tally(h.movements, seals, scope), [])
        assert not result.balanced, scope
        assert not result.clean


# -- equations and the reconciliation report ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        (ScopeKind.OPERATOR, ["issued"]),
        (ScopeKind.STORE, ["stock"]),
        (ScopeKind.BATCH, ["issued", "stock", "fitted", "broken", "void", "lost", "count"]),
        (ScopeKind.FACILITY, ["issued", "stock", "fitted", "broken", "void", "lost", "count"]),
    ],
)
def test_each_scope_is_accounted_by_its_own_sums(kind: ScopeKind, names: list[str]) -> None:
    scope = Scope(kind, None if kind is ScopeKind.FACILITY else "x")
    assert [e.name for e in equations(scope, zero_figures())] == names


def test_an_equation_states_its_sum_in_words() -> None:
    right = (("fitted", 6), ("returned", 1), ("void_while_held", 0), ("lost_while_held", 0))
    balanced = Equation("issued", (("issued", 10),), (*right, ("held", 3)))
    assert balanced.balanced
    assert balanced.statement() == (
        "issued 10 = fitted 6 + returned 1 + void while held 0 + lost while held 0 + held 3 "
        "(balanced)"
    )
    short = Equation("issued", (("issued", 10),), (*right, ("held", 2)))
    assert not short.balanced
    assert short.statement().endswith("held 2 (DOES NOT BALANCE)")
    assert short.to_json() == {
        "name": "issued",
        "left": {"issued": 10},
        "right": {
            "fitted": 6,
            "returned": 1,
            "void_while_held": 0,
            "lost_while_held": 0,
            "held": 2,
        },
        "balanced": False,
        "statement": short.statement(),
    }


DISCREPANCIES = [
    a_discrepancy("SL-0001", batch_id="b1", store="STORE-A", raised_at=T0 + timedelta(hours=2)),
    a_discrepancy(
        "SL-0002", batch_id="b2", operator_id="op-ann", raised_at=T0 + timedelta(hours=1)
    ),
    a_discrepancy("SL-0003", batch_id="b1", store="STORE-B", raised_at=T0 + timedelta(hours=1)),
    a_discrepancy(
        "SL-0000", batch_id="b2", operator_id="op-bob", raised_at=T0 + timedelta(hours=1)
    ),
]


@pytest.mark.parametrize(
    ("scope", "serials"),
    [
        (Scope(ScopeKind.FACILITY), ["SL-0000", "SL-0002", "SL-0003", "SL-0001"]),
        (Scope(ScopeKind.OPERATOR, "op-ann"), ["SL-0002"]),
        (Scope(ScopeKind.OPERATOR, "op-cat"), []),
        (Scope(ScopeKind.STORE, "STORE-A"), ["SL-0001"]),
        (Scope(ScopeKind.BATCH, "b1"), ["SL-0003", "SL-0001"]),
        (Scope(ScopeKind.BATCH, "b2"), ["SL-0000", "SL-0002"]),
    ],
)
def test_a_reconciliation_lists_only_its_scopes_discrepancies_oldest_first(
    scope: Scope, serials: list[str]
) -> None:
    result = reconcile(scope, T0, zero_figures(), DISCREPANCIES)
    assert [d.serial for d in result.discrepancies] == serials
    assert result.balanced
    assert result.clean is (serials == [])


def test_a_reconciliation_is_clean_only_when_balanced_with_nothing_to_explain() -> None:
    facility = Scope(ScopeKind.FACILITY)
    balanced = zero_figures(received=2, in_stock=2)
    unbalanced = zero_figures(received=2, in_stock=1)
    assert reconcile(facility, T0, balanced, []).clean
    assert not reconcile(facility, T0, balanced, DISCREPANCIES[:1]).clean
    off = reconcile(facility, T0, unbalanced, [])
    assert not off.balanced
    assert not off.clean
    assert [e.name for e in off.equations if not e.balanced] == ["stock", "count"]


def test_a_reconciliation_report_carries_figures_sums_and_discrepancies() -> None:
    scope = Scope(ScopeKind.STORE, "STORE-A")
    figures = zero_figures(received=5, issued=2, in_stock=2)
    result = reconcile(scope, T0, figures, DISCREPANCIES)
    assert isinstance(result, Reconciliation)
    report = result.to_json()
    assert report["scope"] == {"kind": "store", "id": "STORE-A"}
    assert report["at"] == "2026-03-01T12:00:00.000000Z"
    assert report["figures"] == figures
    assert report["balanced"] is False
    [stock] = report["equations"]
    assert stock["name"] == "stock"
    assert stock["balanced"] is False
    assert stock["statement"] == (
        "received 5 + returned 0 = issued 2 + void from stock 0 + lost from stock 0 + "
        "in stock 2 (DOES NOT BALANCE)"
    )
    [listed] = report["discrepancies"]
    assert listed["serial"] == "SL-0001"
    assert listed["kind"] == "lost"
    assert listed["raised_at"] == "2026-03-01T14:00:00.000000Z"
    assert listed["resolved_at"] is None


def test_a_reconciliation_keeps_only_the_figures_it_knows() -> None:
    result = reconcile(Scope(ScopeKind.FACILITY), T0, zero_figures(extra=7), [])
    assert set(result.figures) == set(ALL_FIGURES)


@pytest.mark.parametrize("lacking", ALL_FIGURES)
def test_a_reconciliation_refuses_figures_missing_a_count(lacking: str) -> None:
    figures = zero_figures()
    del figures[lacking]
    with pytest.raises(ValueError, match=f"figures lack {lacking}$"):
        reconcile(Scope(ScopeKind.FACILITY), T0, figures, [])


# -- scopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "scope_id", "expected"),
    [
        ("facility", None, Scope(ScopeKind.FACILITY)),
        ("facility", "", Scope(ScopeKind.FACILITY)),
        ("operator", " op-ann ", Scope(ScopeKind.OPERATOR, "op-ann")),
        ("store", " store-a ", Scope(ScopeKind.STORE, "STORE-A")),
        ("store", "main.store_2", Scope(ScopeKind.STORE, "MAIN.STORE_2")),
        ("batch", "b-1", Scope(ScopeKind.BATCH, "b-1")),
    ],
)
def test_a_scope_is_read_from_request_parameters(
    kind: str, scope_id: str | None, expected: Scope
) -> None:
    assert Scope.parse(kind, scope_id) == expected


def test_the_facility_scope_takes_no_id() -> None:
    with pytest.raises(InvalidInput, match=r"^scope_id: the facility scope takes no id"):
        Scope.parse("facility", "STORE-A")


@pytest.mark.parametrize("kind", ["operator", "store", "batch"])
@pytest.mark.parametrize("scope_id", [None, "", "   "])
def test_an_operator_store_or_batch_scope_needs_an_id(kind: str, scope_id: str | None) -> None:
    with pytest.raises(InvalidInput, match=f"^scope_id: name the {kind} to reconcile"):
        Scope.parse(kind, scope_id)


@pytest.mark.parametrize("scope_id", ["store a", "-STORE", "S" * 33])
def test_a_store_scope_needs_a_store_location_code(scope_id: str) -> None:
    with pytest.raises(InvalidInput, match=r"^store: a store location is 1-32"):
        Scope.parse("store", scope_id)


@pytest.mark.parametrize("kind", ["device", "", "everything", "stores"])
def test_an_unknown_scope_is_refused(kind: str) -> None:
    with pytest.raises(InvalidInput, match=r"^scope: facility, operator, store or batch$"):
        Scope.parse(kind, "x")


@pytest.mark.parametrize("typed", ["ſl-000100", "ＳＬ-000100", "SL-00０1", "ﬁ-0001"])
def test_a_serial_with_letters_that_only_look_ascii_is_refused(typed: str) -> None:
    # Upper-casing 'ſ' gives 'S' and 'ﬁ' gives 'FI': a serial must be refused, not rewritten.
    with pytest.raises(InvalidInput, match="is not a seal serial"):
        normalise_serial(typed)


def test_a_blank_facility_id_is_the_same_as_none() -> None:
    assert Scope.parse("facility", "  ") == Scope(ScopeKind.FACILITY)
