"""What the anomaly-threshold use cases need from storage (``uow.security``)."""

from __future__ import annotations

from typing import Protocol


class SecurityRepository(Protocol):
    """Thresholds, counted activity and alerts."""
