"""Issue 21: the facility's client of C2SP tlog-witness: ``POST <submission prefix>/add-checkpoint``
over HTTP (``WitnessClient``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from triage.services.ports import WitnessUnreachable

if TYPE_CHECKING:
    import httpx

# The most of a witness's answer read: cosignature lines, a size, or a short refusal.
MAX_ANSWER_BYTES = 64 * 1024


class HttpWitnessClient:
    """Posts add-checkpoint requests, one keep-alive connection pool for every witness (the
    spec asks clients to use keep-alive); safe to share between threads."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        import httpx  # only a process that asks witnesses pays for loading it

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    transport=self._transport,
                    follow_redirects=False,
                    headers={"User-Agent": "device-triage witness client"},
                )
            return self._client

    def add_checkpoint(self, url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
        import httpx

        endpoint = url.rstrip("/") + "/add-checkpoint"
        try:
            with self._http().stream(
                "POST",
                endpoint,
                content=body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=httpx.Timeout(timeout),
            ) as answer:
                read = b""
                for chunk in answer.iter_bytes():
                    read += chunk
                    if len(read) > MAX_ANSWER_BYTES:
                        raise WitnessUnreachable(
                            f"{endpoint} answered more than {MAX_ANSWER_BYTES} bytes"
                        )
                return answer.status_code, answer.headers.get("content-type", ""), read
        except httpx.TimeoutException as exc:
            raise WitnessUnreachable(f"{endpoint} did not answer within {timeout:g} s") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise WitnessUnreachable(f"{endpoint}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Close the connections held open."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
