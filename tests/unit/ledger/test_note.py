"""Signed notes: byte-compatibility with Go's sumdb/note vectors, and every malformed case."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.ledger import VerificationError, note

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "testdata" / "note" / "go_vectors.json").read_text(encoding="utf-8")
)
TEXT: str = VECTORS["text"]
PETER: dict[str, str] = VECTORS["peter"]
ENOCH: dict[str, str] = VECTORS["enoch"]


def _splice(line: str, at: int, insert: str) -> str:
    """Insert text at a byte offset of a UTF-8 line (Go's string slicing is by byte)."""
    raw = line.encode()
    return (raw[:at] + insert.encode() + raw[at:]).decode()


# --- Go vectors -------------------------------------------------------------------------------


def test_sign_produces_gos_bytes() -> None:
    signed = note.sign(TEXT, PETER["signer_key"])
    assert signed == VECTORS["signed_peter"]
    assert signed.encode() == VECTORS["signed_peter"].encode()


def test_verify_accepts_gos_note() -> None:
    assert note.verify(VECTORS["signed_peter"], [PETER["verifier_key"]]) == TEXT
    assert note.verify(VECTORS["signed_peter"].encode(), [PETER["verifier_key"]]) == TEXT


def test_verifier_key_from_go_signer_key() -> None:
    assert note.verifier_key_from_signer(PETER["signer_key"]) == PETER["verifier_key"]


def test_parse_go_verifier_keys() -> None:
    for who in (PETER, ENOCH):
        verifier = note.parse_verifier_key(who["verifier_key"])
        assert verifier.name == who["name"]
        assert verifier.key_hash == int(who["key_hash"], 16)
        assert len(verifier.public_key) == 32
        assert verifier.encode() == who["verifier_key"]
        assert verifier.key_id == f"{who['name']}+{who['key_hash']}"


def test_go_two_signatures_either_or_both_known() -> None:
    msg = TEXT + "\n" + PETER["sig_line"] + ENOCH["sig_line"]
    assert note.verify(msg, [PETER["verifier_key"]]) == TEXT
    assert note.verify(msg, [ENOCH["verifier_key"]]) == TEXT
    assert note.verify(msg, [PETER["verifier_key"], ENOCH["verifier_key"]]) == TEXT
    with pytest.raises(VerificationError, match="no signature by a known key"):
        note.verify(msg, [])


def test_go_invalid_signature() -> None:
    msg = TEXT + "\n" + _splice(PETER["sig_line"], 60, "ABCD")
    with pytest.raises(VerificationError, match=r"bad signature by key PeterNeumann\+c74f20a3"):
        note.verify(msg, [PETER["verifier_key"]])


def test_go_duplicated_verified_and_unverified_signatures() -> None:
    peter, enoch = PETER["sig_line"], ENOCH["sig_line"]
    msg = TEXT + "\n" + peter + peter + enoch + enoch + _splice(enoch, 60, "ABCD")
    assert note.verify(msg, [PETER["verifier_key"]]) == TEXT


def test_go_too_many_signatures() -> None:
    msg = TEXT + "\n" + PETER["sig_line"] * 101
    for keys in ([PETER["verifier_key"]], []):
        with pytest.raises(VerificationError, match="more than 100 signatures"):
            note.verify(msg, keys)
    # Exactly 100 is fine.
    assert note.verify(TEXT + "\n" + PETER["sig_line"] * 100, [PETER["verifier_key"]]) == TEXT


@pytest.mark.parametrize(
    ("msg", "why"),
    [
        (TEXT, "no blank line"),
        (TEXT + "\n", "no signature lines"),
        (TEXT + "\n" + PETER["sig_line"][:-1], "no final newline"),
        ("\x01" + TEXT + "\n" + PETER["sig_line"], "control character U\\+0001"),
        (TEXT + "\n" + PETER["sig_line"].replace("PeterNeumann", "Bad Name")[:-1], "final newline"),
        (TEXT + "\n" + PETER["sig_line"].replace("PeterNeumann", "Bad Name"), "not valid base64"),
        (TEXT + "\n" + PETER["sig_line"] + "Unexpected line.\n", "does not start with '— '"),
    ],
    ids=[
        "text-only",
        "empty-signature-block",
        "missing-final-newline",
        "control-char",
        "bad-name-no-newline",
        "name-with-space",
        "unexpected-line",
    ],
)
def test_go_malformed_notes(msg: str, why: str) -> None:
    with pytest.raises(VerificationError, match=f"malformed note.*{why}"):
        note.verify(msg, [PETER["verifier_key"]])


def test_go_invalid_utf8() -> None:
    msg = b"\xff" + (TEXT + "\n" + PETER["sig_line"]).encode()
    with pytest.raises(VerificationError, match="malformed note: invalid UTF-8"):
        note.verify(msg, [PETER["verifier_key"]])


def test_go_verifier_key_manglings_rejected() -> None:
    vkey = PETER["verifier_key"]
    for i in range(len(vkey) + 1):
        for j in range(i + 1, len(vkey) + 1):
            if (i, j) != (0, len(vkey)):
                with pytest.raises(VerificationError):
                    note.parse_verifier_key(vkey[i:j])
    for i in range(len(vkey)):
        mangled = vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :]
        with pytest.raises(VerificationError):
            note.parse_verifier_key(mangled)
    for bad in VECTORS["bad_verifier_keys"]:
        with pytest.raises(VerificationError, match="malformed verifier key"):
            note.parse_verifier_key(bad)


