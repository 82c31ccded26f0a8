"""Tamper-protection seals: serials and batches, each seal's lifecycle, stocktakes, and the
reconciliation arithmetic that accounts for every seal.

A seal is received into a store in a batch, issued to a named operator, and then fitted to a
named device, returned to stock, voided (damaged) or lost; a fitted seal may later be found
broken. Every step is a *movement*; what each seal is now is its *holding*. Reconciliation
counts both, independently, and checks that they agree:

* the issue equation: issued = fitted + returned + void + lost + still held;
* the stock equation: received + returned = issued + void + lost + still in stock;
* one equation per state, tying the seals in that state to the movements that put them there.

Any seal whose movements and holding disagree (a row edited behind the ledger's back, a lost
event) breaks at least one equation. Discrepancies (a seal lost, missing or unexpected at a
stocktake, found broken) are listed with the figures until someone resolves them.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import format_time

SERIAL_RULE = "a seal serial is 4-32 letters, digits or hyphens, as printed on the seal"
_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")
_TAIL = re.compile(r"^(.*?)(\d+)$")
_STORE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
MAX_RANGE = 100_000
MAX_LIST = 10_000
# The unused-seals report: seals issued to a person and not fitted for this many days.
DEFAULT_UNUSED_DAYS = 7
ISO_CLASSES = {
    "I": "ISO 17712 I (indicative)",
    "S": "ISO 17712 S (security)",
    "H": "ISO 17712 H (high security)",
}
OTHER_CLASS = "other"
# Discrepancy ids of a stocktake are derived from it, so a replay makes the same ones.
_STOCKTAKE_NS = uuid.UUID("6c1f5b0e-7d0a-4f43-9f1e-5e3b2a9a41c7")


def normalise_serial(text: str, field: str = "serial") -> str:
    """A serial as stored: trimmed, upper case, checked against the rule."""
    serial = text.strip()
    # Checked as ASCII first: upper-casing some other letters yields ASCII ones ('ſ' -> 'S').
    serial = serial.upper() if serial.isascii() else serial
    if not _SERIAL.match(serial):
        shown = text.strip()[:40] or "(empty)"
        raise InvalidInput(f"{field}: {shown!r} is not a seal serial: {SERIAL_RULE}")
    return serial


def normalise_store(text: str) -> str:
    """A store location code: 1-32 letters, digits, dots, hyphens or underscores."""
    store = text.strip().upper()
    if not _STORE.match(store):
        raise InvalidInput(
            "store: a store location is 1-32 letters, digits, '.', '-' or '_' (like STORE-A)"
        )
    return store


def expand_range(first: str, last: str) -> list[str]:
    """Every serial from ``first`` to ``last``, counting in the digits they end with.

    Both ends must share everything before those digits and write them with the same number of
    digits (``SL-000100`` to ``SL-000199``), so that the range is exactly what is printed.
    """
    start, end = normalise_serial(first, "first"), normalise_serial(last, "last")
    head, tail = _TAIL.match(start), _TAIL.match(end)
    if head is None or tail is None:
        raise InvalidInput(
            f"range: {start} to {end}: both ends must end in digits (like SL-000100 to "
            "SL-000199); give a list of serials otherwise"
        )
    if head.group(1) != tail.group(1):
        raise InvalidInput(
            f"range: {start} and {end} differ before their final digits ({head.group(1)!r} and "
            f"{tail.group(1)!r}); a range counts only in the digits at the end"
        )
    width = len(head.group(2))
    if len(tail.group(2)) != width:
        raise InvalidInput(
            f"range: {start} and {end} have different numbers of final digits; write both ends "
            "as printed, with the same zero padding"
        )
    low, high = int(head.group(2)), int(tail.group(2))
    if low > high:
        raise InvalidInput(f"range: {start} comes after {end}; give the lower serial first")
    if high - low + 1 > MAX_RANGE:
        raise InvalidInput(
            f"range: {start} to {end} is {high - low + 1} seals; at most {MAX_RANGE} at a time"
        )
    prefix = head.group(1)
    return [f"{prefix}{n:0{width}d}" for n in range(low, high + 1)]


def serial_list(serials: Iterable[str]) -> list[str]:
    """Serials given one by one: each checked (a bad one named as in ``serials``), none twice,
    at most ``MAX_LIST``."""
    cleaned = [normalise_serial(s, "serials") for s in serials]
    if not cleaned:
        raise InvalidInput("serials: give at least one serial, or a range")
    if len(cleaned) > MAX_LIST:
        raise InvalidInput(f"serials: {len(cleaned)} given; at most {MAX_LIST} at a time")
    twice = sorted(s for s, n in Counter(cleaned).items() if n > 1)
    if twice:
        raise InvalidInput(f"serials: given more than once: {_some(twice)}")
    return cleaned


def choose_serials(
    first: str | None, last: str | None, serials: Sequence[str] | None
) -> tuple[list[str], tuple[str, str] | None]:
    """The serials of a request that names a range or a list (not both): and the range."""
    if serials:
        if first or last:
            raise InvalidInput("serials: give either a range (first and last) or a list, not both")
        return serial_list(serials), None
    if not first or not last:
        raise InvalidInput("serials: give a range (first and last serial) or a list of serials")
    expanded = expand_range(first, last)
    return expanded, (expanded[0], expanded[-1])


def seal_class(iso_class: str, description: str | None) -> tuple[str, str | None]:
    """An ISO 17712 class (I, S, H), or 'other' with the class the supplier states."""
    code = iso_class.strip()
    if code.upper() in ISO_CLASSES:
        return code.upper(), None
    if code.lower() != OTHER_CLASS:
        raise InvalidInput(
            "seal_class: I, S or H (ISO 17712 indicative, security, high security), or 'other' "
            "with a class_description"
        )
    text = " ".join((description or "").split())
    if not 3 <= len(text) <= 80:
        raise InvalidInput(
            "class_description: say in 3-80 characters which class the supplier states"
        )
    return OTHER_CLASS, text


def describe_class(code: str, description: str | None) -> str:
    """The class as printed on a label or report."""
    return ISO_CLASSES.get(code) or f"other: {description}"


def _some(serials: Sequence[str], shown: int = 5) -> str:
    head = ", ".join(serials[:shown])
    return head if len(serials) <= shown else f"{head} and {len(serials) - shown} more"


# -- the lifecycle of one seal ---------------------------------------------------------------


class SealStatus(StrEnum):
    """Where a seal is."""

    IN_STOCK = "in_stock"
    ISSUED = "issued"
    FITTED = "fitted"
    BROKEN = "broken"
    VOID = "void"
    LOST = "lost"


class Move(StrEnum):
    """A step in a seal's life; each is recorded by a ledger entry."""

    RECEIVED = "received"
    ISSUED = "issued"
    RETURNED = "returned"
    FITTED = "fitted"
    VOIDED = "voided"
    LOST = "lost"
    BROKEN = "broken"


