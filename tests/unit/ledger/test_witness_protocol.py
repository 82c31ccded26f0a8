"""C2SP tlog-witness add-checkpoint wire format: requests, 409 size bodies, 200 cosignature
bodies and origin hashes, parsed strictly."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, format_checkpoint
from triage.ledger.cosignature import cosign, generate_cosigner_key, verify_cosignatures
from triage.ledger.witness_protocol import (
    MAX_BODY_BYTES,
    MAX_PROOF_LINES,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    ProtocolError,
    format_add_checkpoint,
    format_size_body,
    origin_hash,
    parse_add_checkpoint,
    parse_cosignature_lines,
    parse_size_body,
)

# The spec's example request, as it shows it (its signatures are not checked here).
SPEC_REQUEST = """old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
"""  # noqa: E501
SPEC_RESPONSE = """— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
"""  # noqa: E501

H = [hashlib.sha256(bytes([i])).digest() for i in range(MAX_PROOF_LINES + 1)]
ORIGIN = "triage.example/ledger"
BODY = format_checkpoint(Checkpoint(ORIGIN, 9, hashlib.sha256(b"r").digest()))
SIGNER, VKEY = note.generate_key(ORIGIN)
SIGNED = note.sign(BODY, SIGNER)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- add-checkpoint requests ------------------------------------------------------------------


def test_the_specs_example_request_parses() -> None:
    request = parse_add_checkpoint(SPEC_REQUEST.encode())
    assert request.old_size == 20852014
    assert [_b64(h) for h in request.proof] == SPEC_REQUEST.splitlines()[1:5]
    assert request.checkpoint == SPEC_REQUEST.split("\n\n", 1)[1]
    assert request.checkpoint.startswith("example.com/behind-the-sofa\n20852163\n")
    assert format_add_checkpoint(request) == SPEC_REQUEST.encode()


def test_a_request_is_old_line_proof_lines_empty_line_and_the_note() -> None:
    request = AddCheckpoint(7, (H[0], H[1]), SIGNED)
    body = format_add_checkpoint(request)
    assert body == f"old 7\n{_b64(H[0])}\n{_b64(H[1])}\n\n{SIGNED}".encode()
    assert parse_add_checkpoint(body) == request


def test_a_first_request_has_old_0_and_no_proof() -> None:
    body = format_add_checkpoint(AddCheckpoint(0, (), SIGNED))
    assert body == f"old 0\n\n{SIGNED}".encode()
    assert parse_add_checkpoint(body) == AddCheckpoint(0, (), SIGNED)


def test_63_proof_lines_are_accepted_and_64_refused() -> None:
    proof = tuple(H[:MAX_PROOF_LINES])
    assert parse_add_checkpoint(format_add_checkpoint(AddCheckpoint(5, proof, SIGNED))).proof == (
        proof
    )
    lines = "".join(f"{_b64(h)}\n" for h in H[: MAX_PROOF_LINES + 1])
    with pytest.raises(ProtocolError, match="more than 63 proof lines"):
        parse_add_checkpoint(f"old 5\n{lines}\n{SIGNED}".encode())
    with pytest.raises(ValueError, match="more than 63"):
        format_add_checkpoint(AddCheckpoint(5, tuple(H), SIGNED))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "no old size line"),
        (b"old 5", "no old size line"),
        (f"old 05\n\n{SIGNED}".encode(), r"is not 'old <size>' \(decimal, no leading zeros\)"),
        (f"old 00\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old -1\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old +1\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old  1\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old 1 \n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old\t1\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"Old 1\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old \u0661\n\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old 1\r\n\r\n{SIGNED}".encode(), "is not 'old <size>'"),
        (f"old {2**64}\n\n{SIGNED}".encode(), "does not fit in 64 bits"),
        (f"old 5\n{_b64(H[0])}\n{SIGNED}".encode(), "proof line 2 is not valid base64"),
        (f"old 5\n{_b64(H[0])}".encode(), "no empty line between the proof and the note"),
        (f"old 5\n{_b64(H[0])}\n".encode(), "no empty line"),
        (f"old 5\n{_b64(H[0])[:-1]}\n\n{SIGNED}".encode(), "proof line 1 is not valid base64"),
        (f"old 5\n{_b64(H[0]).rstrip('=')}\n\n{SIGNED}".encode(), "proof line 1 is not valid"),
        (f"old 5\n {_b64(H[0])}\n\n{SIGNED}".encode(), "proof line 1 is not valid base64"),
        (f"old 5\n{_b64(H[0][:31])}\n\n{SIGNED}".encode(), "proof line 1 is 31 bytes, not a 32"),
        (b"old 5\n\n", "no checkpoint after the empty line"),
        (f"old 5\n\n{SIGNED[:-1]}".encode(), "the checkpoint note does not end with a newline"),
        (b"old 5\n\n\xff\n", "not UTF-8"),
        (b"\xffold 5\n\n", "not UTF-8 \\(at byte 0\\)"),
    ],
)
def test_malformed_requests_are_refused_naming_what_is_wrong(body: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        parse_add_checkpoint(body)


def test_a_request_over_64_kib_is_refused_before_it_is_parsed() -> None:
    padding = "x" * (MAX_BODY_BYTES - len(f"old 0\n\n{SIGNED}".encode()) + 1)
    with pytest.raises(ProtocolError, match="larger than 64 KiB"):
        parse_add_checkpoint(f"old 0\n\n{SIGNED}{padding}".encode())
    exact = f"old 0\n\n{SIGNED}{padding[:-2]}\n".encode()
    assert len(exact) == MAX_BODY_BYTES
    assert parse_add_checkpoint(exact).old_size == 0
    with pytest.raises(ValueError, match="larger than 64 KiB"):
        format_add_checkpoint(AddCheckpoint(0, (), f"{SIGNED}{padding}\n"))


def test_a_protocol_error_is_a_value_error() -> None:
    assert issubclass(ProtocolError, ValueError)


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        (AddCheckpoint(-1, (), SIGNED), "old size -1"),
        (AddCheckpoint(2**64, (), SIGNED), "old size"),
        (AddCheckpoint(True, (), SIGNED), "old size True"),
        (AddCheckpoint(1, (H[0][:16],), SIGNED), "proof hash 1 is 16 bytes"),
        (AddCheckpoint(1, (), SIGNED[:-1]), "does not end with a newline"),
    ],
)
def test_format_refuses_what_it_could_not_parse_back(request_: AddCheckpoint, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        format_add_checkpoint(request_)


@settings(max_examples=50)
@given(
    old_size=st.integers(0, 2**64 - 1),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=MAX_PROOF_LINES),
)
def test_request_round_trip_property(old_size: int, proof: list[bytes]) -> None:
    request = AddCheckpoint(old_size, tuple(proof), SIGNED)
    assert parse_add_checkpoint(format_add_checkpoint(request)) == request


@given(st.binary(max_size=300))
def test_parse_add_checkpoint_only_raises_protocol_error(body: bytes) -> None:
    try:
        request = parse_add_checkpoint(body)
    except ProtocolError:
        return
    assert format_add_checkpoint(request) == body


# --- the 409 body -----------------------------------------------------------------------------


def test_the_size_body_is_the_decimal_size_and_a_newline() -> None:
    assert SIZE_CONTENT_TYPE == "text/x.tlog.size"
    assert format_size_body(20852014) == b"20852014\n"
    assert format_size_body(0) == b"0\n"
    for size in (0, 1, 20852014, 2**64 - 1):
        assert parse_size_body(format_size_body(size)) == size


@pytest.mark.parametrize(
    "body", [b"", b"\n", b"5", b"05\n", b"-1\n", b" 5\n", b"5 \n", b"5\r\n", b"1e3\n", b"5\n\n"]
)
def test_a_malformed_size_body_is_refused(body: bytes) -> None:
    with pytest.raises(ProtocolError, match="size answer"):
        parse_size_body(body)


def test_a_size_beyond_64_bits_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_size_body(f"{2**64}\n".encode())
    with pytest.raises(ProtocolError):
        parse_size_body(b"9" * 1000 + b"\n")
    with pytest.raises(ValueError, match="size -1"):
        format_size_body(-1)


# --- the 200 body -----------------------------------------------------------------------------


def test_the_specs_example_response_parses_into_its_lines() -> None:
    lines = parse_cosignature_lines(SPEC_RESPONSE.encode())
    assert lines == SPEC_RESPONSE.splitlines(keepends=True)
    assert all(line.endswith("\n") for line in lines)


def test_cosignature_lines_from_a_witness_verify_on_the_note() -> None:
    w_signer, w_vkey = generate_cosigner_key("witness.example/w1")
    body = cosign(BODY, w_signer, 1_700_000_000).encode()
    lines = parse_cosignature_lines(body)
    _, found = verify_cosignatures(SIGNED + "".join(lines), [w_vkey])
    assert [c.line for c in found] == lines


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "no signature line"),
        (b"\n", "line 1 does not start with"),
        (b"- w AAAAAAAA\n", "line 1 does not start with"),
        ("— w AAAAAAAA".encode(), "no final newline"),
        ("— w AAAAAAAA\n\n".encode(), "line 2 does not start with"),
        ("— w AAAAAAAA\r\n".encode(), "line 1 holds a control character"),
        ("— w AAAAAAAA\nok\n".encode(), "line 2 does not start with"),
        ("— a+b AAAAAAAA\n".encode(), "line 1 has an invalid key name 'a\\+b'"),
        ("—  AAAAAAAA\n".encode(), "line 1 has an invalid key name ''"),
        ("— w AAAA\n".encode(), "line 1 by w is not a base64 signature"),
        ("— w AAAAAAA\n".encode(), "line 1 by w is not a base64 signature"),
        ("— w\n".encode(), "line 1 by w is not a base64 signature"),
        (b"\xe2\x80\x94 w \xff\n", "not UTF-8"),
        ("— w AAAAAAAA\n".encode() * 101, "more than 100 signature lines"),
        (b"x" * (MAX_BODY_BYTES + 1), "larger than 64 KiB"),
    ],
)
def test_a_malformed_cosignature_body_is_refused(body: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        parse_cosignature_lines(body)


# --- origin hash ------------------------------------------------------------------------------


def test_origin_hash_is_lowercase_hex_sha256_of_the_origin() -> None:
    assert origin_hash("example.com/behind-the-sofa") == (
        hashlib.sha256(b"example.com/behind-the-sofa").hexdigest()
    )
    assert origin_hash(ORIGIN) == hashlib.sha256(ORIGIN.encode()).hexdigest().lower()
    assert len(origin_hash(ORIGIN)) == 64
    assert origin_hash("caf\u00e9") == hashlib.sha256("caf\u00e9".encode()).hexdigest()
