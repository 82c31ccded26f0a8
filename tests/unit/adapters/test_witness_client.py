"""Issue 21: the facility's HTTP client of C2SP tlog-witness (``HttpWitnessClient``): it posts
to ``<prefix>/add-checkpoint`` and hands back whatever the witness answered; a witness that does
not answer, or answers too much, is ``WitnessUnreachable``."""

from __future__ import annotations

import httpx
import pytest

from triage.adapters.witness_client import MAX_ANSWER_BYTES, HttpWitnessClient
from triage.services.ports import WitnessUnreachable


def _client(handler: httpx.MockTransport) -> HttpWitnessClient:
    return HttpWitnessClient(transport=handler)


def test_the_request_goes_to_add_checkpoint_under_the_prefix_and_the_answer_comes_back() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(409, headers={"content-type": "text/x.tlog.size"}, content=b"7\n")

    client = _client(httpx.MockTransport(answer))
    try:
        found = client.add_checkpoint("https://w.example/prefix/", b"old 0\n\nbody\n", 2.0)
    finally:
        client.close()

    assert found == (409, "text/x.tlog.size", b"7\n")
    assert str(seen[0].url) == "https://w.example/prefix/add-checkpoint"
    assert seen[0].method == "POST" and seen[0].content == b"old 0\n\nbody\n"


def test_a_timeout_or_a_refused_connection_is_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(WitnessUnreachable, match=r"did not answer within 1\.5 s"):
        _client(httpx.MockTransport(slow)).add_checkpoint("http://w.example", b"x", 1.5)
    with pytest.raises(WitnessUnreachable, match="ConnectError: connection refused"):
        _client(httpx.MockTransport(refused)).add_checkpoint("http://w.example", b"x", 1.5)
    with pytest.raises(WitnessUnreachable):
        HttpWitnessClient().add_checkpoint("http://[not a host", b"x", 1.5)


def test_an_answer_larger_than_a_witness_gives_is_not_read_whole() -> None:
    def flood(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"-" * (MAX_ANSWER_BYTES + 1))

    with pytest.raises(WitnessUnreachable, match="answered more than"):
        _client(httpx.MockTransport(flood)).add_checkpoint("http://w.example", b"x", 1.0)