_S = SealStatus
MOVES: dict[Move, tuple[frozenset[SealStatus], SealStatus]] = {
    Move.ISSUED: (frozenset({_S.IN_STOCK}), _S.ISSUED),
    Move.RETURNED: (frozenset({_S.ISSUED}), _S.IN_STOCK),
    Move.FITTED: (frozenset({_S.ISSUED}), _S.FITTED),
    Move.VOIDED: (frozenset({_S.IN_STOCK, _S.ISSUED}), _S.VOID),
    Move.LOST: (frozenset({_S.IN_STOCK, _S.ISSUED}), _S.LOST),
    Move.BROKEN: (frozenset({_S.FITTED}), _S.BROKEN),
}


@dataclass(frozen=True)
class Seal:
    """One seal as it is now."""

    serial: str
    batch_id: str
    status: SealStatus
    store: str | None  # the store it is in (in stock) or was last in
    holder: str | None  # the operator it is (or was last) issued to
    device_id: str | None
    job_id: str | None
    issued_at: datetime | None
    status_at: datetime

    def describe(self) -> str:
        """Where the seal is, in words, for messages and stocktake reports."""
        match self.status:
            case SealStatus.IN_STOCK:
                return f"in stock at {self.store}"
            case SealStatus.ISSUED:
                return f"issued to {self.holder}"
            case SealStatus.FITTED:
                return f"fitted to device {self.device_id}"
            case SealStatus.BROKEN:
                return f"fitted to device {self.device_id} and found broken"
            case SealStatus.VOID:
                return "void"
            case _:
                return "recorded as lost"


