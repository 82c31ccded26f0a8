"""Photos taken at the bench: kept in the evidence store, recorded against the open job, shown
to whoever reads the device's history."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import BinaryIO

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import workflow_seed
from tests.unit.services.callers import auditor, bench_operator, nobody, stores, supervisor
from triage.domain.job import TriageJob
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import job_steps, photos

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg body" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"png body"


@dataclass
class FakeFileStore:
    """``FileStore`` in memory; a file can be damaged behind its back."""

    files: dict[str, bytes] = field(default_factory=dict)
    damaged: set[str] = field(default_factory=set)

    def put(self, content: bytes) -> tuple[str, int]:
        sha256 = hashlib.sha256(content).hexdigest()
        self.files[sha256] = content
        return sha256, len(content)

    def put_stream(self, source: BinaryIO, limit: int = 0) -> tuple[str, int]:
        return self.put(source.read())

    def read(self, sha256: str) -> bytes:
        return self.files[sha256]

    def check(self, sha256: str) -> str:
        if sha256 not in self.files:
            return "missing"
        return "damaged" if sha256 in self.damaged else "ok"


@pytest.fixture
def job(factory: FakeUnitOfWorkFactory) -> TriageJob:
    workflow_seed.may_triage(factory)
    return workflow_seed.received(factory, 1)


def test_a_photo_is_kept_recorded_and_shown(factory: FakeUnitOfWorkFactory, job: TriageJob) -> None:
    store = FakeFileStore()

    sha256 = photos.take_photo(factory, bench_operator(), store, job.id, JPEG)

    assert sha256 == hashlib.sha256(JPEG).hexdigest()
    assert store.files == {sha256: JPEG}
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "device.photo_attached",
        "device",
        job.device_id,
    )
    assert entry.data == {
        "job_id": job.id,
        "sha256": sha256,
        "media_type": "image/jpeg",
        "size": len(JPEG),
    }
    shown = photos.photo(factory, auditor(), store, job.id, sha256)
    assert shown == photos.Photo(JPEG, "image/jpeg")


def test_a_photo_kept_already_is_attached_by_its_digest(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    store = FakeFileStore()
    sha256, size = store.put(PNG)

    photos.attach_photo(factory, bench_operator(), job.id, sha256, "image/png", size)

    assert factory.entries()[-1].data["media_type"] == "image/png"
    assert photos.photo(factory, auditor(), store, job.id, sha256).media_type == "image/png"
    with pytest.raises(InvalidInput, match="JPEG or PNG"):
        photos.attach_photo(factory, bench_operator(), job.id, sha256, "image/gif", size)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a not a photo", "a JPEG or PNG picture"),
        (JPEG + b"x" * photos.MAX_PHOTO_BYTES, "larger than 5 MiB"),
    ],
)
def test_what_is_no_photo_is_neither_kept_nor_recorded(
    factory: FakeUnitOfWorkFactory, job: TriageJob, content: bytes, message: str
) -> None:
    store = FakeFileStore()
    before = factory.entry_types()

    with pytest.raises(InvalidInput, match=message):
        photos.take_photo(factory, bench_operator(), store, job.id, content)
    assert store.files == {} and factory.entry_types() == before


def test_only_who_inspects_takes_photos(factory: FakeUnitOfWorkFactory, job: TriageJob) -> None:
    store = FakeFileStore()
    before = factory.entry_types()

    with pytest.raises(PermissionDenied):
        photos.take_photo(factory, stores(), store, job.id, JPEG)
    with pytest.raises(PermissionDenied):
        photos.attach_photo(factory, auditor(), job.id, "ab" * 32, "image/jpeg", 10)
    assert store.files == {} and factory.entry_types() == before


def test_photos_belong_to_an_open_job() -> None:
    factory = FakeUnitOfWorkFactory()
    at_bench = workflow_seed.at_the_bench(factory)
    job_id = workflow_seed.inspected(factory, at_bench, 1, workflow_seed.BREACHED)
    job_steps.dispose(factory, supervisor(), job_id, "return", "RMA-0001")
    before = factory.entry_types()

    with pytest.raises(Conflict, match="photos belong to an open job"):
        photos.take_photo(factory, bench_operator(), FakeFileStore(), job_id, JPEG)
    with pytest.raises(NotFound):
        photos.attach_photo(factory, bench_operator(), "no-such-job", "ab" * 32, "image/jpeg", 10)
    assert factory.entry_types() == before


def test_a_photo_is_not_shown_unless_recorded_against_the_job_and_intact(
    factory: FakeUnitOfWorkFactory, job: TriageJob
) -> None:
    store = FakeFileStore()
    sha256 = photos.take_photo(factory, bench_operator(), store, job.id, JPEG)
    unrecorded, _ = store.put(PNG)

    with pytest.raises(NotFound):
        photos.photo(factory, auditor(), store, job.id, unrecorded)
    with pytest.raises(NotFound):
        photos.photo(factory, auditor(), store, "no-such-job", sha256)
    store.damaged.add(sha256)
    with pytest.raises(NotFound):
        photos.photo(factory, auditor(), store, job.id, sha256)
    with pytest.raises(PermissionDenied):
        photos.photo(factory, nobody(), store, job.id, sha256)


def test_photo_type_is_told_by_the_first_bytes() -> None:
    assert photos.photo_type(JPEG) == "image/jpeg"
    assert photos.photo_type(PNG) == "image/png"
    with pytest.raises(InvalidInput):
        photos.photo_type(b"")
