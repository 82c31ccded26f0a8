"""The witness's own key: ``<dir>/witness.key``, mode 0600 in a 0700 directory, made once.

The key is a C2SP tlog-cosignature Ed25519 signer key (algorithm byte 0x04). Whoever relies on
the witness knows it by its verifier key, so the file is never overwritten: a new key is a new
witness. Error messages name the file and what to do, and never quote the secret.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from triage.ledger import cosignature
from triage.ledger.errors import VerificationError
from triage.witness.errors import WitnessKeyError

KEY_FILE = "witness.key"


@dataclass(frozen=True)
class WitnessKey:
    """The witness's signer key (kept out of reprs), its cosigner verifier key and its name."""

    signer_key: str = field(repr=False)
    vkey: str
    name: str


def generate_key(directory: Path, name: str) -> str:
    """Create the witness key named ``name`` in ``directory``; return its verifier key.

    The file appears complete or not at all (written aside, then linked into place), and an
    existing key, even one created at the same moment by another process, is never replaced.
    """
    path = directory / KEY_FILE
    if path.exists() or path.is_symlink():
        raise WitnessKeyError(
            f"{path} already exists: a witness keeps its key for life (those who rely on it "
            "know it by that key); use another --dir for a new witness"
        )
    try:
        signer, vkey = cosignature.generate_cosigner_key(name)
    except ValueError as exc:
        raise WitnessKeyError(f"witness name {name!r}: {exc}") from None
    _private_directory(directory)
    # mkstemp creates the file 0600; link() refuses an existing name, which is the atomic
    # "create if absent" that rename() is not.
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{KEY_FILE}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(signer + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise WitnessKeyError(
                f"{path} already exists (created meanwhile): keep it; use another --dir for "
                "a new witness"
            ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(directory)
    return vkey


def load_key(directory: Path) -> WitnessKey:
    """Read the witness key, refusing a missing, unreadable, shared or malformed file."""
    path = directory / KEY_FILE
    try:
        info = path.stat()
    except FileNotFoundError:
        raise WitnessKeyError(
            f"no witness key at {path}; create one with `triage witness keygen NAME "
            f"--dir {directory}`"
        ) from None
    except OSError as exc:
        raise WitnessKeyError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise WitnessKeyError(f"{path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise WitnessKeyError(
            f"{path} has mode {mode:04o}; it must be readable by its owner only: chmod 600 {path}"
        )
    try:
        signer = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError:
        raise WitnessKeyError(f"{path} does not hold a witness signer key (not UTF-8)") from None
    except OSError as exc:
        raise WitnessKeyError(f"cannot read {path}: {exc.strerror}") from None
    try:
        vkey = cosignature.cosigner_key_from_signer(signer)
    except (ValueError, VerificationError) as exc:
        raise WitnessKeyError(
            f"{path} does not hold a witness signer key "
            f"(PRIVATE+KEY+<name>+<hash>+<base64 of 0x04 and a 32-byte seed>): "
            f"{_without_secret(str(exc), signer)}"
        ) from None
    return WitnessKey(signer_key=signer, vkey=vkey, name=cosignature.parse_cosigner_key(vkey).name)


def _without_secret(message: str, signer: str) -> str:
    """``message``, unless it quotes the key material (then only that the key is malformed)."""
    secret = signer.rsplit("+", 1)[-1]
    if (len(secret) >= 8 and secret in message) or (signer and signer in message):
        return "the key is malformed"
    return message


def _private_directory(directory: Path) -> None:
    """Create ``directory`` (and parents) if needed and make it the owner's alone (0700)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def _fsync_directory(directory: Path) -> None:
    """Make the new file's name durable (a crash after keygen must not lose the key)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
