"""The checkpoint kept outside the database: written atomically, private, never backwards."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from triage.adapters.checkpoint_file import CheckpointFile, checkpoint_dir
from triage.ledger import checkpoint, note

ORIGIN = "example.org/kept"
SIGNER, _ = note.generate_key(ORIGIN)


def _note(size: int) -> str:
    return checkpoint.sign_checkpoint(checkpoint.Checkpoint(ORIGIN, size, b"\x07" * 32), SIGNER)


def test_a_new_file_is_private_and_only_moves_forward(tmp_path: Path) -> None:
    kept = CheckpointFile(checkpoint_dir(tmp_path, "demo"))
    assert not kept.tracked() and kept.read() is None and kept.hashes_count() == 0
    assert kept.keep(_note(2), 2, 0, [b"a" * 32, b"b" * 32])
    assert kept.tracked()
    assert kept.read() == _note(2)
    assert stat.S_IMODE(kept.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.hashes_path.stat().st_mode) == 0o600
    assert kept.read_hashes(5) == b"a" * 32 + b"b" * 32
    assert not kept.keep(_note(1), 1, 0, [b"c" * 32])  # never backwards
    assert kept.read() == _note(2)
    assert kept.keep(_note(3), 3, 2, [b"c" * 32])
    assert kept.read_hashes(3)[-32:] == b"c" * 32
    assert [p.name for p in kept.directory.iterdir() if p.name.startswith(".checkpoint")] == []


def test_hashes_beyond_the_new_start_are_cut_first(tmp_path: Path) -> None:
    kept = CheckpointFile(tmp_path / "k")
    kept.keep(_note(2), 2, 0, [b"a" * 32, b"b" * 32])
    kept.hashes_path.write_bytes(b"a" * 32 * 5)  # left from a crash after the hashes
    kept.keep(_note(3), 3, 2, [b"z" * 32])
    assert kept.read_hashes(10) == b"a" * 64 + b"z" * 32


def test_hashes_must_end_at_the_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="do not end at 5"):
        CheckpointFile(tmp_path / "k").keep(_note(5), 5, 0, [b"a" * 32])


def test_copy_to_takes_both_files_under_the_lock(tmp_path: Path) -> None:
    kept = CheckpointFile(tmp_path / "k")
    (tmp_path / "out").mkdir()
    assert kept.copy_to(tmp_path / "out") == []
    kept.keep(_note(1), 1, 0, [b"a" * 32])
    copies = kept.copy_to(tmp_path / "out")
    assert sorted(p.name for p in copies) == ["checkpoint", "leaf-hashes"]
    assert (tmp_path / "out" / "checkpoint").read_text() == _note(1)