def test_go_signer_key_manglings_rejected() -> None:
    skey = PETER["signer_key"]
    for i in range(len(skey) + 1):
        for j in range(i + 1, len(skey) + 1):
            if (i, j) != (0, len(skey)):
                with pytest.raises(VerificationError, match="malformed signer key"):
                    note.verifier_key_from_signer(skey[i:j])
    for i in range(len(skey)):
        mangled = skey[:i] + chr(ord(skey[i]) + 1) + skey[i + 1 :]
        with pytest.raises(VerificationError, match="malformed signer key"):
            note.sign(TEXT, mangled)


def test_signer_key_errors_do_not_leak_the_secret() -> None:
    skey = PETER["signer_key"]
    secret = skey.split("+", 4)[4]
    mangled = skey[:-3] + "AAA"  # valid base64, wrong seed, so a hash mismatch
    with pytest.raises(VerificationError) as info:
        note.verifier_key_from_signer(mangled)
    assert "does not match" in str(info.value)
    assert secret[:-3] not in str(info.value)


# --- Our own keys -----------------------------------------------------------------------------


def test_generate_key_formats_and_hash_formula() -> None:
    skey, vkey = note.generate_key("triage.example/ledger")
    name, hash16, key64 = vkey.split("+", 2)
    assert name == "triage.example/ledger"
    assert len(hash16) == 8
    assert hash16 == hash16.lower()
    key = base64.b64decode(key64, validate=True)
    assert key[0] == 0x01
    assert len(key) == 33
    expected = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex()
    assert hash16 == expected

    assert skey.startswith(f"PRIVATE+KEY+{name}+{hash16}+")
    seed = base64.b64decode(skey.split("+", 4)[4], validate=True)
    assert seed[0] == 0x01
    assert len(seed) == 33
    assert note.verifier_key_from_signer(skey) == vkey
    assert note.parse_verifier_key(vkey).public_key == key[1:]


def test_generate_key_unicode_name() -> None:
    skey, vkey = note.generate_key("café-log")
    assert note.verify(note.sign("hé\n", skey), [vkey]) == "hé\n"


@pytest.mark.parametrize(
    "name",
    ["", "a+b", "a b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\u3000b", "a\ud800b"],
)
def test_generate_key_rejects_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid key name"):
        note.generate_key(name)


def test_roundtrip() -> None:
    skey, vkey = note.generate_key("roundtrip")
    text = "line one\n\nline three after a blank line\n"
    signed = note.sign(text, skey)
    assert signed.startswith(text + "\n— roundtrip ")
    assert note.verify(signed, [vkey]) == text
    assert note.verify(signed.encode(), (vkey,)) == text
    # Any key list that includes ours works; unknown keys are ignored.
    _, other_vkey = note.generate_key("other")
    assert note.verify(signed, [other_vkey, vkey]) == text
    # Identical duplicate verifier keys are harmless.
    assert note.verify(signed, [vkey, vkey]) == text


def test_minimal_text_and_trailing_blank_lines() -> None:
    skey, vkey = note.generate_key("n")
    for text in ("\n", "\n\n", "a\n\n\n"):
        assert note.verify(note.sign(text, skey), [vkey]) == text


def test_sign_rejects_bad_text() -> None:
    skey, _ = note.generate_key("n")
    with pytest.raises(ValueError, match="newline"):
        note.sign("no newline", skey)
    with pytest.raises(ValueError, match="control character"):
        note.sign("tab\there\n", skey)
    with pytest.raises(ValueError, match="UTF-8"):
        note.sign("\ud800\n", skey)