def move(seal: Seal | None, serial: str, step: Move) -> SealStatus:
    """The seal's status after ``step``; refuses a step its status does not allow."""
    if seal is None:
        raise NotFound(
            f"seal {serial} is not in the seal register: receive its batch into stock first"
        )
    sources, target = MOVES.get(step, (frozenset(), seal.status))
    if seal.status not in sources:
        raise Conflict(f"seal {serial} cannot be {step.value}: it is {seal.describe()}")
    return target


def check_fittable(seal: Seal | None, serial: str, operator_id: str, bench: str | None) -> Seal:
    """A seal may be fitted only by the operator it is issued to, signed in at a bench."""
    if seal is None:
        raise NotFound(
            f"seal {serial} is not in the seal register: fit a seal issued to you by stores"
        )
    if seal.status is SealStatus.ISSUED and seal.holder != operator_id:
        raise Conflict(
            f"seal {serial} is issued to {seal.holder}, not to you: fit a seal issued to you, or "
            "ask stores to issue this one to you"
        )
    if seal.status is SealStatus.IN_STOCK:
        raise Conflict(f"seal {serial} is in stock at {seal.store}: stores must issue it to you")
    move(seal, serial, Move.FITTED)
    if bench is None:
        raise PermissionDenied(
            "seals are fitted at a bench: sign in at the bench (a bench session or bench token)"
        )
    return seal


# -- discrepancies and stocktakes ------------------------------------------------------------


class DiscrepancyKind(StrEnum):
    """What needs explaining."""

    LOST = "lost"
    MISSING = "missing_at_stocktake"
    UNEXPECTED = "unexpected_at_stocktake"
    BROKEN = "broken"


@dataclass(frozen=True)
class Discrepancy:
    """One thing about seals that someone must explain and resolve."""

    id: str
    kind: DiscrepancyKind
    serial: str
    batch_id: str | None
    store: str | None
    operator_id: str | None
    device_id: str | None
    detail: str
    status: str
    raised_by: str
    raised_at: datetime
    resolved_by: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None

    def in_scope(self, scope: Scope) -> bool:
        """Whether this discrepancy belongs to the operator, store or batch of ``scope``."""
        return scope.covers(self.operator_id, self.store, self.batch_id)


@dataclass(frozen=True)
class StocktakeResult:
    """What stores counted against what the register says is in that store."""

    store: str
    expected: int
    counted: int
    missing: list[str]
    unexpected: list[tuple[str, str]]  # serial, what the register says of it

    def discrepancy_ids(self, stocktake_id: str) -> dict[str, str]:
        """A stable id for each missing or unexpected seal of stocktake ``stocktake_id``."""
        keys = [f"{DiscrepancyKind.MISSING}:{s}" for s in self.missing] + [
            f"{DiscrepancyKind.UNEXPECTED}:{s}" for s, _ in self.unexpected
        ]
        return {key: str(uuid.uuid5(_STOCKTAKE_NS, f"{stocktake_id}:{key}")) for key in keys}


def compare_stocktake(
    store: str, in_stock: Iterable[str], scanned: Iterable[str], known: Mapping[str, Seal]
) -> StocktakeResult:
    """Seals the register has in ``store`` but nobody scanned, and seals scanned that it
    does not have there (with what it says of them). A seal scanned twice counts once."""
    expected = set(in_stock)
    counted = set(scanned)
    unexpected = [
        (serial, known[serial].describe() if serial in known else "not in the seal register")
        for serial in sorted(counted - expected)
    ]
    return StocktakeResult(
        store, len(expected), len(counted), sorted(expected - counted), unexpected
    )


# -- reconciliation --------------------------------------------------------------------------


class ScopeKind(StrEnum):
    """What a reconciliation covers."""

    FACILITY = "facility"
    OPERATOR = "operator"
    STORE = "store"
    BATCH = "batch"


