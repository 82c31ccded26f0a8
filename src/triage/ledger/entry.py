"""Ledger entries: what happened, to what, by whom, when; encoded as RFC 8785 canonical JSON.

An entry is forever, so it carries identifiers only: never a secret, never personal data beyond
an operator id. Floats are refused (canonical JSON of floats is a trap for verifiers in other
languages) and integers must be exact in every JSON reader (|n| < 2**53).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from triage.ledger import canonical
from triage.ledger.errors import VerificationError

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_MAX_SAFE = 2**53 - 1
_FIELDS = {"type", "at", "actor", "facility", "subject", "data"}


@dataclass(frozen=True)
class Ref:
    """A reference to something by kind and id: an actor (operator, tool, system) or a subject."""

    kind: str
    id: str

    def to_json(self) -> dict[str, JsonValue]:
        """As the JSON object stored in entries."""
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class Entry:
    """One Triage Activity or other change of state, as recorded in the ledger."""

    type: str
    at: datetime
    actor: Ref
    facility: str
    subject: Ref
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _TYPE.match(self.type):
            raise ValueError(f"entry type {self.type!r} must look like 'device.received'")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("entry time must be timezone-aware")
        for name, ref in (("actor", self.actor), ("subject", self.subject)):
            if not ref.kind or not ref.id:
                raise ValueError(f"entry {name} needs a kind and an id")
        if not self.facility:
            raise ValueError("entry facility must not be empty")
        _check_json(self.data, "data")

    def to_json(self) -> dict[str, JsonValue]:
        """The entry as a JSON object."""
        return {
            "type": self.type,
            "at": format_time(self.at),
            "actor": self.actor.to_json(),
            "facility": self.facility,
            "subject": self.subject.to_json(),
            "data": dict(self.data),
        }

    def to_bytes(self) -> bytes:
        """RFC 8785 canonical JSON: the exact bytes that are hashed into the ledger."""
        # __post_init__ checked the data: no floats, safe integers, ASCII keys.
        return canonical.dumps(self.to_json(), plain=True)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Entry:
        """Parse stored bytes, refusing anything that is not an entry in canonical form."""
        obj = _load(raw)
        try:
            entry = cls(
                type=_str(obj["type"], "type"),
                at=parse_time(_str(obj["at"], "at")),
                actor=_ref(obj["actor"], "actor"),
                facility=_str(obj["facility"], "facility"),
                subject=_ref(obj["subject"], "subject"),
                data=_dict(obj["data"], "data"),
            )
        except ValueError as exc:
            raise VerificationError(f"entry is malformed: {exc}") from exc
        try:
            written = entry.to_bytes()
        except UnicodeEncodeError as exc:
            # JSON's \ud800 escapes a lone surrogate, which no UTF-8 text can hold.
            raise VerificationError("entry is not valid UTF-8 text (a lone surrogate)") from exc
        if written != raw:
            raise VerificationError("entry bytes are not in RFC 8785 canonical form")
        return entry


class Glance(NamedTuple):
    """What ``glance`` reads of an entry: its type, subject and data."""

    type: str
    subject: Ref
    data: dict[str, Any]


def glance(raw: bytes) -> Glance:
    """The type, subject and data of stored entry bytes, refusing (VerificationError) bytes
    that are not a JSON object with an entry's fields, a subject of a kind and an id, and data
    that is an object.

    For a check every step makes on the entries it reads back (``services.common``'s
    ``check_recorded``): unlike ``Entry.from_bytes`` it does not write the entry again to
    compare its canonical form, nor check the time and every value, which took four fifths of
    the read. Those are the log's to check, entry by entry, against the hashes that fix their
    bytes (``triage ledger verify``)."""
    obj = _load(raw)
    try:
        return Glance(
            _str(obj["type"], "type"), _ref(obj["subject"], "subject"), _dict(obj["data"], "data")
        )
    except ValueError as exc:
        raise VerificationError(f"entry is malformed: {exc}") from exc


def _load(raw: bytes) -> dict[str, Any]:
    """Stored bytes as a JSON object with exactly an entry's fields (UTF-8, no floats), or
    VerificationError."""
    try:
        obj = json.loads(raw.decode("utf-8"), parse_float=_refuse_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise VerificationError(f"entry is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict) or obj.keys() != _FIELDS:
        raise VerificationError(f"entry must have exactly the fields {sorted(_FIELDS)}")
    return obj


def format_time(at: datetime) -> str:
    """RFC 3339 in UTC with a 'Z' and microseconds, the one spelling entries use."""
    # isoformat, not strftime: strftime's %Y writes year 1 as "1", which is not RFC 3339 and
    # which parse_time refuses; isoformat always writes four digits.
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Parse the RFC 3339 UTC spelling used in entries."""
    if not _TIME.match(text):
        raise ValueError(f"time {text!r} is not RFC 3339 UTC such as 2026-11-24T15:07:57.000000Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check_json(value: object, path: str) -> None:
    """Refuse (ValueError naming where) a value an entry cannot hold. Every entry recorded or
    read passes here, so the common case, a valid value, is walked without building the path
    of every item; only a refusal walks it again to say where."""
    if not _storable(value):
        _explain(value, path)


def _storable(value: object) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_SAFE <= value <= _MAX_SAFE  # type: ignore[operator]
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or not key.isascii() or not _storable(item):
                return False
        return True
    if kind is list:
        return all(map(_storable, value))  # type: ignore[call-overload]
    # Subclasses, tuples, other mappings: the general walk decides.
    try:
        _explain(value, "")
    except ValueError:
        return False
    return True


def _explain(value: object, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE:
            raise ValueError(f"{path}: integer {value} is too large for every JSON reader")
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed in ledger entries (use a string)")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _explain(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise ValueError(f"{path}: keys must be ASCII strings, not {key!r}")
            _explain(item, f"{path}.{key}")
        return
    raise ValueError(f"{path}: {type(value).__name__} cannot be stored in a ledger entry")


def _refuse_float(text: str) -> float:
    raise ValueError(f"floats are not allowed in ledger entries ({text})")


def _str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def _dict(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object")
    return value


def _ref(value: object, name: str) -> Ref:
    obj = _dict(value, name)
    if set(obj) != {"kind", "id"}:
        raise ValueError(f"{name} must have exactly 'kind' and 'id'")
    return Ref(_str(obj["kind"], f"{name}.kind"), _str(obj["id"], f"{name}.id"))
