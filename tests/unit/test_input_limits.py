"""Hostile documents to every parser of outside JSON and YAML: nested too deep, built from
aliases, or holding a lone surrogate. Each is refused with the parser's own error, naming the
document and the place, never a RecursionError, a UnicodeEncodeError or a traceback."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fuzz.strategies import (
    FACILITY_VERIFIER,
    FUZZ,
    LEDGER_EXPORT,
    RECEIPT,
    TOOL_SIGNER,
    TOOL_VERIFIER,
)
from triage.adapters.backup import Manifest
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.assessment import parse_rules
from triage.domain.catalogue import CatalogueError, parse_catalogue
from triage.domain.manifest import ManifestFormatError, parse_manifest
from triage.domain.reset_profile import ResetProfileError, ResetProfiles
from triage.domain.tamper_policy import PolicyError, TamperPolicy
from triage.domain.work_order import TOOL_RESULT_FORMAT, ToolResult, WorkOrderRefused
from triage.errors import InvalidInput
from triage.ledger import note
from triage.ledger.errors import VerificationError
from triage.ledger.export import verify_export
from triage.ledger.receipt import verify_receipt

DEEP = 32


def _nested_yaml_flow(levels: int) -> str:
    return "[" * levels + "]" * levels


def _policy_of(rules: str) -> bytes:
    default = PackagedFiles().tamper_policy()
    assert default.id  # the packaged policy still loads
    return f"id: nested\nversion: '1'\ndescription: d\nrules: {rules}\n".encode()


# -- YAML: tamper policy, reset profiles, catalogue, assessment rules --------------------------


def test_a_200_kib_nested_tamper_policy_is_refused_naming_the_line() -> None:
    levels = 100_000  # 200 KiB of brackets: Python's stack overflowed composing it
    source = _policy_of(_nested_yaml_flow(levels))
    assert len(source) > 200_000
    with pytest.raises(PolicyError, match=r"nested deeper than 32 levels at line 4, column"):
        TamperPolicy.load(source)


def test_a_tamper_policy_indented_deeper_than_the_limit_is_refused_naming_the_line() -> None:
    block = "".join("  " * depth + "- \n" for depth in range(1, DEEP + 3))
    source = b"id: nested\nversion: '1'\ndescription: d\nrules:\n" + block.encode()
    with pytest.raises(PolicyError, match=rf"nested deeper than 32 levels at line {DEEP + 4},"):
        TamperPolicy.load(source)


def test_a_tamper_policy_built_from_aliases_is_refused() -> None:
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    with pytest.raises(PolicyError, match=r"aliases \(\*name\) are not allowed at line 2"):
        TamperPolicy.load("\n".join(laughs).encode())
    with pytest.raises(PolicyError, match=r"aliases"):
        TamperPolicy.load(b"rules: &loop [*loop]\n")


def test_nested_reset_profiles_are_refused() -> None:
    with pytest.raises(ResetProfileError, match=r"nested deeper than 32 levels at line 2"):
        ResetProfiles.load(f"id: p\nprofiles: {_nested_yaml_flow(50_000)}".encode())


def test_a_nested_catalogue_is_refused_naming_the_line() -> None:
    with pytest.raises(CatalogueError, match=r"catalogue: nested deeper than 32 levels at line 2"):
        parse_catalogue("catalogue: c\ncontrols: " + _nested_yaml_flow(50_000))


def test_nested_assessment_rules_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"assessment rules: nested deeper than 32 levels"):
        parse_rules("rules: " + _nested_yaml_flow(50_000))


def test_documents_nested_within_the_limit_are_still_read() -> None:
    # 31 levels under 'rules': the policy is read as far as its own checks (rules is not a list
    # of rules), so the nesting limit does not stand in the way of a legitimate document.
    with pytest.raises(PolicyError) as refused:
        TamperPolicy.load(_policy_of(_nested_yaml_flow(DEEP - 1)))
    assert "nested" not in str(refused.value)


# -- JSON: receipts, ledger exports, signed notes, manifests, backups -------------------------


def _receipt_with(entry_text: str, position: int) -> str:
    obj = json.loads(RECEIPT)
    obj["entries"][position]["entry"] = entry_text
    return json.dumps(obj)  # ensure_ascii: a lone surrogate is written as \ud800


def test_a_receipt_entry_with_a_lone_surrogate_is_refused_naming_the_entry() -> None:
    damaged = _receipt_with('{"type":"device.received\ud800"}', 3)
    assert "\\ud800" in damaged
    with pytest.raises(VerificationError, match=r"not valid UTF-8 text at entries\[3\]\.entry"):
        verify_receipt(damaged, [FACILITY_VERIFIER])
    with pytest.raises(VerificationError, match=r"entries\[3\]\.entry"):
        verify_receipt(damaged.encode(), [FACILITY_VERIFIER])


def test_a_deeply_nested_receipt_is_refused_naming_the_place() -> None:
    for levels in (DEEP + 1, 500, 100_000):
        nested = '{"format": ' + "[" * levels + "]" * levels + "}"
        with pytest.raises(VerificationError, match=r"receipt: nested deeper than 32 levels at"):
            verify_receipt(nested, [FACILITY_VERIFIER])


def _export_lines() -> list[bytes]:
    return LEDGER_EXPORT.split(b"\n")


def test_a_ledger_export_entry_with_a_lone_surrogate_is_refused_naming_the_entry() -> None:
    lines = _export_lines()
    lines[3] = lines[3].replace(b'"data":{"step":2}', b'"data":{"note":"\\ud800","step":2}')
    assert b"ud800" in lines[3]
    with pytest.raises(VerificationError, match=r"entry 2: .*lone surrogate"):
        verify_export(io.BytesIO(b"\n".join(lines)), [FACILITY_VERIFIER])


def test_a_ledger_export_header_nested_too_deep_is_refused() -> None:
    header = b'{"format": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    with pytest.raises(VerificationError, match=r"its first line is nested deeper than 32 levels"):
        verify_export(io.BytesIO(header + b"\n".join(_export_lines()[1:])), [FACILITY_VERIFIER])


def test_signed_content_nested_too_deep_is_refused_as_a_work_order_problem() -> None:
    body = {"format": TOOL_RESULT_FORMAT, "detail": json.loads("[" * 40 + "]" * 40)}
    signed = note.sign(json.dumps(body) + "\n", TOOL_SIGNER)
    with pytest.raises(WorkOrderRefused, match=r"tool result: nested deeper than 32 levels"):
        ToolResult.open(signed, TOOL_VERIFIER)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32 levels", id="deep"),
        pytest.param(
            b'[{"device_id": "\\udc00"}]', r"not valid UTF-8 text at \[0\]\.device_id", id="lone"
        ),
    ],
)
def test_a_hostile_json_manifest_is_refused_as_a_file(data: bytes, problem: str) -> None:
    with pytest.raises(ManifestFormatError, match=problem):
        parse_manifest(data, "json")


def test_a_backup_manifest_nested_too_deep_is_refused_as_damaged() -> None:
    with pytest.raises(InvalidInput, match=r"manifest.json: nested deeper than 32 levels.*damaged"):
        Manifest.from_bytes(b"[" * 100_000 + b"]" * 100_000)


# -- any nesting, any surrogate ----------------------------------------------------------------


@settings(FUZZ, deadline=None)
@given(st.integers(1, 3000), st.sampled_from(["[", '{"k":']))
def test_a_receipt_nested_to_any_depth_is_read_or_refused_by_depth(
    levels: int, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    inner = opener * levels + ("" if opener == "[" else "1") + closer * levels
    receipt = json.loads(RECEIPT)
    receipt["subject"] = "PLACEHOLDER"
    text = json.dumps(receipt).replace('"PLACEHOLDER"', inner)
    with pytest.raises(VerificationError) as refused:
        verify_receipt(text, [FACILITY_VERIFIER])
    deep = "nested deeper than 32 levels" in str(refused.value)
    assert deep == (levels + 1 > DEEP), str(refused.value)


@settings(FUZZ, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1))
def test_surrogates_anywhere_in_a_receipt_entry_are_refused_by_name(surrogates: str) -> None:
    paired = re.fullmatch(r"([\ud800-\udbff][\udc00-\udfff])+", surrogates)
    damaged = _receipt_with("x" + surrogates, 1)
    with pytest.raises(VerificationError) as refused:
        verify_receipt(damaged, [FACILITY_VERIFIER])
    if paired is None:
        assert "entries[1].entry" in str(refused.value)
