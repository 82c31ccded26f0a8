"""The control catalogue a Triage Facility shows its assessor: the shipped SEC catalogue, the
strict checks on a catalogue file and on a provider's own controls, the names uploaded evidence
is filed and offered under, and readiness (is each control's evidence present and fresh?)."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import triage.domain
from triage.adapters.packaged_data import CATALOGUE_FILE, PackagedFiles
from triage.domain.catalogue import (
    AUTOMATIC,
    FRESH_DAYS,
    CatalogueError,
    Control,
    ControlReadiness,
    EvidenceRecord,
    Expected,
    control_from,
    evidence_filename,
    parse_catalogue,
    readiness,
    upload_name,
)
from triage.errors import InvalidInput

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PACKAGED = Path(triage.domain.__file__).parent / CATALOGUE_FILE
DEFAULT_TEXT = PACKAGED.read_text(encoding="utf-8")
DEFAULT = PackagedFiles().catalogue()
FEW = settings(max_examples=150, deadline=None)


def a_control(**changes: Any) -> dict[str, Any]:
    """A well-formed catalogue control as YAML would give it, with the given changes."""
    raw: dict[str, Any] = {
        "id": "X1",
        "clause": "SEC X1",
        "group": "Section X",
        "title": "A control",
        "requirement": "Something is done and shown.",
        "evidence": [
            {"kind": "automatic", "name": "breaches", "title": "Breaches"},
            {"kind": "upload", "name": "policy-doc", "title": "The policy"},
        ],
    }
    raw.update(changes)
    return raw


def a_catalogue(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "catalogue": "test",
        "title": "A test catalogue",
        "version": "1.0",
        "published": "2026-01-01",
        "source": "made up for a test",
        "controls": [a_control(), a_control(id="X2")],
    }
    raw.update(changes)
    return raw


def text_of(raw: Any) -> str:
    return yaml.safe_dump(raw, sort_keys=False)


def refused(raw: Any) -> str:
    """The message a catalogue is refused with."""
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw if isinstance(raw, str) else text_of(raw))
    return str(caught.value)


def control(*evidence: tuple[str, str], control_id: str = "X1") -> Control:
    return Control(
        id=control_id,
        clause="SEC X",
        group="Section X",
        title="A control",
        requirement="Shown.",
        evidence=tuple(Expected(kind, name, name.title()) for kind, name in evidence),
    )


def record(
    kind: str, name: str, age: timedelta, integrity: str = "ok", record_id: str = ""
) -> EvidenceRecord:
    return EvidenceRecord(record_id or f"ev-{name}-{age}", kind, name, T0 - age, integrity)


# -- the shipped catalogue ---------------------------------------------------------------------


def test_the_default_catalogue_is_the_packaged_file() -> None:
    assert DEFAULT.name == "sec-triage"
    assert DEFAULT.version == "2026.12.1"
    assert DEFAULT.published == "2026-12-06"
    assert DEFAULT.title
    assert "Section G" in DEFAULT.source
    assert DEFAULT.sha256 == hashlib.sha256(DEFAULT_TEXT.encode("utf-8")).hexdigest()
    assert DEFAULT.sha256 == hashlib.sha256(PACKAGED.read_bytes()).hexdigest()
    assert PackagedFiles().catalogue_text() == DEFAULT_TEXT  # what adopting it records


def test_the_default_catalogue_covers_the_sec_clauses_and_the_triage_duties() -> None:
    clauses = {c.clause for c in DEFAULT.controls}
    assert {f"SEC {g}" for g in ("G1", "G3", "G4", "G5", "G7", "G8")} <= clauses
    ids = [c.id for c in DEFAULT.controls]
    assert {"TD.1", "TD.2", "TD.3", "TD.4"} <= set(ids)
    for prefix in ("G1", "G3", "G4", "G5", "G7", "G8"):
        assert any(i == prefix or i.startswith(prefix + ".") for i in ids), prefix


def test_the_default_catalogue_ids_are_unique_and_none_is_a_providers() -> None:
    ids = [c.id for c in DEFAULT.controls]
    assert len(ids) == len(set(ids))
    assert not any(c.provider or c.id.startswith("P-") for c in DEFAULT.controls)


def test_the_default_catalogue_names_only_evidence_the_system_can_produce() -> None:
    for item in (e for c in DEFAULT.controls for e in c.evidence):
        assert item.kind in ("automatic", "upload")
        if item.kind == "automatic":
            assert item.name in AUTOMATIC
        assert item.title


def test_every_automatic_generator_is_used_by_some_control() -> None:
    used = {e.name for c in DEFAULT.controls for e in c.evidence if e.kind == "automatic"}
    assert used == set(AUTOMATIC)


def test_a_control_is_found_by_its_id() -> None:
    found = DEFAULT.control("TD.3")
    assert found is not None
    assert found.produced_by_system == "all"
    assert [e.name for e in found.evidence] == ["seal_reconciliation"]
    assert DEFAULT.control("Z9") is None


def test_the_digest_follows_the_text_byte_for_byte() -> None:
    changed = parse_catalogue(DEFAULT_TEXT + "\n# a comment\n")
    assert changed.controls == DEFAULT.controls
    assert changed.sha256 != DEFAULT.sha256


def test_a_control_is_plain_json() -> None:
    g1 = DEFAULT.control("G1")
    assert g1 is not None
    shown = g1.to_json()
    assert shown["id"] == "G1"
    assert shown["produced_by_system"] == "some"
    assert shown["provider"] is False
    assert shown["evidence"][0] == {
        "kind": "upload",
        "name": "security-scope",
        "title": "Statement of the scope of the security obligations and the accountable person",
    }
    assert "\n" not in shown["requirement"]


# -- a catalogue file is checked strictly ------------------------------------------------------


def test_a_well_formed_catalogue_loads_with_its_text_tidied() -> None:
    raw = a_catalogue()
    raw["controls"][0]["title"] = "  A   control\n split  "
    loaded = parse_catalogue(text_of(raw))
    assert [c.id for c in loaded.controls] == ["X1", "X2"]
    assert loaded.controls[0].title == "A control split"
    assert loaded.version == "1.0"


def test_text_that_is_not_yaml_is_refused() -> None:
    assert refused("controls: [unclosed\n").startswith("catalogue: not valid YAML")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", ""])
def test_a_catalogue_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert refused(text) == "catalogue: the file must be a mapping"


def test_an_unknown_top_level_key_is_refused_naming_it() -> None:
    assert refused(a_catalogue(owner="me", colour="blue")) == (
        "catalogue: unknown keys colour, owner"
    )


@pytest.mark.parametrize("version", ["", "two words", "-1", ".1", "1" * 33, "v1/2"])
def test_a_bad_version_is_refused(version: str) -> None:
    assert "'version' must be a short version string" in refused(a_catalogue(version=version))


def test_a_blank_version_is_refused_not_read_as_the_word_none() -> None:
    # ``version:`` with nothing after it is YAML null; it must not become version "None".
    text = text_of(a_catalogue()).replace("version: '1.0'", "version:")
    assert "version:\n" in text
    assert "'version' must be a short version string" in refused(text)


def test_a_version_ending_in_a_line_break_is_refused() -> None:
    # A version string is one short token; a trailing newline must not slip past the check
    # (a pattern anchored with '$' matches before a final newline).
    assert "'version' must be a short version string" in refused(a_catalogue(version="1.0\n"))


def test_a_missing_version_is_refused() -> None:
    raw = a_catalogue()
    del raw["version"]
    assert "'version'" in refused(raw)


def test_a_version_written_as_a_number_is_read_as_its_text() -> None:
    assert parse_catalogue(text_of(a_catalogue(version=3))).version == "3"


@pytest.mark.parametrize("controls", [None, [], "G1", {"id": "G1"}])
def test_a_catalogue_without_controls_is_refused(controls: Any) -> None:
    assert refused(a_catalogue(controls=controls)) == (
        "catalogue: 'controls' must list at least one control"
    )


@pytest.mark.parametrize("key", ["catalogue", "title", "source"])
def test_a_catalogue_without_its_name_title_or_source_is_refused(key: str) -> None:
    raw = a_catalogue()
    del raw[key]
    assert refused(raw) == f"catalogue: '{key}' must be non-empty text"


def test_control_ids_listed_twice_are_refused_naming_them() -> None:
    raw = a_catalogue(controls=[a_control(id="B1"), a_control(id="A1"), a_control(id="B1")])
    assert refused(raw) == "catalogue: control ids listed twice: B1"


def test_a_control_with_an_unknown_key_is_refused_naming_the_control() -> None:
    raw = a_catalogue(controls=[a_control(), a_control(id="X2", owner="me")])
    assert refused(raw) == "control 2: unknown keys owner"


def test_a_control_that_is_not_a_mapping_is_refused() -> None:
    assert refused(a_catalogue(controls=["G1"])) == "control 1: a control is a mapping"


@pytest.mark.parametrize("key", ["id", "clause", "group", "title", "requirement"])
def test_a_control_missing_its_text_is_refused_naming_the_key(key: str) -> None:
    raw = a_control()
    del raw[key]
    assert refused(a_catalogue(controls=[raw])) == f"control 1: '{key}' must be non-empty text"


@pytest.mark.parametrize("control_id", ["x1", "1A", "A B", "A_1", "A" * 33])
def test_a_bad_control_id_is_refused(control_id: str) -> None:
    assert "control 1:" in refused(a_catalogue(controls=[a_control(id=control_id)]))


def test_a_too_long_title_is_refused() -> None:
    message = refused(a_catalogue(controls=[a_control(title="t" * 201)]))
    assert message == "control 1: 'title' is longer than 200 characters"


def test_an_automatic_evidence_the_system_cannot_produce_is_refused() -> None:
    evidence = [{"kind": "automatic", "name": "crystal_ball", "title": "Guess"}]
    message = refused(a_catalogue(controls=[a_control(evidence=evidence)]))
    assert message.startswith("control 1 evidence 1: no automatic evidence named 'crystal_ball'")
    assert "ledger_verification" in message


@pytest.mark.parametrize("name", ["Pen-Test", "pen test", "pen.test", "1pen", "p", "p" * 65])
def test_an_upload_name_with_bad_characters_is_refused(name: str) -> None:
    evidence = [{"kind": "upload", "name": name, "title": "Doc"}]
    message = refused(a_catalogue(controls=[a_control(evidence=evidence)]))
    assert message.startswith("control 1 evidence 1:")


@pytest.mark.parametrize("kind", ["manual", "Upload", None, 3])
def test_an_evidence_kind_other_than_automatic_or_upload_is_refused(kind: Any) -> None:
    evidence = [{"kind": "upload", "name": "doc", "title": "Doc"}]
    evidence.append({"kind": kind, "name": "doc", "title": "Doc"})
    message = refused(a_catalogue(controls=[a_control(evidence=evidence)]))
    assert message == "control 1 evidence 2: evidence kind must be 'automatic' or 'upload'"


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("just a name", "each evidence item is a mapping with kind, name, title"),
        ({"kind": "upload", "name": "doc", "title": "Doc", "due": 1}, "unknown keys due"),
        ({"kind": "upload", "name": "doc"}, "'title' must be non-empty text"),
        ({"kind": "upload", "title": "Doc"}, "'name' must be non-empty text"),
    ],
)
def test_a_malformed_evidence_item_is_refused_naming_it(item: Any, problem: str) -> None:
    message = refused(a_catalogue(controls=[a_control(evidence=[item])]))
    assert message == f"control 1 evidence 1: {problem}"


@pytest.mark.parametrize("evidence", [None, [], "breaches"])
def test_a_control_without_evidence_is_refused(evidence: Any) -> None:
    message = refused(a_catalogue(controls=[a_control(evidence=evidence)]))
    assert message == "control 1: 'evidence' lists at least one expected piece of evidence"


def test_the_same_evidence_twice_is_refused() -> None:
    evidence = [
        {"kind": "automatic", "name": "breaches", "title": "One"},
        {"kind": "automatic", "name": "breaches", "title": "Two"},
    ]
    message = refused(a_catalogue(controls=[a_control(evidence=evidence)]))
    assert message == "control 1: the same evidence is listed twice"


def test_an_upload_and_an_automatic_of_the_same_name_are_different_evidence() -> None:
    evidence = [
        {"kind": "automatic", "name": "breaches", "title": "Generated"},
        {"kind": "upload", "name": "breaches", "title": "Uploaded"},
    ]
    loaded = parse_catalogue(text_of(a_catalogue(controls=[a_control(evidence=evidence)])))
    assert len(loaded.controls[0].evidence) == 2


def test_a_catalogue_control_may_not_take_a_provider_id() -> None:
    message = refused(a_catalogue(controls=[a_control(id="P-1")]))
    assert message.startswith("control 1: the provider's own controls, and only they")


def test_every_problem_in_the_shipped_file_would_name_its_control() -> None:
    raw = yaml.safe_load(DEFAULT_TEXT)
    broken = copy.deepcopy(raw)
    broken["controls"][4]["evidence"][0]["kind"] = "manual"
    assert refused(broken).startswith("control 5 evidence 1:")


# -- a provider's own controls -----------------------------------------------------------------


def test_a_providers_control_must_have_an_id_starting_p() -> None:
    own = control_from(a_control(id="P-CCTV"), "own control", provider=True)
    assert own.provider
    assert own.to_json()["provider"] is True
    with pytest.raises(CatalogueError, match=r"^own control: the provider's own controls"):
        control_from(a_control(id="CCTV"), "own control", provider=True)


def test_control_from_checks_like_the_catalogue() -> None:
    with pytest.raises(CatalogueError, match=r"^mine: unknown keys colour"):
        control_from(a_control(id="P-1", colour="red"), "mine", provider=True)
    with pytest.raises(CatalogueError, match=r"^mine: a control is a mapping"):
        control_from(["P-1"], "mine", provider=True)


def test_a_catalogue_error_is_invalid_input() -> None:
    assert issubclass(CatalogueError, InvalidInput)


@pytest.mark.parametrize(
    ("kinds", "produced"),
    [
        (["automatic"], "all"),
        (["automatic", "automatic"], "all"),
        (["automatic", "upload"], "some"),
        (["upload", "automatic"], "some"),
        (["upload"], "none"),
        (["upload", "upload"], "none"),
    ],
)
def test_produced_by_system_says_how_much_evidence_the_system_makes(
    kinds: list[str], produced: str
) -> None:
    names = {"automatic": list(AUTOMATIC), "upload": ["doc-a", "doc-b"]}
    evidence = [(kind, names[kind].pop(0)) for kind in kinds]
    assert control(*evidence).produced_by_system == produced


def test_the_default_catalogue_has_controls_of_each_production() -> None:
    assert {c.produced_by_system for c in DEFAULT.controls} == {"all", "some", "none"}


# -- the names uploaded evidence goes by -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", "a\\b", ".", "..", " .. ", "/etc/passwd", "C:\\x.pdf", "a\x00b", "x/"],
)
def test_a_filename_with_a_path_in_it_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="is a path; give the file's name alone"):
        evidence_filename(name)


@pytest.mark.parametrize("name", ["", "   ", "...", " ... "])
def test_an_empty_filename_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match=r"give the file's name \(like"):
        evidence_filename(name)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("pen-test-2026.pdf", "pen-test-2026.pdf"),
        ("  Risk Assessment v2.docx  ", "Risk Assessment v2.docx"),
        ("report (final).pdf", "report _final_.pdf"),
        ("café.pdf", "caf_.pdf"),
        ("a;b|c.txt", "a_b_c.txt"),
        ("line\nbreak.txt", "line_break.txt"),
        (".hidden", "hidden"),
        ("trailing. ", "trailing"),
    ],
)
def test_a_plain_filename_is_kept_with_odd_characters_replaced(name: str, shown: str) -> None:
    assert evidence_filename(name) == shown


def test_a_long_filename_is_cut_to_120_characters() -> None:
    assert evidence_filename("a" * 300) == "a" * 120


def test_a_long_filename_is_never_shown_ending_in_a_dot_or_space() -> None:
    # Leading and trailing dots and spaces are stripped from the name shown; cutting a long
    # name to 120 characters must not bring one back (the name would lose its extension to a
    # bare trailing dot, which some systems cannot store).
    for name in ("a" * 119 + ".pdf", "a" * 119 + " b.pdf"):
        shown = evidence_filename(name)
        assert len(shown) <= 120
        assert not shown.endswith((".", " ")), repr(shown[-5:])


@FEW
@given(st.text(max_size=200))
def test_a_filename_shown_is_never_a_path(name: str) -> None:
    try:
        shown = evidence_filename(name)
    except InvalidInput:
        return
    assert shown
    assert shown not in {".", ".."}
    assert not set(shown) & {"/", "\\", "\x00"}
    assert set(shown) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._ -")
    assert len(shown) <= 120
    assert not shown.startswith((".", " "))


@pytest.mark.parametrize(
    ("name", "filed"),
    [
        ("penetration-test", "penetration-test"),
        ("  Penetration-Test ", "penetration-test"),
        ("isms", "isms"),
        ("training_record_2026", "training_record_2026"),
        ("ab", "ab"),
        ("a" * 64, "a" * 64),
    ],
)
def test_an_upload_is_filed_under_its_short_name_in_lower_case(name: str, filed: str) -> None:
    assert upload_name(name) == filed


@pytest.mark.parametrize(
    "name", ["", "a", "a" * 65, "2026-pen-test", "-x", "pen test", "pen.test", "pen/test", "pén"]
)
def test_a_bad_upload_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="2-64 of a-z, 0-9"):
        upload_name(name)


def test_every_upload_name_in_the_catalogue_is_a_valid_upload_name() -> None:
    for item in (e for c in DEFAULT.controls for e in c.evidence if e.kind == "upload"):
        assert upload_name(item.name) == item.name


# -- readiness ---------------------------------------------------------------------------------

MIXED = control(("automatic", "breaches"), ("upload", "incident-procedure"))


def states(row: ControlReadiness) -> list[str]:
    return [item.state for item in row.evidence]


def test_a_control_with_no_evidence_recorded_is_missing() -> None:
    [row] = readiness([MIXED], {}, [], T0)
    assert row.status == "missing"
    assert states(row) == ["missing", "missing"]
    assert row.reason is None
    assert [item.evidence_id for item in row.evidence] == [None, None]
    assert row.control.to_json() == MIXED.to_json()


def test_a_control_with_all_evidence_fresh_is_ready() -> None:
    records = [
        record("automatic", "breaches", timedelta(days=1), record_id="ev-1"),
        record("upload", "incident-procedure", timedelta(days=200), record_id="ev-2"),
    ]
    [row] = readiness([MIXED], {}, records, T0)
    assert row.status == "ready"
    assert states(row) == ["fresh", "fresh"]
    assert [item.evidence_id for item in row.evidence] == ["ev-1", "ev-2"]
    assert row.evidence[0].recorded_at == T0 - timedelta(days=1)
    assert row.evidence[1].expected.name == "incident-procedure"


def test_some_evidence_missing_makes_the_control_missing() -> None:
    records = [record("automatic", "breaches", timedelta(days=1))]
    [row] = readiness([MIXED], {}, records, T0)
    assert (row.status, states(row)) == ("missing", ["fresh", "missing"])


@pytest.mark.parametrize("kind", ["automatic", "upload"])
def test_evidence_older_than_its_kinds_freshness_is_stale(kind: str) -> None:
    name = "breaches" if kind == "automatic" else "doc"
    single = control((kind, name))
    limit = timedelta(days=FRESH_DAYS[kind])
    [row] = readiness([single], {}, [record(kind, name, limit)], T0)
    assert (row.status, states(row)) == ("ready", ["fresh"])
    [row] = readiness([single], {}, [record(kind, name, limit + timedelta(seconds=1))], T0)
    assert (row.status, states(row)) == ("stale", ["stale"])


def test_an_upload_stays_fresh_longer_than_automatic_evidence() -> None:
    assert FRESH_DAYS == {"automatic": 31, "upload": 366}
    age = timedelta(days=60)
    records = [record("automatic", "breaches", age), record("upload", "incident-procedure", age)]
    [row] = readiness([MIXED], {}, records, T0)
    assert (row.status, states(row)) == ("stale", ["stale", "fresh"])


def test_missing_evidence_outweighs_stale_evidence() -> None:
    records = [record("automatic", "breaches", timedelta(days=90))]
    [row] = readiness([MIXED], {}, records, T0)
    assert (row.status, states(row)) == ("missing", ["stale", "missing"])


def test_altered_evidence_counts_as_not_present() -> None:
    records = [
        record("automatic", "breaches", timedelta(days=1)),
        record("upload", "incident-procedure", timedelta(days=1), integrity="altered"),
    ]
    [row] = readiness([MIXED], {}, records, T0)
    assert (row.status, states(row)) == ("missing", ["fresh", "altered"])
    assert row.evidence[1].evidence_id is not None


@pytest.mark.parametrize("integrity", ["missing", "unknown"])
def test_evidence_whose_file_is_gone_is_missing(integrity: str) -> None:
    records = [
        record("automatic", "breaches", timedelta(days=1)),
        record("upload", "incident-procedure", timedelta(days=1), integrity=integrity),
    ]
    [row] = readiness([MIXED], {}, records, T0)
    assert (row.status, states(row)) == ("missing", ["fresh", "missing"])


def test_a_control_marked_not_applicable_says_so_with_its_reason() -> None:
    other = control(("upload", "doc"), control_id="X2")
    rows = readiness([MIXED, other], {"X1": "no incidents possible offline"}, [], T0)
    assert [(r.status, r.reason) for r in rows] == [
        ("not_applicable", "no incidents possible offline"),
        ("missing", None),
    ]
    # Its evidence is still shown, for what it is.
    assert states(rows[0]) == ["missing", "missing"]


def test_the_latest_record_of_a_name_wins() -> None:
    single = control(("upload", "doc"))
    old_ok = record("upload", "doc", timedelta(days=10), record_id="old")
    new_altered = record("upload", "doc", timedelta(days=1), "altered", record_id="new")
    older_still = record("upload", "doc", timedelta(days=400), record_id="oldest")
    for order in ([old_ok, new_altered, older_still], [new_altered, older_still, old_ok]):
        [row] = readiness([single], {}, order, T0)
        assert row.evidence[0].evidence_id == "new"
        assert row.status == "missing"
    fresh_again = record("upload", "doc", timedelta(hours=1), record_id="newest")
    [row] = readiness([single], {}, [old_ok, new_altered, fresh_again], T0)
    assert (row.status, row.evidence[0].evidence_id) == ("ready", "newest")


def test_a_record_of_the_other_kind_does_not_count() -> None:
    single = control(("upload", "breaches"))
    [row] = readiness([single], {}, [record("automatic", "breaches", timedelta(0))], T0)
    assert row.status == "missing"


def test_one_record_serves_every_control_expecting_it() -> None:
    records = [record("automatic", "ledger_verification", timedelta(days=2))]
    rows = readiness(
        [control(("automatic", "ledger_verification"), control_id=i) for i in ("A", "B")],
        {},
        records,
        T0,
    )
    assert [r.status for r in rows] == ["ready", "ready"]


def test_readiness_of_the_default_catalogue_with_nothing_recorded() -> None:
    rows = readiness(DEFAULT.controls, {}, [], T0)
    assert [r.control.id for r in rows] == [c.id for c in DEFAULT.controls]
    assert {r.status for r in rows} == {"missing"}


NAMES = [
    ("automatic", "breaches"),
    ("automatic", "replay_check"),
    ("upload", "doc"),
    ("upload", "pen-test"),
]


@st.composite
def records_(draw: st.DrawFn) -> list[EvidenceRecord]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        kind, name = draw(st.sampled_from(NAMES))
        age = timedelta(days=draw(st.integers(min_value=0, max_value=500)))
        integrity = draw(st.sampled_from(["ok", "ok", "ok", "altered", "missing"]))
        out.append(EvidenceRecord(f"ev-{i}", kind, name, T0 - age, integrity))
    return out


@FEW
@given(
    expected=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True),
    records=records_(),
    not_applicable=st.booleans(),
)
def test_a_control_is_ready_exactly_when_every_expected_evidence_is_fresh(
    expected: list[tuple[str, str]], records: list[EvidenceRecord], not_applicable: bool
) -> None:
    reasons = {"X1": "does not apply here"} if not_applicable else {}
    [row] = readiness([control(*expected)], reasons, records, T0)

    def state_of(kind: str, name: str) -> str:
        mine = [r for r in records if (r.kind, r.name) == (kind, name)]
        if not mine:
            return "missing"
        newest = max(r.recorded_at for r in mine)
        # Of records made at the same moment, the first given is the one kept.
        latest = next(r for r in mine if r.recorded_at == newest)
        if latest.integrity != "ok":
            return "altered" if latest.integrity == "altered" else "missing"
        too_old = T0 - latest.recorded_at > timedelta(days=FRESH_DAYS[kind])
        return "stale" if too_old else "fresh"

    wanted = [state_of(kind, name) for kind, name in expected]
    assert states(row) == wanted
    all_fresh = all(s == "fresh" for s in wanted)
    if not_applicable:
        assert (row.status, row.reason) == ("not_applicable", "does not apply here")
    else:
        assert (row.status == "ready") == all_fresh
        assert row.reason is None
        assert (row.status == "missing") == any(s in {"missing", "altered"} for s in wanted)
