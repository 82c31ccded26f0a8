"""C2SP tlog-cosignature: the byte layout of Ed25519 cosignatures, keys, and verification."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, format_checkpoint, parse_checkpoint
from triage.ledger.cosignature import (
    ALG_COSIGNATURE_V1,
    MAX_TIMESTAMP,
    Cosigner,
    cosign,
    cosigned_message,
    cosigner_key_from_signer,
    generate_cosigner_key,
    note_with_signatures,
    parse_cosigner_key,
    verify_cosignatures,
)
from triage.ledger.errors import VerificationError

TESTDATA = Path(__file__).parent / "testdata" / "cosignature"
ORIGIN = "triage.example/ledger"
BODY = format_checkpoint(Checkpoint(ORIGIN, 20852163, hashlib.sha256(b"root").digest()))
T = 1679315147
TYPE = bytes([ALG_COSIGNATURE_V1])  # 0x04


class Keys:
    """The log's key and two witnesses' keys, generated for these tests."""

    def __init__(self) -> None:
        self.log_signer, self.log_vkey = note.generate_key(ORIGIN)
        self.w1_signer, self.w1 = generate_cosigner_key("witness.example/w1")
        self.w2_signer, self.w2 = generate_cosigner_key("witness.example/w2")
        self.signed = note.sign(BODY, self.log_signer)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _line_blob(line: str) -> bytes:
    assert line.startswith("— ") and line.endswith("\n")
    return base64.b64decode(line[:-1].split(" ")[2])


def _relined(line: str, blob: bytes) -> str:
    name = line.split(" ")[1]
    return f"— {name} {_b64(blob)}\n"


# --- the byte layout, built by hand from the spec ---------------------------------------------


def test_a_cosignature_is_exactly_the_spec_layout_built_by_hand() -> None:
    private = Ed25519PrivateKey.generate()
    seed, public = private.private_bytes_raw(), private.public_key().public_bytes_raw()
    name = "witness.example/hand"
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4]
    signer = f"PRIVATE+KEY+{name}+{key_id.hex()}+{_b64(TYPE + seed)}"
    message = b"cosignature/v1\n" + f"time {T}\n".encode() + BODY.encode()
    # key ID (4 bytes) || timestamp (u64, big-endian) || Ed25519 signature (64 bytes)
    blob = key_id + struct.pack(">Q", T) + private.sign(message)
    assert len(blob) == 4 + 8 + 64

    line = cosign(BODY, signer, T)

    assert line == f"— {name} {_b64(blob)}\n"
    assert cosigner_key_from_signer(signer) == f"{name}+{key_id.hex()}+{_b64(TYPE + public)}"


def test_the_signed_message_is_the_specs_example() -> None:
    cosigned = (TESTDATA / "spec_cosigned_checkpoint.txt").read_text(encoding="utf-8")
    body = cosigned[: cosigned.index("\n\n") + 1]
    expected = (TESTDATA / "spec_signed_message.txt").read_bytes()
    assert cosigned_message(body, 1679315147) == expected


def test_the_specs_example_cosignature_has_the_layout() -> None:
    cosigned = (TESTDATA / "spec_cosigned_checkpoint.txt").read_text(encoding="utf-8")
    witness_line = cosigned.splitlines()[-1]
    assert witness_line.startswith("— witness.example.com/w1 ")
    blob = base64.b64decode(witness_line.split(" ")[2])
    key_id, timestamp, _ = struct.unpack(">IQ64s", blob)
    assert len(blob) == 76
    assert timestamp == 1679315147  # the time of the spec's signed-message example
    assert key_id == 0x8D66CF3F
    # Unknown to us (its key is not published), the line is ignored; the note still parses.
    _, w1 = generate_cosigner_key("witness.example.com/w1")
    assert verify_cosignatures(cosigned, [w1]) == (
        cosigned[: cosigned.index("\n\n") + 1],
        [],
    )


def test_key_id_is_sha256_of_name_newline_0x04_and_key() -> None:
    _, vkey = generate_cosigner_key("witness.example/w1")
    cosigner = parse_cosigner_key(vkey)
    digest = hashlib.sha256(b"witness.example/w1\n\x04" + cosigner.public_key).digest()
    assert cosigner.key_hash == int.from_bytes(digest[:4], "big")
    # The same public key as a log key (type 0x01) has another key ID: the types never mix.
    log_digest = hashlib.sha256(b"witness.example/w1\n\x01" + cosigner.public_key).digest()
    assert cosigner.key_hash != int.from_bytes(log_digest[:4], "big")


def test_vkey_is_name_hash_and_base64_of_type_0x04_and_key() -> None:
    # signed-note's vkey form: <name>+hex(key ID)+base64(signature type || public key).
    _, vkey = generate_cosigner_key("witness.example/w1")
    name, hash_hex, key64 = vkey.split("+", 2)
    raw = base64.b64decode(key64)
    assert name == "witness.example/w1"
    assert len(hash_hex) == 8 and hash_hex == hash_hex.lower()
    assert raw[0] == ALG_COSIGNATURE_V1 == 0x04 and len(raw) == 33
    cosigner = parse_cosigner_key(vkey)
    assert cosigner == Cosigner("witness.example/w1", int(hash_hex, 16), raw[1:])
    assert cosigner.encode() == vkey
    # Upper-case hex is accepted, as signed-note's Go implementation does.
    assert parse_cosigner_key(f"{name}+{hash_hex.upper()}+{key64}") == cosigner


def test_signer_key_is_private_key_name_hash_and_type_0x04_seed() -> None:
    signer, vkey = generate_cosigner_key("witness.example/w1")
    prefix, key, name, hash_hex, seed64 = signer.split("+", 4)
    seed = base64.b64decode(seed64)
    assert (prefix, key, name) == ("PRIVATE", "KEY", "witness.example/w1")
    assert seed[0] == 0x04 and len(seed) == 33
    assert hash_hex == vkey.split("+")[1]
    assert cosigner_key_from_signer(signer) == vkey


# --- round trip and refusals ------------------------------------------------------------------


def test_round_trip_two_witnesses_on_the_logs_note(keys: Keys) -> None:
    lines = [cosign(BODY, keys.w1_signer, T), cosign(BODY, keys.w2_signer, T + 5)]
    cosigned = note_with_signatures(keys.signed, lines)

    text, found = verify_cosignatures(cosigned, [keys.w1, keys.w2])

    assert text == BODY
    assert [(c.cosigner.name, c.timestamp, c.line) for c in found] == [
        ("witness.example/w1", T, lines[0]),
        ("witness.example/w2", T + 5, lines[1]),
    ]
    assert found[0].cosigner == parse_cosigner_key(keys.w1)
    # The log's own check ignores the cosignature lines and still passes.
    assert note.verify(cosigned, [keys.log_vkey]) == BODY


def test_only_the_given_cosigners_are_returned(keys: Keys) -> None:
    lines = [cosign(BODY, keys.w1_signer, T), cosign(BODY, keys.w2_signer, T)]
    cosigned = note_with_signatures(keys.signed, lines)
    _, found = verify_cosignatures(cosigned, [keys.w2])
    assert [c.cosigner.name for c in found] == ["witness.example/w2"]
    assert verify_cosignatures(cosigned, []) == (BODY, [])


def test_a_line_by_an_unknown_key_is_ignored(keys: Keys) -> None:
    stranger_signer, _ = generate_cosigner_key("witness.example/w1")  # same name, other key
    garbage = "— witness.example/w9 " + _b64(b"\x01\x02\x03\x04" + b"\x00" * 72) + "\n"
    cosigned = note_with_signatures(
        keys.signed, [cosign(BODY, stranger_signer, T), garbage, cosign(BODY, keys.w2_signer, T)]
    )
    _, found = verify_cosignatures(cosigned, [keys.w1, keys.w2])
    assert [c.cosigner.name for c in found] == ["witness.example/w2"]


def test_the_logs_line_is_not_taken_for_a_cosignature_even_under_the_same_name() -> None:
    # A witness named like the log: the key IDs (0x01 and 0x04) tell the lines apart.
    log_signer, log_vkey = note.generate_key(ORIGIN)
    w_signer, w_vkey = generate_cosigner_key(ORIGIN)
    cosigned = note_with_signatures(note.sign(BODY, log_signer), [cosign(BODY, w_signer, T)])
    _, found = verify_cosignatures(cosigned, [w_vkey])
    assert [c.line for c in found] == [cosigned.splitlines(keepends=True)[-1]]
    assert note.verify(cosigned, [log_vkey]) == BODY


def test_a_cosignature_alone_is_no_log_signature(keys: Keys) -> None:
    only_witness = f"{BODY}\n{cosign(BODY, keys.w1_signer, T)}"
    with pytest.raises(VerificationError, match="no signature by a known key"):
        note.verify(only_witness, [keys.log_vkey])
    _, found = verify_cosignatures(only_witness, [keys.w1])
    assert len(found) == 1


def test_a_tampered_timestamp_is_refused(keys: Keys) -> None:
    line = cosign(BODY, keys.w1_signer, T)
    blob = bytearray(_line_blob(line))
    blob[4:12] = struct.pack(">Q", T + 1)
    cosigned = note_with_signatures(keys.signed, [_relined(line, bytes(blob))])
    with pytest.raises(VerificationError, match=r"bad cosignature by witness.example/w1\+"):
        verify_cosignatures(cosigned, [keys.w1])


def test_a_tampered_body_is_refused(keys: Keys) -> None:
    line = cosign(BODY, keys.w1_signer, T)
    other = format_checkpoint(Checkpoint(ORIGIN, 20852164, hashlib.sha256(b"root").digest()))
    moved = note_with_signatures(note.sign(other, keys.log_signer), [line])
    with pytest.raises(VerificationError, match=r"bad cosignature by witness\.example/w1"):
        verify_cosignatures(moved, [keys.w1])


@pytest.mark.parametrize("position", [12, 40, 75])
def test_a_tampered_signature_is_refused(keys: Keys, position: int) -> None:
    line = cosign(BODY, keys.w1_signer, T)
    blob = bytearray(_line_blob(line))
    blob[position] ^= 0x01
    cosigned = note_with_signatures(keys.signed, [_relined(line, bytes(blob))])
    with pytest.raises(VerificationError, match=r"bad cosignature by witness\.example/w1"):
        verify_cosignatures(cosigned, [keys.w1])


@pytest.mark.parametrize("length", [5, 75, 77, 140])
def test_a_known_keys_line_of_the_wrong_length_is_refused(keys: Keys, length: int) -> None:
    line = cosign(BODY, keys.w1_signer, T)
    blob = _line_blob(line)
    changed = (blob + b"\x00" * 100)[:length]
    cosigned = note_with_signatures(keys.signed, [_relined(line, changed)])
    with pytest.raises(VerificationError, match=f"{length} bytes, not 76"):
        verify_cosignatures(cosigned, [keys.w1])


def test_a_known_keys_bad_line_is_refused_even_beside_a_good_one(keys: Keys) -> None:
    good = cosign(BODY, keys.w2_signer, T)
    bad = cosign(BODY, keys.w1_signer, T)
    blob = bytearray(_line_blob(bad))
    blob[-1] ^= 0x80
    cosigned = note_with_signatures(keys.signed, [good, _relined(bad, bytes(blob))])
    with pytest.raises(VerificationError, match=r"bad cosignature by witness\.example/w1"):
        verify_cosignatures(cosigned, [keys.w1, keys.w2])


def test_a_repeated_line_counts_once(keys: Keys) -> None:
    line = cosign(BODY, keys.w1_signer, T)
    cosigned = f"{keys.signed}{line}{line}"
    _, found = verify_cosignatures(cosigned, [keys.w1, keys.w1])
    assert len(found) == 1


def test_a_malformed_note_is_refused(keys: Keys) -> None:
    with pytest.raises(VerificationError, match="malformed note: no blank line"):
        verify_cosignatures(BODY, [keys.w1])
    with pytest.raises(VerificationError, match="does not start with"):
        verify_cosignatures(keys.signed + "junk\n", [keys.w1])


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", [0, 1, MAX_TIMESTAMP])
def test_timestamp_edges_round_trip(keys: Keys, timestamp: int) -> None:
    line = cosign(BODY, keys.w1_signer, timestamp)
    assert _line_blob(line)[4:12] == timestamp.to_bytes(8, "big")
    _, found = verify_cosignatures(note_with_signatures(keys.signed, [line]), [keys.w1])
    assert [c.timestamp for c in found] == [timestamp]
    assert cosigned_message(BODY, timestamp).startswith(
        f"cosignature/v1\ntime {timestamp}\n".encode()
    )


@pytest.mark.parametrize("timestamp", [-1, MAX_TIMESTAMP + 1, 2**64, True, 1.5])
def test_a_timestamp_out_of_range_is_not_signed(keys: Keys, timestamp: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        cosign(BODY, keys.w1_signer, timestamp)  # type: ignore[arg-type]


def test_a_timestamp_beyond_2_63_is_refused_even_when_signed() -> None:
    # Signed by hand, since cosign() will not: the verifier refuses it all the same.
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    name = "witness.example/future"
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    vkey = f"{name}+{key_id.hex()}+{_b64(TYPE + public)}"
    timestamp = 2**63
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + BODY.encode()
    blob = key_id + struct.pack(">Q", timestamp) + private.sign(message)
    log_signer, _ = note.generate_key(ORIGIN)
    cosigned = f"{note.sign(BODY, log_signer)}— {name} {_b64(blob)}\n"
    with pytest.raises(VerificationError, match="timestamp 9223372036854775808 is beyond"):
        verify_cosignatures(cosigned, [vkey])


# --- keys -------------------------------------------------------------------------------------


def test_key_types_do_not_mix(keys: Keys) -> None:
    with pytest.raises(VerificationError, match=r"unknown algorithm 0x01 \(want 0x04\)"):
        parse_cosigner_key(keys.log_vkey)
    with pytest.raises(VerificationError, match=r"unknown algorithm 0x04 \(want 0x01\)"):
        note.parse_verifier_key(keys.w1)
    with pytest.raises(VerificationError, match=r"unknown algorithm 0x01 \(want 0x04\)"):
        cosign(BODY, keys.log_signer, T)
    with pytest.raises(VerificationError, match=r"unknown algorithm 0x04 \(want 0x01\)"):
        note.sign(BODY, keys.w1_signer)
    with pytest.raises(VerificationError, match="want 0x04"):
        cosigner_key_from_signer(keys.log_signer)


@pytest.mark.parametrize(
    ("mangle", "why"),
    [
        (lambda v: v.replace("+", " ", 1), "invalid key name"),
        (lambda v: v[: v.index("+") + 5] + v[v.index("+") + 9 :], "not 8 hex digits"),
        (lambda v: v[:-1], "not valid base64"),
        (lambda v: v + "=", "not valid base64"),
        (lambda v: v.replace("witness", "witnesz", 1), "does not match the key"),
    ],
)
def test_malformed_cosigner_keys_are_refused(keys: Keys, mangle: object, why: str) -> None:
    assert callable(mangle)
    with pytest.raises(VerificationError, match=f"malformed verifier key.*{why}"):
        parse_cosigner_key(mangle(keys.w1))


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there"])
def test_a_bad_cosigner_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid key name"):
        generate_cosigner_key(name)


def test_only_a_checkpoint_is_cosigned(keys: Keys) -> None:
    with pytest.raises(ValueError, match="only a checkpoint is cosigned"):
        cosign("just a note\n", keys.w1_signer, T)
    with pytest.raises(ValueError, match="end with a newline"):
        cosign(BODY[:-1], keys.w1_signer, T)


# --- note_with_signatures ---------------------------------------------------------------------


def test_note_with_signatures_appends_each_new_line_once(keys: Keys) -> None:
    w1 = cosign(BODY, keys.w1_signer, T)
    w2 = cosign(BODY, keys.w2_signer, T)
    once = note_with_signatures(keys.signed, [w1])
    assert once == keys.signed + w1
    assert note_with_signatures(once, [w1, w2.rstrip("\n"), w2]) == keys.signed + w1 + w2
    assert note_with_signatures(keys.signed, []) == keys.signed


@pytest.mark.parametrize(
    ("signed", "line"),
    [
        (BODY, "— w AAAAAAAA"),
        ("text\n\n— log AAAAAAAA\n", "not a line"),
        ("text\n\n— log AAAAAAAA\n", "— w AAAA\n— x AAAAAAAA"),
        ("text\n\n— log AAAAAAAA\n", "— a+b AAAAAAAA"),
        ("text\n\n— log AAAAAAAA\n", "— w !!!!"),
    ],
)
def test_note_with_signatures_refuses_what_is_not_a_signature_line(signed: str, line: str) -> None:
    with pytest.raises(ValueError, match=r"not a signed note|not a signature line"):
        note_with_signatures(signed, [line])


# --- properties -------------------------------------------------------------------------------

_CHECKPOINTS = st.builds(
    Checkpoint,
    st.text(
        alphabet=st.characters(codec="utf-8", min_codepoint=0x21, exclude_characters="\x7f"),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
)


@settings(max_examples=50, deadline=None)
@given(checkpoint=_CHECKPOINTS, timestamp=st.integers(0, MAX_TIMESTAMP))
def test_cosign_verify_round_trip_property(
    keys: Keys, checkpoint: Checkpoint, timestamp: int
) -> None:
    body = format_checkpoint(checkpoint)
    line = cosign(body, keys.w1_signer, timestamp)
    signed = note_with_signatures(note.sign(body, keys.log_signer), [line])
    text, found = verify_cosignatures(signed, [keys.w1, keys.w2])
    assert parse_checkpoint(text) == checkpoint
    assert [(c.timestamp, c.line) for c in found] == [(timestamp, line)]
    assert note.verify(signed, [keys.log_vkey]) == body


@settings(max_examples=50, deadline=None)
@given(
    timestamp=st.integers(0, MAX_TIMESTAMP),
    position=st.integers(0, 75),
    bit=st.integers(0, 7),
)
def test_any_flipped_bit_is_refused_or_ignored_property(
    keys: Keys, timestamp: int, position: int, bit: int
) -> None:
    # A flipped bit in the key ID makes the line an unknown key's (ignored); anywhere else the
    # line is refused: never is a changed cosignature accepted.
    line = cosign(BODY, keys.w1_signer, timestamp)
    blob = bytearray(_line_blob(line))
    blob[position] ^= 1 << bit
    cosigned = note_with_signatures(keys.signed, [_relined(line, bytes(blob))])
    if position < 4:
        assert verify_cosignatures(cosigned, [keys.w1]) == (BODY, [])
    else:
        with pytest.raises(VerificationError):
            verify_cosignatures(cosigned, [keys.w1])


@given(st.text(max_size=120))
def test_parse_cosigner_key_only_raises_verification_error(vkey: str) -> None:
    try:
        cosigner = parse_cosigner_key(vkey)
    except VerificationError:
        return
    assert cosigner.encode().lower() == vkey.lower()
