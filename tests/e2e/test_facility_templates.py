"""The facility the end-to-end tests run is set up once per test process and copied for each
test (tests/e2e/conftest.py, Templates): each copy is a facility of its own, consistent, its
keys as private as `triage init` made them, and nothing one test does reaches another."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.e2e.conftest import TEMPLATES, Triage
from triage.services import tokens as token_service


def _copy(root: Path) -> tuple[Triage, Path, dict[str, str], str]:
    triage = Triage(root / "var")
    key = root / "bench" / "tool.key"
    tokens, vkey = TEMPLATES.set_up(triage, key)
    return triage, key, tokens, vkey


def _size(triage: Triage) -> int:
    verified = json.loads(triage.run("ledger", "verify", "--json").stdout)
    assert verified["ok"] is True, verified
    return int(verified["size"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_each_test_gets_a_facility_of_its_own_copied_from_one_set_up(tmp_path: Path) -> None:
    a, a_key, a_tokens, a_vkey = _copy(tmp_path / "a")
    b, b_key, b_tokens, b_vkey = _copy(tmp_path / "b")
    assert TEMPLATES.root is not None and TEMPLATES.built, "the copies were not of a template"

    # The same facility, people and tokens, in files of their own that name no template.
    assert (a_tokens, a_vkey) == (b_tokens, b_vkey)
    assert set(a_tokens) == {"admin", "sup", "sup2", "ben", "stella", "sam"}
    assert a.env["TRIAGE_TOKEN"] == a_tokens["sup"]
    assert a.people == b.people and a.people["ben"] is not b.people["ben"]
    assert not (a.data_dir / "triage.db").samefile(b.data_dir / "triage.db")
    template = str(TEMPLATES.root).encode()
    for path in [*a.data_dir.rglob("*"), a_key]:
        assert path.is_dir() or template not in path.read_bytes(), path

    # As private as `triage init` and `triage agent keygen` made them.
    assert _mode(a.data_dir) == _mode(a.data_dir / "keys") == 0o700
    for private in [a.data_dir / "keys" / "facility.key", a.data_dir / "keys" / "secrets.key"]:
        assert _mode(private) == 0o600
    assert _mode(a_key) == 0o600 and a_key.read_bytes() == b_key.read_bytes()

    # Consistent: the ledger verifies and everyone's token is theirs.
    before = _size(a)
    assert _size(b) == before
    with a.opened() as app:
        for who, token in a_tokens.items():
            assert token_service.authenticate_token(app.uow, token).id == who

    # What one test does stays in its facility: not in another's, nor in the next copy.
    a.staff(a_tokens["admin"], "olga", "stores")
    a.people["ben"].recovery_codes.pop()
    assert _size(a) > before
    assert _size(b) == before
    assert "olga" not in b.people
    assert len(b.people["ben"].recovery_codes) == len(a.people["ben"].recovery_codes) + 1
    c, _, _, _ = _copy(tmp_path / "c")
    assert _size(c) == before
    assert "olga" not in c.people
