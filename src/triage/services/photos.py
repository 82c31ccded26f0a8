"""Photos taken at the bench during an inspection: kept by their SHA-256 in the evidence store,
recorded in the ledger against the device's open job, and shown to whoever may read its
history."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.services import history, retention
from triage.services.common import device_ref, get_job, make_entry
from triage.services.ports import FileStore, UnitOfWork, UnitOfWorkFactory

PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_ATTACHED = "device.photo_attached"


@dataclass(frozen=True)
class Photo:
    """A photo's bytes and what they are."""

    content: bytes
    media_type: str


def photo_type(content: bytes) -> str:
    """The media type of a photo taken at the bench (JPEG or PNG, by its first bytes)."""
    if len(content) > MAX_PHOTO_BYTES:
        raise InvalidInput(f"photo: larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MiB")
    for media, magic in PHOTO_TYPES.items():
        if content.startswith(magic):
            return media
    raise InvalidInput("photo: a JPEG or PNG picture, as a camera or tablet takes it")


def take_photo(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, job_id: str, content: bytes
) -> str:
    """Keep a photo taken during the inspection and record it against the job; returns its
    SHA-256. The file is written first: a photo recorded is always there to be shown."""
    caller.require(Permission.DEVICE_INSPECT)
    media_type = photo_type(content)
    sha256, size = store.put(content)
    with uow_factory(write=True) as uow:
        _record(uow, caller, job_id, sha256, media_type, size)
    return sha256


def attach_photo(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    sha256: str,
    media_type: str,
    size: int,
) -> None:
    """Record a photo already kept in the evidence store by its SHA-256."""
    caller.require(Permission.DEVICE_INSPECT)
    if media_type not in PHOTO_TYPES:
        raise InvalidInput("photo: a JPEG or PNG picture")
    with uow_factory(write=True) as uow:
        _record(uow, caller, job_id, sha256, media_type, size)


def _record(
    uow: UnitOfWork, caller: Caller, job_id: str, sha256: str, media_type: str, size: int
) -> None:
    job = get_job(uow, job_id)
    if job.state.is_final:
        raise Conflict(f"the device's job is {job.state}: photos belong to an open job")
    data = {"job_id": job.id, "sha256": sha256, "media_type": media_type, "size": size}
    uow.ledger.record([make_entry(uow, caller, PHOTO_ATTACHED, device_ref(job.device_id), data)])
    uow.commit()


def photo(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, job_id: str, sha256: str
) -> Photo:
    """A photo recorded against the job, as long as its file is intact; else NotFound."""
    caller.require(Permission.HISTORY_READ)
    with uow_factory(write=False) as uow:
        job = uow.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no triage job {job_id}")
    story = history.device_history(uow_factory, caller, job.device_id)
    recorded = [
        e.data
        for _, e in story.entries
        if e.type == PHOTO_ATTACHED and e.data["job_id"] == job_id and e.data["sha256"] == sha256
    ]
    if not recorded:
        raise NotFound(f"no photo {sha256} of job {job_id}")
    if store.check(sha256) != "ok":
        gone = retention.purged_notice(uow_factory, sha256)
        raise NotFound(gone or f"no photo {sha256} of job {job_id}")
    return Photo(store.read(sha256), recorded[0]["media_type"])
