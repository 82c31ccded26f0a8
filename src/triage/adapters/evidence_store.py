"""Evidence files: stored by their SHA-256 in the data directory, readable only by the owner.

A file's name is its digest, so nothing a user supplies ever becomes part of a path, the same
content is stored once, and checking a file is recomputing its digest. The ledger records each
digest; a file whose content no longer matches is reported, never silently replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from triage.errors import InvalidInput

MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class EvidenceStore:
    """Content-addressed files under ``root`` (created 0700; files 0600)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _DIGEST.match(sha256):
            raise ValueError(f"{sha256!r} is not a SHA-256 digest in hex")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> tuple[str, int]:
        """Store ``content``; returns (sha256, size). Storing the same content twice is one file."""
        if len(content) > MAX_BYTES:
            raise InvalidInput(f"file: larger than {MAX_BYTES // (1024 * 1024)} MiB")
        digest = hashlib.sha256(content).hexdigest()
        self._write(digest, [content])
        return digest, len(content)

    def put_stream(self, source: BinaryIO, limit: int = MAX_BYTES) -> tuple[str, int]:
        """Store what ``source`` yields, refusing more than ``limit`` bytes before writing any."""
        hasher = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise InvalidInput(f"file: larger than {limit // (1024 * 1024)} MiB")
            hasher.update(chunk)
            chunks.append(chunk)
        if size == 0:
            raise InvalidInput("file: empty")
        digest = hasher.hexdigest()
        self._write(digest, chunks)
        return digest, size

    def _write(self, digest: str, chunks: list[bytes]) -> None:
        path = self._path(digest)
        if path.exists() and self.check(digest) == "ok":
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, sha256: str) -> bytes:
        """The stored content; raises FileNotFoundError when it is gone."""
        return self._path(sha256).read_bytes()

    def delete(self, sha256: str) -> bool:
        """Delete the file (a purge past its retention); True when it was there."""
        path = self._path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return True

    def check(self, sha256: str) -> str:
        """'ok', 'missing', or 'altered' (the content no longer has its digest)."""
        path = self._path(sha256)
        if not path.is_file():
            return "missing"
        hasher = hashlib.sha256()
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                hasher.update(chunk)
        return "ok" if hasher.hexdigest() == sha256 else "altered"