def test_tampered_text_fails() -> None:
    skey, vkey = note.generate_key("log")
    signed = note.sign("size 10\n", skey)
    with pytest.raises(VerificationError, match=r"bad signature by key log\+"):
        note.verify(signed.replace("size 10", "size 11"), [vkey])


def test_tampered_signature_fails() -> None:
    skey, vkey = note.generate_key("log")
    signed = note.sign("hello\n", skey)
    text, sig_line = signed.split("\n\n")
    prefix, b64 = sig_line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 0x01
    tampered = f"{text}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(VerificationError, match=r"bad signature by key log\+"):
        note.verify(tampered, [vkey])
    # A signature that is not 64 bytes is a bad signature, not a crash.
    short = f"{text}\n\n{prefix} {base64.b64encode(bytes(raw[:20])).decode()}\n"
    with pytest.raises(VerificationError, match=r"bad signature by key log\+"):
        note.verify(short, [vkey])


def test_wrong_key_hash_in_signature_is_unknown_key() -> None:
    skey, vkey = note.generate_key("log")
    signed = note.sign("hello\n", skey)
    text, sig_line = signed.split("\n\n")
    prefix, b64 = sig_line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0xFF
    other = f"{text}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(VerificationError, match="no signature by a known key"):
        note.verify(other, [vkey])


def test_unknown_key_only_fails() -> None:
    skey, _ = note.generate_key("signer")
    _, stranger = note.generate_key("stranger")
    _, same_name = note.generate_key("signer")  # same name, different key, different hash
    signed = note.sign("hello\n", skey)
    for keys in ([stranger], [same_name], []):
        with pytest.raises(VerificationError, match="no signature by a known key"):
            note.verify(signed, keys)


def test_known_bad_signature_alongside_good_one_fails() -> None:
    good_skey, good_vkey = note.generate_key("good")
    bad_skey, bad_vkey = note.generate_key("bad")
    text = "checkpoint\n"
    good_line = note.sign(text, good_skey).split("\n\n")[1]
    bad_line = note.sign("something else\n", bad_skey).split("\n\n")[1]
    for lines in (good_line + bad_line, bad_line + good_line):
        with pytest.raises(VerificationError, match=r"bad signature by key bad\+"):
            note.verify(f"{text}\n{lines}", [good_vkey, bad_vkey])
    # Without the bad key in the list, its signature is simply ignored.
    assert note.verify(f"{text}\n{good_line}{bad_line}", [good_vkey]) == text


def test_identical_verifier_keys_are_deduplicated() -> None:
    skey, vkey = note.generate_key("dup")
    signed = note.sign("x\n", skey)
    assert note.verify(signed, [vkey, note.parse_verifier_key(vkey).encode()]) == "x\n"


def test_ambiguous_verifier_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two different keys with the same name and key hash need a 32-bit hash collision; fake one.
    monkeypatch.setattr(note, "_key_hash", lambda name, key: 0x12345678)
    skey, vkey = note.generate_key("amb")
    _, other = note.generate_key("amb")
    assert vkey.split("+")[1] == other.split("+")[1] == "12345678"
    signed = note.sign("x\n", skey)
    assert note.verify(signed, [vkey]) == "x\n"
    with pytest.raises(VerificationError, match=r"ambiguous key amb\+12345678"):
        note.verify(signed, [vkey, other])


@pytest.mark.parametrize(
    ("msg", "why"),
    [
        ("text\n\nno dash here\n", "does not start with"),
        ("text\n\n- ascii dash AAAAAAAA\n", "does not start with"),
        ("text\n\n—  leading-space AAAAAAAA\n", "invalid key name ''"),
        ("text\n\n— a+b AAAAAAAA\n", "invalid key name 'a\\+b'"),
        ("text\n\n— name\n", "has no signature"),
        ("text\n\n— name \n", "has no signature"),
        ("text\n\n— name AAAA\n", "too short"),
        ("text\n\n— name AAAAAA==\n", "too short"),
        ("text\n\n— name AAAAAAA\n", "not valid base64"),
        ("text\n\n— name AAAAAAAA==\n", "not valid base64"),
        ("text\n\n— name AAAA AAAA\n", "not valid base64"),
        ("text\n\n— name AAAA-_AA\n", "not valid base64"),
        ("text\n\n— name AAAAAAAAAAAA\n\n", "no signature lines"),
        ("text\n\n\n", "no signature lines"),
        ("text\r\n\n— name AAAAAAAAAAAA\n", "control character U\\+000D"),
        ("text\n\n— name AAAAAAAAAAAA\x00\n", "control character U\\+0000"),
        ("", "no blank line"),
        ("\n", "no blank line"),
        ("\n\n", "no signature lines"),
    ],
)
def test_malformed_notes(msg: str, why: str) -> None:
    _, vkey = note.generate_key("name")
    with pytest.raises(VerificationError, match=f"malformed note.*{why}"):
        note.verify(msg, [vkey])