@dataclass(frozen=True)
class Scope:
    """The facility, or one operator, store or batch."""

    kind: ScopeKind
    id: str | None = None

    @classmethod
    def parse(cls, kind: str, scope_id: str | None) -> Scope:
        """Checked scope from request parameters."""
        try:
            scope_kind = ScopeKind(kind)
        except ValueError:
            raise InvalidInput("scope: facility, operator, store or batch") from None
        if scope_kind is ScopeKind.FACILITY:
            if scope_id and scope_id.strip():
                raise InvalidInput("scope_id: the facility scope takes no id")
            return cls(scope_kind)
        if not scope_id or not scope_id.strip():
            raise InvalidInput(f"scope_id: name the {scope_kind.value} to reconcile")
        cleaned = scope_id.strip()
        if scope_kind is ScopeKind.STORE:
            cleaned = normalise_store(cleaned)
        return cls(scope_kind, cleaned)

    def covers(self, operator_id: str | None, store: str | None, batch_id: str | None) -> bool:
        """Whether something of this operator, store and batch falls in the scope."""
        match self.kind:
            case ScopeKind.FACILITY:
                return True
            case ScopeKind.OPERATOR:
                return operator_id == self.id
            case ScopeKind.STORE:
                return store == self.id
            case _:
                return batch_id == self.id

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "id": self.id}


@dataclass(frozen=True)
class Movement:
    """One step of one seal, as reconciliation counts it.

    ``store`` is set for steps into or out of a store (received, issued, returned, and void
    or lost from stock); ``operator_id`` for steps of a seal an operator holds (issued to,
    returned by, fitted, void or lost while held). A fitted seal found broken has neither.
    """

    serial: str
    batch_id: str
    move: Move
    store: str | None
    operator_id: str | None


# The figures a reconciliation reports: counts of movements, then of holdings (seals now).
MOVEMENT_FIGURES = (
    "received",
    "issued",
    "returned",
    "fitted",
    "broken",
    "void_from_stock",
    "void_while_held",
    "lost_from_stock",
    "lost_while_held",
)
HOLDING_FIGURES = ("in_stock", "held", "fitted_now", "broken_now", "void_now", "lost_now")
_NOW = {
    SealStatus.IN_STOCK: "in_stock",
    SealStatus.ISSUED: "held",
    SealStatus.FITTED: "fitted_now",
    SealStatus.BROKEN: "broken_now",
    SealStatus.VOID: "void_now",
    SealStatus.LOST: "lost_now",
}


def movement_figure(step: Move, held: bool) -> str:
    """The figure a movement counts towards (void and lost split by where the seal was)."""
    if step in (Move.VOIDED, Move.LOST):
        base = "void" if step is Move.VOIDED else "lost"
        return f"{base}_while_held" if held else f"{base}_from_stock"
    return step.value


def holding_figure(status: SealStatus) -> str:
    """The figure a seal in ``status`` counts towards."""
    return _NOW[status]


def movement_in_scope(m: Movement, scope: Scope) -> bool:
    return scope.covers(m.operator_id, m.store, m.batch_id)


def holding_in_scope(seal: Seal, scope: Scope) -> bool:
    match scope.kind:
        case ScopeKind.FACILITY:
            return True
        case ScopeKind.OPERATOR:
            return seal.status is SealStatus.ISSUED and seal.holder == scope.id
        case ScopeKind.STORE:
            return seal.status is SealStatus.IN_STOCK and seal.store == scope.id
        case _:
            return seal.batch_id == scope.id


def tally(movements: Iterable[Movement], seals: Iterable[Seal], scope: Scope) -> dict[str, int]:
    """Every figure for ``scope``, counted from the movements and the seals as they are now.

    (The database counts the same figures with GROUP BY; this is the reference.)
    """
    figures = dict.fromkeys(MOVEMENT_FIGURES + HOLDING_FIGURES, 0)
    for m in movements:
        if movement_in_scope(m, scope):
            figures[movement_figure(m.move, m.operator_id is not None)] += 1
    for seal in seals:
        if holding_in_scope(seal, scope):
            figures[holding_figure(seal.status)] += 1
    return figures


