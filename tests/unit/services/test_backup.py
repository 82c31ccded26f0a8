"""Backups and restores: the ledger's record of them and the restore acceptance rule, with a
fake archive port."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import auditor
from tests.unit.services.ledger_seed import SIGNER, VERIFIER, grow, kept_factory, tamper
from tests.unit.services.security_seed import ORIGIN
from tests.unit.services.test_replay import FakeReplay
from triage.errors import IntegrityFailure
from triage.services import backup, ledger
from triage.services.backup import ArchiveManifest, RestoredArchive
from triage.services.proof_encoding import b64


def _manifest(size: int, root: bytes, facility_id: str = "unit") -> ArchiveManifest:
    return ArchiveManifest(
        sha256="ab" * 32,
        format_version=1,
        created_at="2026-12-01T09:00:00Z",
        backend="sqlite",
        facility_id=facility_id,
        ledger_size=size,
        ledger_root=root,
        checkpoint_size=size,
        members=7,
        total_bytes=4096,
        document={"format": "device-triage-backup"},
    )


@dataclass
class FakePrepared:
    manifest: ArchiveManifest
    final: Path
    published: bool = False

    def publish(self) -> Path:
        self.published = True
        return self.final


@dataclass
class FakeArchives:
    """``BackupArchives`` in memory: what was prepared, published or removed."""

    factory: FakeUnitOfWorkFactory
    fail: bool = False
    prepared: list[FakePrepared] = field(default_factory=list)
    removed: list[FakePrepared] = field(default_factory=list)

    @contextmanager
    def prepare(self, output: Path) -> Iterator[FakePrepared]:
        if self.fail:
            raise OSError("no space left on device")
        status = ledger.status(self.factory, auditor())
        archive = FakePrepared(_manifest(status.size, status.root), output)
        self.prepared.append(archive)
        try:
            yield archive
        finally:
            if not archive.published:
                self.removed.append(archive)

    def restore(self, archive: Path) -> RestoredArchive:
        raise AssertionError("the service does not restore: the entrypoint asks the port")


def test_a_backup_signs_the_ledger_then_records_and_publishes_the_archive(tmp_path: Path) -> None:
    factory = kept_factory()
    grow(factory, 3)
    archives = FakeArchives(factory)

    result = backup.back_up(factory, archives, tmp_path / "b.tar", ORIGIN, SIGNER)

    assert [c.size for c in ledger.checkpoints(factory, auditor())] == [3]
    [prepared] = archives.prepared
    assert prepared.published and archives.removed == []
    assert result.archive == tmp_path / "b.tar"
    assert result.ledger_entry == 3  # after the snapshot: the archive does not hold its entry
    entry = factory.entries()[3]
    assert (entry.type, entry.subject.kind, entry.actor.id) == (
        "system.backup",
        "facility",
        "backup",
    )
    assert entry.data == {
        "manifest_sha256": "ab" * 32,
        "format_version": 1,
        "backend": "sqlite",
        "ledger_size": 3,
        "ledger_root": b64(prepared.manifest.ledger_root),
        "checkpoint_size": 3,
        "members": 7,
        "bytes": 4096,
    }


def test_a_backup_of_a_rewritten_ledger_writes_no_archive(tmp_path: Path) -> None:
    factory = kept_factory()
    grow(factory, 2)
    ledger.issue_checkpoint(factory, ledger.LEDGER_ACTOR, ORIGIN, SIGNER)
    grow(factory, 1)
    tamper(factory, 2)
    archives = FakeArchives(factory)

    with pytest.raises(IntegrityFailure):
        backup.back_up(factory, archives, tmp_path / "b.tar", ORIGIN, SIGNER)

    assert archives.prepared == []
    assert "system.backup" not in factory.entry_types()
    assert factory.entry_types()[-2:] == ["ledger.checkpoint_refused", "incident.raised"]


def test_an_archive_that_cannot_be_written_is_not_recorded(tmp_path: Path) -> None:
    factory = kept_factory()
    grow(factory, 1)

    with pytest.raises(OSError, match="no space"):
        backup.back_up(
            factory, FakeArchives(factory, fail=True), tmp_path / "b.tar", ORIGIN, SIGNER
        )
    assert "system.backup" not in factory.entry_types()


def _restored(factory: FakeUnitOfWorkFactory, tmp_path: Path, **changes: Any) -> RestoredArchive:
    status = ledger.status(factory, auditor())
    manifest = dataclasses.replace(_manifest(status.size, status.root), **changes)
    return RestoredArchive(manifest, tmp_path, "sqlite")


def test_a_restore_that_agrees_with_its_manifest_is_accepted_and_recorded(tmp_path: Path) -> None:
    factory = kept_factory()
    grow(factory, 3)
    ledger.issue_checkpoint(factory, ledger.LEDGER_ACTOR, ORIGIN, SIGNER)
    restored = _restored(factory, tmp_path)
    replay = FakeReplay(rows=12)

    report = backup.accept_restore(factory, restored, "unit", ORIGIN, VERIFIER, replay)

    assert report.ok and report.problems == []
    assert (report.rows_replayed, replay.runs) == (12, 1)
    assert report.verification.ok
    assert report.ledger_entry == 3
    entry = factory.entries()[3]
    assert entry.type == "system.restored"
    assert entry.data == {
        "manifest_sha256": "ab" * 32,
        "backup_created_at": "2026-12-01T09:00:00Z",
        "ledger_size": 3,
        "ledger_root": b64(restored.manifest.ledger_root),
    }


@pytest.mark.parametrize(
    ("changes", "differences", "problem"),
    [
        ({"facility_id": "other"}, (), "the manifest names 'other'"),
        ({"ledger_size": 9}, (), "the manifest says size 9"),
        ({"ledger_root": b"\x00" * 32}, (), "the manifest says size 3 and root AAAA"),
        ({}, ("operator op: name differs",), "replay: operator op: name differs"),
    ],
)
def test_a_restore_that_disagrees_is_not_accepted(
    tmp_path: Path, changes: dict[str, object], differences: tuple[str, ...], problem: str
) -> None:
    factory = kept_factory()
    grow(factory, 3)
    ledger.issue_checkpoint(factory, ledger.LEDGER_ACTOR, ORIGIN, SIGNER)

    report = backup.accept_restore(
        factory,
        _restored(factory, tmp_path, **changes),
        "unit",
        ORIGIN,
        VERIFIER,
        FakeReplay(differences=differences),
    )

    assert not report.ok and report.ledger_entry is None
    assert [p for p in report.problems if problem in p], report.problems
    assert "system.restored" not in factory.entry_types()


def test_a_restored_ledger_that_does_not_verify_is_not_accepted(tmp_path: Path) -> None:
    factory = kept_factory()
    grow(factory, 3)
    ledger.issue_checkpoint(factory, ledger.LEDGER_ACTOR, ORIGIN, SIGNER)
    restored = _restored(factory, tmp_path)
    tamper(factory, 1)

    report = backup.accept_restore(factory, restored, "unit", ORIGIN, VERIFIER, FakeReplay())

    assert not report.ok
    assert any(p.startswith("index 1: ") for p in report.problems), report.problems
    assert "system.restored" not in factory.entry_types()
