"""Ledger entries: canonical bytes, strict parsing, nothing that could be read two ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from triage.ledger import VerificationError
from triage.ledger.entry import Entry, Glance, Ref, format_time, glance

AT = datetime(2026, 11, 24, 15, 7, 57, 123456, tzinfo=UTC)


def _entry(**changes: object) -> Entry:
    fields: dict[str, object] = {
        "type": "device.received",
        "at": AT,
        "actor": Ref("operator", "op-17"),
        "facility": "demo",
        "subject": Ref("device", "BC-33-AC-FF-FE-FA-55-3D"),
        "data": {"consignment": "C-1", "count": 3, "ok": True, "notes": None, "list": [1, "a"]},
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


def test_bytes_are_rfc8785_canonical() -> None:
    raw = _entry().to_bytes()
    assert raw == (
        b'{"actor":{"id":"op-17","kind":"operator"},"at":"2026-11-24T15:07:57.123456Z",'
        b'"data":{"consignment":"C-1","count":3,"list":[1,"a"],"notes":null,"ok":true},'
        b'"facility":"demo","subject":{"id":"BC-33-AC-FF-FE-FA-55-3D","kind":"device"},'
        b'"type":"device.received"}'
    )
    assert Entry.from_bytes(raw) == _entry()


def test_times_are_stored_in_utc() -> None:
    local = AT.astimezone(timezone(timedelta(hours=1)))
    assert format_time(local) == "2026-11-24T15:07:57.123456Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        _entry(at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "Received"}, "entry type"),
        ({"data": {"weight": 1.5}}, "floats are not allowed"),
        ({"data": {"big": 2**60}}, "too large"),
        ({"data": {1: "x"}}, "keys must be ASCII strings"),
        ({"data": {"é": "x"}}, "keys must be ASCII strings"),
        ({"data": {"when": AT}}, "datetime cannot be stored"),
        ({"actor": Ref("operator", "")}, "actor needs"),
        ({"facility": ""}, "facility"),
    ],
)
def test_bad_entries_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _entry(**changes)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b'{"type":"a.b"}', "exactly the fields"),
        (_entry().to_bytes().replace(b'"count":3', b'"count":3.0'), "floats"),
        (_entry().to_bytes().replace(b'{"actor"', b'{ "actor"'), "canonical"),
        (_entry().to_bytes().replace(b"15:07:57.123456Z", b"15:07:57+00:00"), "RFC 3339"),
    ],
)
def test_stored_bytes_that_are_not_an_entry_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        Entry.from_bytes(raw)


def test_a_glance_reads_the_type_subject_and_data() -> None:
    raw = _entry().to_bytes()
    seen = glance(raw)
    assert seen == Glance(
        "device.received", Ref("device", "BC-33-AC-FF-FE-FA-55-3D"), dict(_entry().data)
    )
    # It does not ask for the canonical form: the log's verification does (by the entry's hash).
    assert glance(raw.replace(b'{"actor"', b'{ "actor"')) == seen


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff", "not valid JSON"),
        (b"[]", "exactly the fields"),
        (b'{"type":"a.b"}', "exactly the fields"),
        (_entry().to_bytes().replace(b'"count":3', b'"count":3.0'), "floats"),
        (_entry(type="a.b").to_bytes().replace(b'"type":"a.b"', b'"type":7'), "type must be"),
        (_entry().to_bytes().replace(b'"kind":"device"', b'"kind":null'), "subject.kind"),
        (_entry().to_bytes().replace(b'{"id":"BC', b'{"who":"x","id":"BC'), "subject must have"),
        (_entry(data={}).to_bytes().replace(b'"data":{}', b'"data":[]'), "data must be"),
    ],
)
def test_a_glance_refuses_bytes_that_are_not_an_entry(raw: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        glance(raw)