@dataclass(frozen=True)
class Equation:
    """One sum that must balance: ``left`` total equals ``right`` total."""

    name: str
    left: tuple[tuple[str, int], ...]
    right: tuple[tuple[str, int], ...]

    @property
    def balanced(self) -> bool:
        return sum(n for _, n in self.left) == sum(n for _, n in self.right)

    def statement(self) -> str:
        """Like 'issued 10 = fitted 6 + returned 1 + ... (balanced)'."""

        def side(terms: tuple[tuple[str, int], ...]) -> str:
            return " + ".join(f"{name.replace('_', ' ')} {n}" for name, n in terms)

        verdict = "balanced" if self.balanced else "DOES NOT BALANCE"
        return f"{side(self.left)} = {side(self.right)} ({verdict})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "left": dict(self.left),
            "right": dict(self.right),
            "balanced": self.balanced,
            "statement": self.statement(),
        }


def _eq(name: str, f: Mapping[str, int], left: Sequence[str], right: Sequence[str]) -> Equation:
    return Equation(name, tuple((k, f[k]) for k in left), tuple((k, f[k]) for k in right))


def equations(scope: Scope, f: Mapping[str, int]) -> list[Equation]:
    """The sums that must balance for ``scope``.

    An operator is accounted by the issue equation, a store by the stock equation; a batch and
    the facility by both, by one equation per state, and by the count of seals received.
    """
    issue = _eq(
        "issued",
        f,
        ["issued"],
        ["fitted", "returned", "void_while_held", "lost_while_held", "held"],
    )
    stock = _eq(
        "stock",
        f,
        ["received", "returned"],
        ["issued", "void_from_stock", "lost_from_stock", "in_stock"],
    )
    if scope.kind is ScopeKind.OPERATOR:
        return [issue]
    if scope.kind is ScopeKind.STORE:
        return [stock]
    return [
        issue,
        stock,
        _eq("fitted", f, ["fitted"], ["fitted_now", "broken_now"]),
        _eq("broken", f, ["broken"], ["broken_now"]),
        _eq("void", f, ["void_from_stock", "void_while_held"], ["void_now"]),
        _eq("lost", f, ["lost_from_stock", "lost_while_held"], ["lost_now"]),
        _eq("count", f, ["received"], list(HOLDING_FIGURES)),
    ]


@dataclass(frozen=True)
class Reconciliation:
    """The figures for one scope at one moment, the sums, and what needs explaining."""

    scope: Scope
    at: datetime
    figures: dict[str, int]
    equations: list[Equation]
    discrepancies: list[Discrepancy]

    @property
    def balanced(self) -> bool:
        return all(e.balanced for e in self.equations)

    @property
    def clean(self) -> bool:
        """Balanced with nothing left to explain."""
        return self.balanced and not self.discrepancies

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope.to_json(),
            "at": format_time(self.at),
            "figures": dict(self.figures),
            "equations": [e.to_json() for e in self.equations],
            "balanced": self.balanced,
            "discrepancies": [discrepancy_json(d) for d in self.discrepancies],
        }


def reconcile(
    scope: Scope,
    at: datetime,
    figures: Mapping[str, int],
    open_discrepancies: Iterable[Discrepancy],
) -> Reconciliation:
    """Check the figures of ``scope`` and list its open discrepancies."""
    missing = [k for k in MOVEMENT_FIGURES + HOLDING_FIGURES if k not in figures]
    if missing:
        raise InvalidInput(f"figures lack {', '.join(missing)}", field="figures")
    chosen = {k: int(figures[k]) for k in MOVEMENT_FIGURES + HOLDING_FIGURES}
    listed = sorted(
        (d for d in open_discrepancies if d.in_scope(scope)),
        key=lambda d: (d.raised_at, d.serial),
    )
    return Reconciliation(scope, at, chosen, equations(scope, chosen), listed)


def discrepancy_json(d: Discrepancy) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind.value,
        "serial": d.serial,
        "batch_id": d.batch_id,
        "store": d.store,
        "operator_id": d.operator_id,
        "device_id": d.device_id,
        "detail": d.detail,
        "status": d.status,
        "raised_by": d.raised_by,
        "raised_at": format_time(d.raised_at),
        "resolved_by": d.resolved_by,
        "resolution": d.resolution,
        "resolved_at": None if d.resolved_at is None else format_time(d.resolved_at),
    }
