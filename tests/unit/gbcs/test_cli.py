"""`triage security-log read FILE [--json]`, the command-line contract other tools rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.gbcs.reference import FAILED, FILES, SUCCESS, expected, ids
from triage.entrypoints.cli import app

MAC_TEXT = "not checked (needs the recipient's private key-agreement key)"


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["security-log", "read", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("path", SUCCESS, ids=ids(SUCCESS))
def test_every_success_response_prints_its_expected_json(path: Path) -> None:
    code, out, _ = run(str(path), "--json")
    assert code == 0
    shown, want = json.loads(out), expected(path)
    assert shown["use_case"] == want["use_case"]
    assert shown["message_code"] == want["message_code"]
    assert shown["log"] == want["log"]
    assert shown["device_type"] == want["device_class"]
    assert shown["device_id"] == want["originator"]
    assert shown["recipient"] == want["recipient"]
    assert shown["originator_counter"] == want["originator_counter"]
    assert (shown["outcome"], shown["status"]) == ("success", None)
    assert shown["mac"] == MAC_TEXT
    assert [(e["code"], e["at"]) for e in shown["entries"]] == [
        (e["code"], e["at"]) for e in want["entries"]
    ]


@pytest.mark.parametrize("path", FAILED, ids=ids(FAILED))
def test_every_error_response_prints_its_outcome(path: Path) -> None:
    code, out, _ = run(str(path), "--json")
    shown = json.loads(out)
    assert code == 0
    want = "not_found" if "_NOT_FOUND_" in path.name else "error"
    assert (shown["outcome"], shown["entries"]) == (want, [])
    assert shown["status"].startswith(("ZCL status 0x", "DLMS data access result "))


def test_the_json_has_the_contract_fields_and_names_the_codes_we_know(tmp_path: Path) -> None:
    ecs35a = next(p for p in SUCCESS if p.name.startswith("ECS35a"))
    code, out, _ = run(str(ecs35a), "--json")
    shown = json.loads(out)
    assert code == 0
    assert {"use_case", "device_type", "device_id", "entries"} <= shown.keys()
    names = {e["code"]: e["name"] for e in shown["entries"]}
    assert names["0x8F01"] is None  # not in the domain list: no invented name
    assert all(e["at"].endswith("Z") for e in shown["entries"])


def test_raw_bytes_and_stdin_read_as_the_hex_file_does(tmp_path: Path) -> None:
    path = FILES[0]
    raw = tmp_path / "message.bin"
    raw.write_bytes(bytes.fromhex(path.read_text()))
    by_hex, by_raw = run(str(path), "--json")[1], run(str(raw), "--json")[1]
    by_stdin = run("-", "--json", stdin=path.read_bytes())[1]
    assert json.loads(by_hex) == json.loads(by_raw) == json.loads(by_stdin)


def test_the_text_lists_the_entries() -> None:
    cs10a = next(p for p in SUCCESS if p.name.startswith("CS10a"))
    code, out, _ = run(str(cs10a))
    assert code == 0
    assert out.splitlines()[0] == (
        "CS10a Read ZigBee Device Event Log (message code 0x0014): success"
    )
    assert "  2014-12-31T00:00:00Z  0x8F1F  low battery capacity" in out.splitlines()
    assert "32 entries:" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"DD00",
            "error: byte 1: expected the empty General Ciphering fields (6 bytes), "
            "found only 1 byte, then the end of the message",
        ),
        (b"DD 00 zz", "error: byte 2: expected a hex digit, found 'z' (character 6 of the text)"),
        (b"\x00\x01", "error: byte 0: expected the General Ciphering tag 0xDD, found 0x00"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line_naming_the_byte(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.hex"
    path.write_bytes(content)
    code, out, err = run(str(path), "--json")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(message)
    assert "Traceback" not in err


def test_a_truncated_reference_response_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.hex"
    path.write_text(SUCCESS[0].read_text()[:-2])
    code, _, err = run(str(path))
    assert code == 1
    assert err.startswith("error: byte 7: expected a ciphered service length of")


def test_a_file_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "missing.hex"))
    assert code == 1 and err.strip().endswith("No such file or directory")
    assert len(err.splitlines()) == 1
