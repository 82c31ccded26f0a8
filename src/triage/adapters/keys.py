"""The facility's signing key on disk: created once, mode 0600, never overwritten."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from triage.errors import KeyFileError, NotInitialised
from triage.ledger import note
from triage.ledger.errors import VerificationError

SIGNER_FILE = "facility.key"
VERIFIER_FILE = "facility.vkey"


def create_facility_key(keys_dir: Path, name: str) -> tuple[str, bool]:
    """Create the signing key if there is none; returns (verifier key, created)."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    signer_path = keys_dir / SIGNER_FILE
    if signer_path.exists():
        return load_verifier_key(keys_dir), False
    signer, verifier = note.generate_key(name)
    # O_EXCL: if two inits race, one wins and the other reads the winner's key.
    try:
        fd = os.open(signer_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_verifier_key(keys_dir), False
    with os.fdopen(fd, "w") as f:
        f.write(signer + "\n")
        f.flush()
        os.fsync(f.fileno())
    (keys_dir / VERIFIER_FILE).write_text(verifier + "\n")
    os.chmod(keys_dir / VERIFIER_FILE, 0o644)
    return verifier, True


def load_signer_key(keys_dir: Path) -> str:
    """Read the signing key, refusing a file that others can read."""
    path = keys_dir / SIGNER_FILE
    if not path.exists():
        raise NotInitialised(f"no facility key at {path}; run 'triage init'")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{path} has mode {mode:04o}; it must be readable by its owner only: chmod 600 {path}"
        )
    signer = path.read_text().strip()
    try:
        note.verifier_key_from_signer(signer)
    except (ValueError, VerificationError) as exc:
        raise KeyFileError(f"{path} does not hold a valid signer key: {exc}") from exc
    return signer


def load_verifier_key(keys_dir: Path) -> str:
    """The verifier key, derived from the signing key (the .vkey file is a copy for sharing)."""
    return note.verifier_key_from_signer(load_signer_key(keys_dir))
