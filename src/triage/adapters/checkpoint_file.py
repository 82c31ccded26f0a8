"""The facility's latest signed checkpoint, kept outside the database, in its data directory.

``DATA_DIR/ledger/<facility>/checkpoint`` holds the signed note of the latest checkpoint this
facility issued, and ``leaf-hashes`` the leaf hashes of the entries it covers (32 bytes each,
index order): what was checked before signing, so that the next check starts there and a
failed one can name the first altered entry. Whoever holds the database but not the data
directory can delete or roll back the checkpoint table; this file still says what was signed,
so ``triage ledger verify`` finds it.

The checkpoint is replaced atomically (a 0600 temporary file in the same directory, fsync,
rename, fsync of the directory) and only ever by a larger one; both files are written after
the database committed the checkpoint, so the file never names a checkpoint the database
never held. A lock file serialises the processes that issue checkpoints (the server's periodic
one, the CLI, a backup).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from triage.ledger.checkpoint import parse_checkpoint
from triage.ledger.errors import VerificationError
from triage.ledger.rfc6962 import HASH_SIZE

CHECKPOINT_FILE = "checkpoint"
HASHES_FILE = "leaf-hashes"
_LOCK_FILE = ".lock"


def checkpoint_dir(data_dir: Path, facility_id: str) -> Path:
    """Where a facility keeps its checkpoint file."""
    return data_dir / "ledger" / facility_id


class CheckpointFile:
    """Reads and writes one facility's kept checkpoint and leaf hashes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def path(self) -> Path:
        """The checkpoint file."""
        return self.directory / CHECKPOINT_FILE

    @property
    def hashes_path(self) -> Path:
        """The leaf hashes file."""
        return self.directory / HASHES_FILE

    def start(self) -> None:
        """Create the (empty) directory: from now on a missing checkpoint file is a failure,
        not an installation that never kept one (``triage init`` calls this)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def tracked(self) -> bool:
        """True when this installation keeps the file (its directory exists)."""
        return self.directory.is_dir()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the facility's checkpoint lock (an exclusive lock on a file beside it)."""
        self.start()
        fd = os.open(self.directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def read(self) -> str | None:
        """The kept signed checkpoint, or None when there is no file.

        VerificationError when it is there but is not text.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VerificationError(f"{self.path} is not a signed checkpoint (not text)") from exc

    def read_hashes(self, count: int) -> bytes:
        """The first ``count`` kept leaf hashes, concatenated (fewer if fewer are kept)."""
        try:
            with self.hashes_path.open("rb") as file:
                data = file.read(count * HASH_SIZE)
        except FileNotFoundError:
            return b""
        return data[: len(data) - len(data) % HASH_SIZE]

    def hashes_count(self) -> int:
        """How many leaf hashes are kept."""
        try:
            return self.hashes_path.stat().st_size // HASH_SIZE
        except FileNotFoundError:
            return 0

    def keep(self, signed_note: str, size: int, first: int, hashes: Sequence[bytes]) -> bool:
        """Keep a checkpoint of ``size`` entries just stored in the database, with the leaf
        hashes of entries ``first`` to ``size - 1`` (the kept file must hold ``first`` already;
        it is cut there first). Never goes back to a smaller checkpoint: returns False and
        writes nothing when the file already holds one at least as large."""
        if first + len(hashes) != size:
            raise ValueError(f"hashes from {first}: {len(hashes)} of them do not end at {size}")
        self.start()
        current = self.read_size()
        if current is not None and current >= size:
            return False
        if self.hashes_count() >= first:
            fd = os.open(self.hashes_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.ftruncate(fd, first * HASH_SIZE)
                os.lseek(fd, first * HASH_SIZE, os.SEEK_SET)
                os.write(fd, b"".join(hashes))
                os.fsync(fd)
            finally:
                os.close(fd)
        self._replace(self.path, signed_note.encode("utf-8"))
        return True

    def read_size(self) -> int | None:
        """The tree size of the kept checkpoint (unverified: for ordering), or None."""
        try:
            kept = self.read()
        except VerificationError:
            return None
        if kept is None:
            return None
        body = kept.split("\n\n", 1)[0] + "\n"
        try:
            return parse_checkpoint(body).size
        except VerificationError:
            return None

    def copy_to(self, target: Path) -> list[Path]:
        """Copy the kept checkpoint and leaf hashes into ``target`` (an existing directory),
        together under the lock, so the copy names no checkpoint newer than a database
        snapshot taken after it; returns the copies (none when nothing is kept)."""
        if not self.tracked():
            return []
        copies = []
        with self.lock():
            for source in (self.path, self.hashes_path):
                try:
                    data = source.read_bytes()
                except FileNotFoundError:
                    continue
                copy = target / source.name
                copy.write_bytes(data)
                copies.append(copy)
        return copies

    def _replace(self, path: Path, data: bytes) -> None:
        handle, name = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as file:
                os.fchmod(file.fileno(), 0o600)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.rename(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
