"""Settings from the environment, with the defaults a fresh machine needs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where the data lives and which database to use."""

    data_dir: Path
    database_url: str

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Settings:
        """Read ``TRIAGE_DATA_DIR`` (default ``./var``) and ``TRIAGE_DATABASE_URL``."""
        directory = (data_dir or Path(os.environ.get("TRIAGE_DATA_DIR", "var"))).resolve()
        url = os.environ.get("TRIAGE_DATABASE_URL") or f"sqlite:///{directory / 'triage.db'}"
        return cls(data_dir=directory, database_url=url)

    @property
    def keys_dir(self) -> Path:
        """Directory of the facility's key files (mode 0700)."""
        return self.data_dir / "keys"
