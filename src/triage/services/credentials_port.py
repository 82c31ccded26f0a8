"""What the authentication use cases need from storage (``uow.credentials``)."""

from __future__ import annotations

from typing import Protocol


class CredentialRepository(Protocol):
    """Passwords, second factors, recovery codes, login attempts, web sessions and locks."""
