"""The witness policy's settings besides its text: their defaults and the ranges they may take.

Plain values, so that what offers them (the CLI's options, the API's fields) can show them
without loading the witnessing service.
"""

from __future__ import annotations

DEFAULT_ALERT_AFTER_MINUTES = 60
DEFAULT_TIMEOUT_SECONDS = 5
DEFAULT_ATTEMPTS = 3
ALERT_AFTER_RANGE = (1, 7 * 24 * 60)
TIMEOUT_RANGE = (1, 120)
ATTEMPTS_RANGE = (1, 10)
