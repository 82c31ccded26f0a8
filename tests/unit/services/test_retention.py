"""Retention as data: rules per kind of evidence file, legal holds, and purges that are recorded
before a file is deleted (its digest stays in the ledger)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import disposal_seed, workflow_seed
from tests.unit.services.assurance_seed import FakeFileStore
from tests.unit.services.callers import auditor, nobody, security_manager, supervisor
from tests.unit.services.workflow_seed import SUPERVISOR, device_id
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import job_steps, photos, retention

JPEG = b"\xff\xd8\xff\xe0" + b"a photo of the meter" * 10
PHOTO = hashlib.sha256(JPEG).hexdigest()
SEC = security_manager()


class Facility:
    """Device 1 inspected (its security log kept), photographed, then returned to the
    manufacturer: its case closed at ``closed``."""

    def __init__(self) -> None:
        self.factory = FakeUnitOfWorkFactory()
        bench = workflow_seed.at_the_bench(self.factory)
        self.job_id = workflow_seed.inspected(self.factory, bench, 1)
        self.store: FakeFileStore = workflow_seed.evidence_store(self.factory)
        photos.take_photo(self.factory, bench.operator, self.store, self.job_id, JPEG)
        [self.log] = [d for d in self.store.files if d != PHOTO]
        job_steps.quarantine(self.factory, SUPERVISOR, self.job_id, "the case is cracked open")
        job_steps.dispose(self.factory, SUPERVISOR, self.job_id, "return", "RMA-1")
        self.closed = self.factory.clock.now()

    def after(self, days: int) -> None:
        self.factory.clock.at = self.closed + timedelta(days=days)

    def purged(self) -> list[str]:
        return [e.data["sha256"] for e in self.factory.entries() if e.type == "evidence.purged"]


@pytest.fixture
def facility() -> Facility:
    return Facility()


def test_every_kind_has_a_default_rule_and_a_set_rule_is_recorded(facility: Facility) -> None:
    factory = facility.factory
    shown = {r.kind.name: r for r in retention.rules(factory, auditor())}
    assert shown["device_photo"].rule.days == 730 and shown["device_photo"].is_default
    assert set(shown) == {
        "device_photo",
        "security_log",
        "destruction_evidence",
        "assurance_upload",
        "assurance_generated",
    }

    changed = retention.set_rule(factory, SEC, "device_photo", 30)

    assert (changed.rule.days, changed.rule.set_by, changed.is_default) == (30, "sec", False)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "retention.rule_set",
        "retention_rule",
        "device_photo",
    )
    assert entry.data == {"kind": "device_photo", "days": 30, "counted_from": "case_closed"}
    assert retention.rules(factory, auditor())[0].rule.days == 30


def test_a_rule_is_refused_for_bad_input_or_without_the_permission(facility: Facility) -> None:
    factory = facility.factory
    with pytest.raises(InvalidInput) as bad_kind:
        retention.set_rule(factory, SEC, "tea_leaves", 30)
    assert bad_kind.value.field == "kind"
    with pytest.raises(InvalidInput) as bad_days:
        retention.set_rule(factory, SEC, "device_photo", 0)
    assert bad_days.value.field == "days"
    with pytest.raises(InvalidInput, match="kept 730 days already"):
        retention.set_rule(factory, SEC, "device_photo", 730)
    with pytest.raises(PermissionDenied):
        retention.set_rule(factory, supervisor(), "device_photo", 30)
    with pytest.raises(PermissionDenied):
        retention.rules(factory, nobody())
    assert "retention.rule_set" not in factory.entry_types()


def test_a_file_within_its_period_is_kept_and_an_open_case_is_never_purged() -> None:
    made = FakeUnitOfWorkFactory()
    bench = workflow_seed.at_the_bench(made)
    job_id = workflow_seed.inspected(made, bench, 1)  # still open
    store = workflow_seed.evidence_store(made)
    made.clock.advance(timedelta(days=5000))

    run = retention.purge(made, SEC, store)

    assert run.purged == [] and job_id
    assert len(store.files) == 1


def test_an_expired_file_is_recorded_purged_then_deleted_and_its_download_says_so(
    facility: Facility,
) -> None:
    factory, store = facility.factory, facility.store
    facility.after(729)
    assert retention.purge(factory, SEC, store).purged == []

    facility.after(731)
    plan = retention.purge_plan(factory, auditor(), store)
    assert [c.sha256 for c in plan.due] == [PHOTO]
    run = retention.purge(factory, SEC, store)

    assert [c.sha256 for c in run.purged] == [PHOTO] and run.deleted == 1
    assert PHOTO not in store.files and facility.log in store.files  # six years for logs
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "evidence.purged",
        "evidence_file",
        PHOTO,
    )
    assert entry.data == {
        "sha256": PHOTO,
        "kind": "device_photo",
        "name": f"photo of {device_id(1)}.jpg",
        "size": len(JPEG),
        "rule": {"kind": "device_photo", "days": 730, "counted_from": "case_closed"},
        "purged_at": factory.clock.now().isoformat(),
    }
    # The entry that recorded the photo is still there, with its digest.
    assert any(
        e.type == "device.photo_attached" and e.data["sha256"] == PHOTO for e in factory.entries()
    )
    with pytest.raises(NotFound, match=r"purged on \d{4}-\d\d-\d\d under the retention rule"):
        photos.photo(factory, auditor(), store, facility.job_id, PHOTO)
    [shown] = retention.purge_history(factory, auditor())
    assert (shown.sha256, shown.rule_days, shown.purged_by) == (PHOTO, 730, "sec")
    assert retention.purge_history(factory, auditor(), limit=0) == []
    # The retention page reads the same, in one transaction.
    page = retention.overview(factory, auditor(), store)
    assert page.history == [shown] and page.plan.due == []
    assert [r.kind.name for r in page.rules] == [
        r.kind.name for r in retention.rules(factory, auditor())
    ]
    assert page.holds == retention.holds(factory, auditor())


def test_a_purge_twice_is_idempotent(facility: Facility) -> None:
    facility.after(3000)
    first = retention.purge(facility.factory, SEC, facility.store)
    entries = len(facility.factory.entries())

    again = retention.purge(facility.factory, SEC, facility.store)

    assert len(first.purged) == 2
    assert (again.purged, again.deleted) == ([], 0)
    assert len(facility.factory.entries()) == entries


def test_a_purge_recorded_but_not_deleted_is_finished_by_the_next(facility: Facility) -> None:
    facility.after(800)
    retention.purge(facility.factory, SEC, facility.store)
    # As if the process died after the commit, before it deleted the file.
    facility.store.put(JPEG)
    assert [
        p.sha256
        for p in retention.purge_plan(facility.factory, auditor(), facility.store).unfinished
    ] == [PHOTO]

    run = retention.purge(facility.factory, SEC, facility.store)

    assert (run.purged, run.deleted) == ([], 1)
    assert PHOTO not in facility.store.files
    assert facility.purged() == [PHOTO]


def test_a_dry_run_changes_nothing(facility: Facility) -> None:
    facility.after(800)
    entries = len(facility.factory.entries())

    run = retention.purge(facility.factory, SEC, facility.store, dry_run=True)

    assert run.dry_run and [c.sha256 for c in run.purged] == [PHOTO]
    assert len(facility.factory.entries()) == entries and PHOTO in facility.store.files


@pytest.mark.parametrize(
    ("scope", "target"),
    [("device", device_id(1)), ("consignment", "CN-1"), ("file", PHOTO)],
)
def test_a_held_file_is_never_purged_until_the_hold_is_released(
    facility: Facility, scope: str, target: str
) -> None:
    factory = facility.factory
    hold = retention.place_hold(factory, SEC, scope, target, "litigation about this meter")
    entry = factory.entries()[-1]
    assert (entry.type, entry.data["scope"], entry.data["reason"]) == (
        "legal_hold.placed",
        scope,
        "litigation about this meter",
    )
    facility.after(5000)

    purged = [c.sha256 for c in retention.purge(factory, SEC, facility.store).purged]
    # A hold on the one file keeps only that file; a device's or a consignment's keeps both.
    assert purged == ([facility.log] if scope == "file" else [])
    assert PHOTO in facility.store.files

    released = retention.release_hold(factory, SEC, hold.id, "the case was settled in court")
    assert not released.active and released.released_by == "sec"
    assert factory.entries()[-1].type == "legal_hold.released"
    assert PHOTO in [c.sha256 for c in retention.purge(factory, SEC, facility.store).purged]


def test_holds_refuse_bad_input_unknown_targets_twice_and_without_the_permission(
    facility: Facility,
) -> None:
    factory = facility.factory
    why = "a regulator asked to keep it"
    with pytest.raises(InvalidInput) as scope:
        retention.place_hold(factory, SEC, "warehouse", "X", why)
    assert scope.value.field == "scope"
    with pytest.raises(InvalidInput) as reason:
        retention.place_hold(factory, SEC, "device", device_id(1), "no")
    assert reason.value.field == "reason"
    with pytest.raises(InvalidInput) as digest:
        retention.place_hold(factory, SEC, "file", "abc", why)
    assert digest.value.field == "target"
    with pytest.raises(NotFound):
        retention.place_hold(factory, SEC, "file", "0" * 64, why)
    with pytest.raises(NotFound):
        retention.place_hold(factory, SEC, "device", device_id(99), why)
    with pytest.raises(NotFound):
        retention.place_hold(factory, SEC, "consignment", "CN-NONE", why)
    with pytest.raises(PermissionDenied):
        retention.place_hold(factory, supervisor(), "device", device_id(1), why)
    hold = retention.place_hold(factory, SEC, "device", device_id(1), why)
    with pytest.raises(Conflict, match="held already"):
        retention.place_hold(factory, SEC, "device", device_id(1), why)
    assert [h.id for h in retention.holds(factory, auditor())] == [hold.id]
    retention.release_hold(factory, SEC, hold.id, "the regulator closed the case")
    with pytest.raises(Conflict, match="released already"):
        retention.release_hold(factory, SEC, hold.id, "the regulator closed the case")
    with pytest.raises(NotFound):
        retention.release_hold(factory, SEC, "no-such-hold", "the regulator closed the case")
    assert retention.holds(factory, auditor()) == []
    assert [h.id for h in retention.holds(factory, auditor(), include_released=True)] == [hold.id]


def test_a_purge_needs_the_permission(facility: Facility) -> None:
    facility.after(5000)
    with pytest.raises(PermissionDenied):
        retention.purge(facility.factory, auditor(), facility.store)
    assert facility.purged() == []


def test_a_destructions_photos_are_kept_under_their_own_rule() -> None:
    made = FakeUnitOfWorkFactory()
    bench = workflow_seed.at_the_bench(made)
    job_id = workflow_seed.inspected(made, bench, 1)
    job_steps.quarantine(made, SUPERVISOR, job_id, "the case is cracked open")
    job_steps.dispose(made, SUPERVISOR, job_id, "destroy", "WEEE-1", disposal_seed.DESTRUCTION)
    store = workflow_seed.evidence_store(made)
    photo = disposal_seed.PHOTO["sha256"]

    made.clock.advance(timedelta(days=2191))
    due = retention.purge_plan(made, auditor(), store).due

    [destruction] = [c for c in due if c.sha256 == photo]
    assert (destruction.file.kind, destruction.file.device_id) == (
        "destruction_evidence",
        device_id(1),
    )
    assert destruction.rule.days == 2190
