"""Logs that say what changed, not that nothing did.

A bench agent asks its server for work every second, and a browser reloads a job's page every
two seconds while the tool works: a line for each would be some 86,000 lines a day from one idle
bench, and the lines that matter would be lost among them. Such polls are counted instead, and a
heartbeat says how many there were at most every ``HEARTBEAT_SECONDS``; what changes (an order
handled, a refusal, an error, any other request) is logged when it happens.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Callable
from typing import Any

HEARTBEAT_SECONDS = 600.0
# Requests a client repeats while it waits, answered alike each time: the agent's poll for work,
# a job's state and security log, the bench page that reloads while the tool works, and the
# health check a monitor calls. Only a GET answered without an error is a quiet poll.
POLLED_PATHS = re.compile(
    r"^/(api/v1/agent/work-orders|api/v1/health|api/v1/jobs/[^/]+(/security-log)?"
    r"|bench/jobs/[^/]+)$"
)
# The HTTP client the agent uses logs every request at INFO: that is the agent's poll again.
_CHATTY_LIBRARIES = ("httpx", "httpcore")

log = logging.getLogger("triage.server")


class Heartbeat:
    """Counts quiet events, and says when a heartbeat is due: at most once per ``interval``
    seconds (on ``clock``, monotonic), counted from the start or the last heartbeat."""

    def __init__(
        self, interval: float = HEARTBEAT_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._since = clock()
        self._count = 0

    def count(self) -> int | None:
        """Count one quiet event; when a heartbeat is due, how many were counted since the last
        one (this one included), and the count starts again; else None."""
        self._count += 1
        now = self._clock()
        if now - self._since < self.interval:
            return None
        counted, self._count, self._since = self._count, 0, now
        return counted


def is_poll(method: str, path: str, status: int) -> bool:
    """Whether a request was a quiet poll: a GET of a polled path, answered without an error."""
    return method == "GET" and status < 400 and bool(POLLED_PATHS.match(path.split("?", 1)[0]))


class QuietPolls(logging.Filter):
    """uvicorn's access log without a line per poll (``is_poll``): a heartbeat line on the
    ``triage.server`` logger says how many were answered, at most every ``interval`` seconds."""

    def __init__(self, name: str = "", heartbeat: Heartbeat | None = None) -> None:
        super().__init__(name)
        self.heartbeat = heartbeat or Heartbeat()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, path, HTTP version, status).
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        _, method, path, _, status = args
        if not (isinstance(method, str) and isinstance(path, str) and isinstance(status, int)):
            return True
        if not is_poll(method, path, status):
            return True
        counted = self.heartbeat.count()
        if counted is not None:
            log.info(
                "%d polls answered in the last %d minutes (work orders, job states, health: "
                "not logged one by one)",
                counted,
                round(self.heartbeat.interval / 60),
            )
        return False


def server_log_config(every_request: bool = False) -> dict[str, Any]:
    """uvicorn's logging, with polls left out of the access log (QuietPolls) unless
    ``every_request`` (a benchmark counting requests wants them all), and the application's own
    lines (``triage.*``: heartbeats, checkpoints, errors) shown."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if not every_request:
        config["filters"] = {"quiet_polls": {"()": QuietPolls}}
        config["handlers"]["access"]["filters"] = ["quiet_polls"]
    config["loggers"]["triage"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def agent_log_config() -> None:
    """The bench agent's logging: its own lines at INFO, the HTTP client's only when wrong."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
