"""Checkpoint bodies (C2SP tlog-checkpoint): format, strict parse, sign and open."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.ledger import VerificationError, note
from triage.ledger.checkpoint import (
    MAX_SIZE,
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
ORIGIN = "triage.example/ledger/v1"


def test_format_exact_text() -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    assert format_checkpoint(cp) == f"{ORIGIN}\n42\n{ROOT_B64}\n"
    with_ext = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "— ext two"))
    assert format_checkpoint(with_ext) == f"{ORIGIN}\n0\n{ROOT_B64}\next one\n— ext two\n"


def test_parse_known_text() -> None:
    # The example from c2sp.org/tlog-checkpoint.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(text)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert format_checkpoint(cp) == text


@pytest.mark.parametrize(
    "cp",
    [
        Checkpoint(ORIGIN, 0, bytes(32)),
        Checkpoint(ORIGIN, 1, ROOT),
        Checkpoint(ORIGIN, MAX_SIZE, b"\xff" * 32),
        Checkpoint("x", 7, ROOT, ("a",)),
        Checkpoint("ünïcode origin with spaces", 3, ROOT, ("one", "two words", "three")),
    ],
)
def test_roundtrip(cp: Checkpoint) -> None:
    assert parse_checkpoint(format_checkpoint(cp)) == cp


@given(
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20),
        max_size=3,
    ),
)
def test_roundtrip_property(size: int, root: bytes, extensions: list[str]) -> None:
    cp = Checkpoint(ORIGIN, size, root, tuple(extensions))
    text = format_checkpoint(cp)
    assert parse_checkpoint(text) == cp
    assert format_checkpoint(parse_checkpoint(text)) == text


def _body(origin: str = ORIGIN, size: str = "5", root: str = ROOT_B64, *ext: str) -> str:
    return "".join(f"{line}\n" for line in (origin, size, root, *ext))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (_body()[:-1], "does not end with a newline"),
        ("", "does not end with a newline"),
        ("\n", "1 line"),
        (f"{ORIGIN}\n5\n", "2 line"),
        (_body(origin=""), "line 1 \\(origin\\) is empty"),
        (_body(origin="a\tb"), "line 1 \\(origin\\) has control character U\\+0009"),
        (_body(origin="a\x7fb"), "line 1 \\(origin\\) has control character U\\+007F"),
        (_body(origin="a\rb"), "line 1 \\(origin\\) has control character U\\+000D"),
        (_body(origin="a\ud800"), "line 1 \\(origin\\) is not encodable"),
        (_body(size=""), "line 2 \\(tree size\\) is empty"),
        (_body(size="05"), "line 2 \\(tree size\\)"),
        (_body(size="00"), "line 2 \\(tree size\\)"),
        (_body(size="+5"), "line 2 \\(tree size\\)"),
        (_body(size="-1"), "line 2 \\(tree size\\)"),
        (_body(size=" 5"), "line 2 \\(tree size\\)"),
        (_body(size="5 "), "line 2 \\(tree size\\)"),
        (_body(size="1_000"), "line 2 \\(tree size\\)"),
        (_body(size="0x10"), "line 2 \\(tree size\\)"),
        (_body(size="٥"), "line 2 \\(tree size\\)"),  # ARABIC-INDIC DIGIT FIVE
        (_body(size="５"), "line 2 \\(tree size\\)"),  # FULLWIDTH DIGIT FIVE
        (_body(size=str(2**64)), "line 2 \\(tree size\\) 18446744073709551616 does not fit"),
        (_body(size="9" * 5000), "line 2 \\(tree size\\) .* does not fit"),
        (_body(root=""), "line 3 \\(root hash\\) is empty"),
        (_body(root=ROOT_B64.rstrip("=")), "line 3 \\(root hash\\) .*not canonical"),
        (_body(root=ROOT_B64 + "="), "line 3 \\(root hash\\) .*not canonical"),
        (_body(root=" " + ROOT_B64), "line 3 \\(root hash\\) .*not canonical"),
        (_body(root=base64.urlsafe_b64encode(b"\xfb" * 32).decode()), "line 3 \\(root hash\\)"),
        (_body(root=base64.b64encode(ROOT[:31]).decode()), "line 3 .* 31 bytes, not 32"),
        (_body(root=base64.b64encode(ROOT + b"x").decode()), "line 3 .* 33 bytes, not 32"),
        # Same 32 bytes, but non-zero padding bits: decodes, yet is not the canonical encoding.
        (_body(root=ROOT_B64[:-2] + "9="), "line 3 \\(root hash\\) .*not canonical"),
        (_body(root=ROOT_B64.replace("A", "Ａ", 1)), "line 3 \\(root hash\\) .*not canonical"),
        (_body("o", "5", ROOT_B64, ""), "line 4 \\(extension\\) is empty"),
        (_body("o", "5", ROOT_B64, "a", "", "b"), "line 5 \\(extension\\) is empty"),
        (_body("o", "5", ROOT_B64, "a\x00"), "line 4 \\(extension\\) has control character"),
        (_body() + "\n", "line 4 \\(extension\\) is empty"),
        ("\n" + _body(), "line 1 \\(origin\\) is empty"),
    ],
)
def test_parse_rejects(text: str, why: str) -> None:
    with pytest.raises(VerificationError, match=f"malformed checkpoint: .*{why}"):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    ("cp", "why"),
    [
        (Checkpoint("", 1, ROOT), "origin is empty"),
        (Checkpoint("a\nb", 1, ROOT), "origin has control character"),
        (Checkpoint(ORIGIN, -1, ROOT), "size"),
        (Checkpoint(ORIGIN, 2**64, ROOT), "size"),
        (Checkpoint(ORIGIN, 1, ROOT[:31]), "31 bytes"),
        (Checkpoint(ORIGIN, 1, ROOT, ("",)), "extension line 1 is empty"),
        (Checkpoint(ORIGIN, 1, ROOT, ("ok", "x\ny")), "extension line 2 has control"),
    ],
)
def test_format_rejects_unencodable(cp: Checkpoint, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        format_checkpoint(cp)


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return note.generate_key("triage-test-log")


def test_signed_checkpoint_opens(keys: tuple[str, str]) -> None:
    skey, vkey = keys
    cp = Checkpoint(ORIGIN, 123456, ROOT, ("ext",))
    signed = sign_checkpoint(cp, skey)
    assert signed.startswith(format_checkpoint(cp) + "\n— triage-test-log ")
    assert open_checkpoint(signed, [vkey]) == cp
    assert open_checkpoint(signed, [vkey], origin=ORIGIN) == cp


def test_open_checks_origin(keys: tuple[str, str]) -> None:
    skey, vkey = keys
    signed = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), skey)
    with pytest.raises(
        VerificationError, match=r"checkpoint origin .*triage\.example.* is not .*other\.example/x"
    ):
        open_checkpoint(signed, [vkey], origin="other.example/x")


def test_modified_size_or_root_does_not_verify(keys: tuple[str, str]) -> None:
    skey, vkey = keys
    signed = sign_checkpoint(Checkpoint(ORIGIN, 10, ROOT), skey)
    other_root = base64.b64encode(bytes(32)).decode()
    for tampered in (
        signed.replace("\n10\n", "\n11\n", 1),
        signed.replace(ROOT_B64, other_root, 1),
        signed.replace(ORIGIN, ORIGIN + "2", 1),
    ):
        assert tampered != signed
        with pytest.raises(VerificationError, match="bad signature by key triage-test-log"):
            open_checkpoint(tampered, [vkey])


def test_open_with_unknown_key(keys: tuple[str, str]) -> None:
    skey, _ = keys
    _, stranger = note.generate_key("stranger")
    signed = sign_checkpoint(Checkpoint(ORIGIN, 10, ROOT), skey)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_checkpoint(signed, [stranger])


def test_open_signed_but_malformed_body(keys: tuple[str, str]) -> None:
    skey, vkey = keys
    signed = note.sign(f"{ORIGIN}\n010\n{ROOT_B64}\n", skey)
    with pytest.raises(VerificationError, match="line 2 \\(tree size\\)"):
        open_checkpoint(signed, [vkey])
