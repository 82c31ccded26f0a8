"""The facility's key files on disk: created once, mode 0600, never overwritten.

``facility.key`` signs checkpoints, receipts and work orders; ``secrets.key`` encrypts the
secrets the server must read back, such as operators' TOTP secrets.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

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


SECRETS_FILE = "secrets.key"


class SecretBox:
    """Encrypts the secrets the server must read back (TOTP secrets) with the secrets key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plaintext: bytes) -> bytes:
        """Encrypted and authenticated ``plaintext``."""
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        """The plaintext of ``sealed``; KeyFileError when another key sealed it."""
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise KeyFileError(
                "a stored secret cannot be decrypted with this secrets key; was secrets.key "
                "replaced? The operator needs a new activation code"
            ) from exc


def create_secrets_key(keys_dir: Path) -> bool:
    """Create the secrets key (mode 0600) if there is none; returns True when created."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = keys_dir / SECRETS_FILE
    if path.exists():
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(Fernet.generate_key() + b"\n")
        f.flush()
        os.fsync(f.fileno())
    return True


def load_secret_box(keys_dir: Path) -> SecretBox:
    """The box of the secrets key, created on first need; refuses a file others can read."""
    create_secrets_key(keys_dir)
    path = keys_dir / SECRETS_FILE
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{path} has mode {mode:04o}; it must be readable by its owner only: chmod 600 {path}"
        )
    try:
        return SecretBox(path.read_bytes().strip())
    except ValueError as exc:
        raise KeyFileError(f"{path} does not hold a valid secrets key: {exc}") from exc
