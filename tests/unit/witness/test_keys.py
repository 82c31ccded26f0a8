"""The witness key file: made once, 0600 in a 0700 directory, and read back with errors that
say what is wrong without quoting the secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from triage.ledger.cosignature import cosigner_key_from_signer, parse_cosigner_key
from triage.witness.errors import WitnessKeyError
from triage.witness.keys import KEY_FILE, generate_key, load_key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keygen_writes_a_private_key_in_a_private_directory(tmp_path: Path) -> None:
    directory = tmp_path / "w" / "witness"
    vkey = generate_key(directory, "witness.example/w1")
    assert _mode(directory) == 0o700
    assert _mode(directory / KEY_FILE) == 0o600
    assert sorted(os.listdir(directory)) == [KEY_FILE]  # no temporary file left behind
    key = load_key(directory)
    assert (key.vkey, key.name) == (vkey, "witness.example/w1")
    assert cosigner_key_from_signer(key.signer_key) == vkey
    assert parse_cosigner_key(vkey).name == "witness.example/w1"
    assert key.signer_key not in repr(key)


def test_an_existing_directory_is_made_private(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    generate_key(tmp_path, "w1")
    assert _mode(tmp_path) == 0o700


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    first = generate_key(tmp_path, "w1")
    before = (tmp_path / KEY_FILE).read_bytes()
    with pytest.raises(WitnessKeyError, match="already exists"):
        generate_key(tmp_path, "w2")
    assert (tmp_path / KEY_FILE).read_bytes() == before
    assert load_key(tmp_path).vkey == first


def test_a_bad_name_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(WitnessKeyError, match="witness name 'two words'"):
        generate_key(tmp_path / "w", "two words")
    assert not (tmp_path / "w").exists()


def test_a_missing_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(WitnessKeyError, match=r"no witness key at .*triage witness keygen"):
        load_key(tmp_path)


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    generate_key(tmp_path, "w1")
    (tmp_path / KEY_FILE).chmod(0o640)
    with pytest.raises(WitnessKeyError, match=r"mode 0640.*chmod 600"):
        load_key(tmp_path)


def test_a_key_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).mkdir(mode=0o700)
    with pytest.raises(WitnessKeyError, match="not a regular file"):
        load_key(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not text",
        b"PRIVATE+KEY+w1+00000000+BCgpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkp\n",
        b"not a key at all\n",
    ],
)
def test_a_malformed_key_is_refused_without_quoting_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(WitnessKeyError, match="does not hold a witness signer key") as caught:
        load_key(tmp_path)
    assert "KSkpKSkp" not in str(caught.value)


def test_a_log_signer_key_is_not_a_witness_key(tmp_path: Path) -> None:
    from triage.ledger import note

    signer, _ = note.generate_key("w1")
    path = tmp_path / KEY_FILE
    path.write_text(signer + "\n")
    path.chmod(0o600)
    with pytest.raises(WitnessKeyError, match="does not hold a witness signer key") as caught:
        load_key(tmp_path)
    # The key's secret is all after PRIVATE+KEY+<name>+<hash>+ (base64, which may hold "+"
    # itself: its last piece alone can be a letter the message happens to contain).
    secret = signer.split("+", 4)[4]
    assert len(secret) > 40 and secret not in str(caught.value)
