"""Signed requests from a bench agent: what the tool signs, so the server knows which tool asks.

A request carries the tool id, a UTC time, a fresh nonce and an Ed25519 signature by the tool's
key over the method, the path with its query, the time, the nonce and the SHA-256 of the body.
The server refuses a stale time, a reused nonce, an unknown or inactive tool and a bad signature.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from triage.ledger.entry import format_time

CONTEXT = b"device-triage agent request v1\n"
MAX_SKEW = timedelta(minutes=5)
HEADER_TOOL = "X-Triage-Tool"
HEADER_TIME = "X-Triage-Time"
HEADER_NONCE = "X-Triage-Nonce"
HEADER_SIGNATURE = "X-Triage-Signature"


def request_message(method: str, target: str, time: str, nonce: str, body: bytes) -> bytes:
    """The bytes a tool signs for one request (``target`` is the path with any query)."""
    digest = hashlib.sha256(body).hexdigest()
    return CONTEXT + "\n".join([method.upper(), target, time, nonce, digest]).encode("utf-8")


def time_problem(sent: datetime, now: datetime) -> str | None:
    """Why a request's time is unacceptable, or None."""
    if abs(now - sent) > MAX_SKEW:
        return f"request time {format_time(sent)} is more than {MAX_SKEW} from the server's clock"
    return None