def test_surrogate_in_str_note() -> None:
    with pytest.raises(VerificationError, match="malformed note"):
        note.verify("a\ud800\n\n— name AAAAAAAAAAAA\n", [PETER["verifier_key"]])


def test_malformed_note_detected_even_after_good_signature() -> None:
    msg = VECTORS["signed_peter"] + "— \n"
    with pytest.raises(VerificationError, match="malformed note"):
        note.verify(msg, [PETER["verifier_key"]])


@pytest.mark.parametrize(
    ("vkey", "why"),
    [
        ("", "invalid key name"),
        ("PeterNeumann", "not 8 hex digits"),
        ("PeterNeumann+c74f20a3", "not valid base64"),
        ("PeterNeumann+c74f20a3+", "not valid base64"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy\n10TW", "base64"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", None),
    ],
)
def test_malformed_verifier_keys(vkey: str, why: str | None) -> None:
    if why is None:  # Go's ParseUint accepts upper-case hex too.
        assert note.parse_verifier_key(vkey).key_hash == 0xC74F20A3
        return
    with pytest.raises(VerificationError, match=f"malformed verifier key.*{why}"):
        note.parse_verifier_key(vkey)
    with pytest.raises(VerificationError, match="malformed verifier key"):
        note.verify(VECTORS["signed_peter"], [PETER["verifier_key"], vkey])


def test_verifier_key_algorithm_and_length_with_adjusted_hash() -> None:
    def with_hash(name: str, key: bytes) -> str:
        key_hash = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex()
        return f"{name}+{key_hash}+{base64.b64encode(key).decode()}"

    good = note.parse_verifier_key(PETER["verifier_key"]).public_key
    with pytest.raises(VerificationError, match="unknown algorithm 0x02"):
        note.parse_verifier_key(with_hash("x", b"\x02" + good))
    with pytest.raises(VerificationError, match="31 bytes, not 32"):
        note.parse_verifier_key(with_hash("x", b"\x01" + good[:31]))
    with pytest.raises(VerificationError, match="0 bytes, not 32"):
        note.parse_verifier_key(with_hash("x", b"\x01"))
    assert note.parse_verifier_key(with_hash("x", b"\x01" + good)).public_key == good


# --- Properties -------------------------------------------------------------------------------

_SIG_LINE = st.builds(
    lambda name, blob, sep: f"{sep}{name} {base64.b64encode(blob).decode()}\n",
    st.sampled_from(["PeterNeumann", "EnochRoot", "x", "a+b", ""]),
    st.one_of(
        st.binary(max_size=80),
        st.builds(lambda tail: bytes.fromhex("c74f20a3") + tail, st.binary(max_size=70)),
    ),
    st.sampled_from(["— ", "—", "- ", ""]),
)
_STRUCTURED = st.builds(
    lambda text, lines: text + "\n" + "".join(lines),
    st.text(max_size=40),
    st.lists(_SIG_LINE, max_size=4),
)


@given(st.one_of(st.text(), st.binary(), _STRUCTURED, _STRUCTURED.map(str.encode)))
def test_verify_only_raises_verification_error(data: str | bytes) -> None:
    try:
        text = note.verify(data, [PETER["verifier_key"], ENOCH["verifier_key"]])
    except VerificationError:
        return
    assert text.endswith("\n")


@given(st.text())
def test_parse_verifier_key_only_raises_verification_error(vkey: str) -> None:
    with contextlib.suppress(VerificationError):
        note.parse_verifier_key(vkey)


@given(
    st.text(alphabet=st.characters(codec="utf-8", min_codepoint=0x20), max_size=200).map(
        lambda t: t + "\n"
    )
)
def test_sign_verify_roundtrip_property(text: str) -> None:
    assert note.verify(note.sign(text, PETER["signer_key"]), [PETER["verifier_key"]]) == text
