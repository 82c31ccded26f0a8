"""The controls in force, applicability and evidence, against the fake unit of work."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import assurance_seed as seed
from tests.unit.services import workflow_seed
from tests.unit.services.assurance_seed import OWN, FakeFileStore, FakeReplay, Replayed
from tests.unit.services.callers import (
    administrator,
    auditor,
    nobody,
    security_manager,
    supervisor,
)
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import assessment, assurance, automatic_evidence, job_steps, tamper_policy
from triage.services.views import assurance as assurance_views


@pytest.fixture
def store() -> FakeFileStore:
    return FakeFileStore()


def _other_version(factory: FakeUnitOfWorkFactory) -> str:
    text = factory.packaged.catalogue_text()
    assert 'version: "2026.12.1"' in text
    return text.replace('version: "2026.12.1"', 'version: "2027.1.0"')


# -- the catalogue and the controls ----------------------------------------------------------


def test_before_any_adoption_the_packaged_catalogue_is_in_force_and_every_control_applies(
    factory: FakeUnitOfWorkFactory,
) -> None:
    shown = assurance.controls(factory, auditor())

    packaged = factory.packaged.catalogue()
    assert shown.adopted is None
    assert shown.catalogue == packaged
    assert [c.control.id for c in shown.controls] == [c.id for c in packaged.controls]
    assert all(c.applicable and c.reason is None for c in shown.controls)
    assert shown.to_json()["catalogue"]["packaged_differs"] is False
    assert factory.entry_types() == []


def test_reading_the_controls_needs_the_assurance_read_permission(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied, match=Permission.ASSURANCE_READ.value):
        assurance.controls(factory, nobody())
    with pytest.raises(PermissionDenied):
        assurance.catalogue_parts(factory, nobody())


def test_adopting_the_packaged_catalogue_records_its_text_and_puts_it_in_force(
    factory: FakeUnitOfWorkFactory,
) -> None:
    adopted = assurance.adopt_catalogue(factory, administrator())

    assert adopted == factory.packaged.catalogue()
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "assurance.catalogue_adopted",
        "catalogue",
        adopted.name,
    )
    assert entry.data == {
        "name": adopted.name,
        "version": adopted.version,
        "sha256": adopted.sha256,
        "controls": len(adopted.controls),
        "text": factory.packaged.catalogue_text(),
    }
    shown = assurance.controls(factory, auditor())
    assert shown.adopted is not None
    assert (shown.adopted.adopted_by, shown.adopted.adopted_at) == ("adm", factory.clock.now())


def test_adopting_the_catalogue_in_force_again_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    assurance.adopt_catalogue(factory, administrator())

    with pytest.raises(Conflict, match="already in force"):
        assurance.adopt_catalogue(factory, administrator())
    assert factory.entry_types() == ["assurance.catalogue_adopted"]


def test_the_catalogue_adopted_last_is_in_force(factory: FakeUnitOfWorkFactory) -> None:
    assurance.adopt_catalogue(factory, administrator())
    factory.clock.advance(timedelta(days=1))
    newer = assurance.adopt_catalogue(factory, administrator(), _other_version(factory))

    shown = assurance.controls(factory, auditor())
    assert (shown.catalogue.version, shown.catalogue.sha256) == ("2027.1.0", newer.sha256)
    assert shown.to_json()["catalogue"]["packaged_differs"] is True

    factory.clock.advance(timedelta(days=1))
    assurance.adopt_catalogue(factory, administrator())  # back to the packaged one
    assert assurance.controls(factory, auditor()).catalogue.version == "2026.12.1"


def test_adopting_a_catalogue_needs_the_assurance_manage_permission(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied, match=Permission.ASSURANCE_MANAGE.value):
        assurance.adopt_catalogue(factory, auditor())
    assert factory.entry_types() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("controls: []\n", "catalogue"),
        ("x" * (1024 * 1024 + 1), "larger than 1 MiB"),
    ],
)
def test_a_catalogue_that_is_not_well_formed_is_refused(
    factory: FakeUnitOfWorkFactory, text: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        assurance.adopt_catalogue(factory, administrator(), text)
    assert factory.entry_types() == []


def test_a_control_of_the_providers_own_is_recorded_and_listed_with_the_catalogue(
    factory: FakeUnitOfWorkFactory,
) -> None:
    added = assurance.add_control(factory, security_manager(), OWN)

    assert (added.id, added.provider) == ("P-1", True)
    [entry] = factory.entries()
    assert (entry.type, entry.subject.id) == ("assurance.control_added", "P-1")
    assert entry.data == {"control": OWN}
    shown = assurance.controls(factory, auditor())
    assert shown.controls[-1].control == added
    catalogue, own, not_applicable = assurance.catalogue_parts(factory, auditor())
    assert (own, not_applicable) == ([added], {})
    assert catalogue == factory.packaged.catalogue()


def test_a_control_id_already_taken_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    assurance.add_control(factory, administrator(), OWN)

    with pytest.raises(Conflict, match="already a control P-1"):
        assurance.add_control(factory, administrator(), {**OWN, "title": "Another one"})
    assert factory.entry_types() == ["assurance.control_added"]


def test_a_providers_control_must_have_an_id_starting_p(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput, match="'P-'"):
        assurance.add_control(factory, administrator(), {**OWN, "id": "G99"})
    with pytest.raises(InvalidInput, match="evidence"):
        assurance.add_control(factory, administrator(), {**OWN, "evidence": []})
    assert factory.entry_types() == []


def test_adding_a_control_needs_the_assurance_manage_permission(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied):
        assurance.add_control(factory, auditor(), OWN)
    assert factory.entry_types() == []


def test_a_control_marked_not_applicable_and_back_shows_each_decision(
    factory: FakeUnitOfWorkFactory,
) -> None:
    reason = "We keep no seals at this facility"

    marked = assurance.set_applicable(factory, administrator(), "G1", False, f"  {reason} ")

    assert (marked.control_id, marked.applicable, marked.reason) == ("G1", False, reason)
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "assurance.control_not_applicable",
        "control",
        "G1",
    )
    assert entry.data == {"control_id": "G1", "reason": reason}
    g1 = assurance.controls(factory, auditor()).controls[0]
    assert (g1.control.id, g1.applicable, g1.reason) == ("G1", False, reason)
    assert assurance.catalogue_parts(factory, auditor())[2] == {"G1": reason}

    assurance.set_applicable(factory, administrator(), "G1", True, "Seals are kept here again")

    assert factory.entry_types()[-1] == "assurance.control_applicable"
    assert assurance.controls(factory, auditor()).controls[0].applicable is True
    with factory(write=False) as uow:
        assert [c.control.id for c in assurance.controls_in_force(uow) if not c.applicable] == []


def test_marking_a_control_as_it_already_is_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(Conflict, match="already applicable"):
        assurance.set_applicable(factory, administrator(), "G1", True, "It applies, as it did")
    assurance.set_applicable(factory, administrator(), "G1", False, "No seals are kept here")
    with pytest.raises(Conflict, match="already not applicable"):
        assurance.set_applicable(factory, administrator(), "G1", False, "Still no seals kept here")
    assert factory.entry_types() == ["assurance.control_not_applicable"]


def test_applicability_of_an_unknown_control_or_without_a_reason_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(NotFound, match="no control 'Z9'"):
        assurance.set_applicable(factory, administrator(), "Z9", False, "There is no such control")
    with pytest.raises(InvalidInput) as refused:
        assurance.set_applicable(factory, administrator(), "G1", False, "short")
    assert refused.value.field == "reason"
    with pytest.raises(PermissionDenied):
        assurance.set_applicable(factory, auditor(), "G1", False, "An auditor cannot decide it")
    assert factory.entry_types() == []


# -- evidence --------------------------------------------------------------------------------


def test_an_uploaded_document_is_stored_by_its_digest_and_recorded(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    recorded = assurance.upload(
        factory,
        administrator(),
        store,
        name=" Penetration-Test ",
        title="  Pen   test report 2026 ",
        filename="pen test (final).pdf",
        media_type="Application/PDF",
        content=io.BytesIO(b"%PDF report"),
        control_ids=["G3.3", "G1", "G3.3"],
    )

    assert (recorded.kind, recorded.name, recorded.title) == (
        "upload",
        "penetration-test",
        "Pen test report 2026",
    )
    assert (recorded.filename, recorded.media_type) == ("pen test _final_.pdf", "application/pdf")
    assert recorded.control_ids == ("G1", "G3.3")
    assert store.read(recorded.sha256) == b"%PDF report"
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "assurance.evidence_uploaded",
        "evidence",
        recorded.id,
    )
    assert entry.data["sha256"] == recorded.sha256
    assert entry.data["size"] == len(b"%PDF report")
    listed, total = assurance.evidence_list(factory, auditor(), store, None, 0, 10)
    assert (total, [(c.evidence, c.integrity) for c in listed]) == (1, [(recorded, "ok")])


def test_an_upload_naming_an_unknown_control_stores_and_records_nothing(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    with pytest.raises(NotFound, match="no control Z9"):
        seed.upload(factory, store, control_ids=["G1", "Z9"])
    assert (factory.entry_types(), store.files) == ([], {})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "9 bad name", "name:"),
        ("title", "ab", "title:"),
        ("filename", "../etc/passwd", "is a path"),
        ("media_type", "pdf", "media_type:"),
    ],
)
def test_an_upload_with_bad_details_is_refused(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore, field: str, value: str, message: str
) -> None:
    details = {
        "name": "isms",
        "title": "Our ISMS",
        "filename": "isms.pdf",
        "media_type": "application/pdf",
        field: value,
    }
    with pytest.raises(InvalidInput, match=message):
        assurance.upload(factory, administrator(), store, content=io.BytesIO(b"%PDF"), **details)
    assert (factory.entry_types(), store.files) == ([], {})


def test_uploading_needs_the_assurance_manage_permission(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    with pytest.raises(PermissionDenied):
        seed.upload(factory, store, caller=auditor())
    assert (factory.entry_types(), store.files) == ([], {})


def test_the_evidence_list_is_oldest_first_filtered_by_name_and_paged(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    made = []
    for i, name in enumerate(["isms", "penetration-test", "isms"]):
        made.append(seed.upload(factory, store, name=name, content=f"file {i}".encode()))
        factory.clock.advance(timedelta(hours=1))

    every, total = assurance.evidence_list(factory, auditor(), store, None, 0, 10)
    assert total == 3
    assert [c.evidence.id for c in every] == [e.id for e in made]
    isms, total = assurance.evidence_list(factory, auditor(), store, "isms", 1, 1)
    assert (total, [c.evidence.id for c in isms]) == (2, [made[2].id])
    with pytest.raises(PermissionDenied):
        assurance.evidence_list(factory, nobody(), store, None, 0, 10)


def test_an_evidence_file_is_given_only_while_it_matches_its_digest(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    recorded = seed.upload(factory, store, content=b"the scope")

    found, content = assurance.evidence_file(factory, auditor(), store, recorded.id)
    assert (found, content) == (recorded, b"the scope")

    store.alter(recorded.sha256)
    with pytest.raises(Conflict, match="is altered"):
        assurance.evidence_file(factory, auditor(), store, recorded.id)
    store.lose(recorded.sha256)
    with pytest.raises(Conflict, match="is missing"):
        assurance.evidence_file(factory, auditor(), store, recorded.id)
    with pytest.raises(NotFound, match="no evidence 'nope'"):
        assurance.evidence_file(factory, auditor(), store, "nope")
    with pytest.raises(PermissionDenied):
        assurance.evidence_file(factory, nobody(), store, recorded.id)


def test_checking_the_files_flags_those_altered_or_missing(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    kept = seed.upload(factory, store, name="isms", content=b"kept")
    altered = seed.upload(factory, store, name="risk-assessment", content=b"altered")
    lost = seed.upload(factory, store, name="training-record", content=b"lost")
    store.alter(altered.sha256)
    store.lose(lost.sha256)

    flagged = assurance.check_files(factory, auditor(), store)

    assert {(f.id, f.name, f.state) for f in flagged} == {
        (altered.id, "risk-assessment", "altered"),
        (lost.id, "training-record", "missing"),
    }
    assert kept.id not in {f.id for f in flagged}
    with pytest.raises(PermissionDenied):
        assurance.check_files(factory, nobody(), store)


def test_generating_evidence_stores_each_document_and_records_its_headline_figures(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    replay = FakeReplay(Replayed(entries=7, rows=30, differences=["job 1: state", "seal 2"]))

    made = automatic_evidence.generate(
        factory,
        administrator(),
        seed.ISSUER,
        replay,
        store,
        ["replay_check", "ledger_verification"],
    )

    assert [e.name for e in made] == ["replay_check", "ledger_verification"]
    assert all(e.kind == "automatic" and e.media_type == "application/json" for e in made)
    assert factory.entry_types() == ["assurance.evidence_generated"] * 2
    replayed, verified = made
    assert replayed.summary == {"ok": False, "differences": 2}
    assert verified.summary == {"ok": True, "size": 0, "entries_checked": 0}
    document = json.loads(store.read(replayed.sha256))
    assert document["evidence"] == "replay_check"
    assert document["generated_at"] == "2026-12-01T09:00:00.000000Z"
    assert document["differences"] == ["job 1: state", "seal 2"]
    entry = factory.entries()[0]
    assert entry.data["title"] == "The current-state tables rebuilt from the ledger and found equal"
    assert (entry.data["sha256"], entry.data["size"]) == (replayed.sha256, replayed.size)


def test_an_auditor_verifies_the_ledger_now_following_its_progress_and_reads_the_outcome(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    workflow_seed.verified(factory, workflow_seed.at_the_bench(factory), 1)
    size = len(factory.entries())
    replay = FakeReplay(Replayed(entries=size, rows=40, differences=["job 1: state"]))
    told: list[tuple[str, int, int]] = []
    with pytest.raises(PermissionDenied):
        automatic_evidence.generate(factory, auditor(), seed.ISSUER, replay, store)

    made = automatic_evidence.verify_now(
        factory, auditor(), seed.ISSUER, replay, store, lambda *step: told.append(step)
    )

    assert [e.name for e in made] == ["ledger_verification", "replay_check"]
    verified, replayed = made
    assert verified.summary == {"ok": True, "size": size, "entries_checked": size}
    assert replayed.summary == {"ok": False, "differences": 1}
    assert told[-2:] == [("verify", size, size), ("replay", 0, 0)]
    assert all(step == "verify" and total == size for step, _, total in told[:-1])
    recorded = factory.entries()[size:]
    assert [(e.type, e.actor.id) for e in recorded] == [
        ("assurance.evidence_generated", auditor().id)
    ] * 2
    shown = assurance_views.ledger_overview(factory, auditor(), "verifier-key")
    assert shown.last_verification is not None and shown.last_replay is not None
    assert (shown.last_verification.evidence_id, shown.last_verification.ok) == (verified.id, True)
    assert (shown.last_replay.evidence_id, shown.last_replay.ok) == (replayed.id, False)
    assert shown.last_replay.figures["differences"] == 1
    assert shown.last_verification.by == auditor().id
    with pytest.raises(PermissionDenied):
        automatic_evidence.verify_now(factory, nobody(), seed.ISSUER, replay, store)


def test_generating_evidence_of_the_policy_and_the_triage_outcomes_reads_the_bench_record(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    policy = factory.packaged.tamper_policy()
    tamper_policy.activate_policy(factory, administrator(), policy)

    made = automatic_evidence.generate(
        factory,
        administrator(),
        seed.ISSUER,
        FakeReplay(),
        store,
        ["tamper_policy", "triage_outcomes"],
    )

    in_force = json.loads(store.read(made[0].sha256))["policy_in_force"]
    assert (in_force["hash"], in_force["policy_id"]) == (policy.hash, policy.id)
    assert json.loads(store.read(made[0].sha256))["decisions"] == []
    assert made[1].summary == {"total": 0}


def test_the_policy_and_outcome_evidence_count_the_decisions_and_jobs_of_the_benches(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    bench = workflow_seed.at_the_bench(factory)
    workflow_seed.verified(factory, bench, 1)
    quarantined = workflow_seed.inspected(factory, bench, 2, workflow_seed.BREACHED)
    job_steps.override(
        factory, supervisor(), quarantined, "eligible", "The boundary was scratched, not breached"
    )
    policy = factory.packaged.tamper_policy()

    made = automatic_evidence.generate(
        factory,
        administrator(),
        seed.ISSUER,
        FakeReplay(),
        store,
        ["tamper_policy", "triage_outcomes"],
    )

    decisions = json.loads(store.read(made[0].sha256))["decisions"]
    assert sorted((d["outcome"], d["by"], d["count"]) for d in decisions) == [
        ("eligible", "override", 1),
        ("eligible", "policy", 1),
        ("quarantine", "policy", 1),
    ]
    assert {d["policy_hash"] for d in decisions if d["by"] == "policy"} == {policy.hash}
    jobs = json.loads(store.read(made[1].sha256))["jobs"]
    assert sorted((j["state"], j["outcome"], j["count"]) for j in jobs) == [
        ("eligible", "eligible", 1),
        ("verified", "eligible", 1),
    ]
    assert made[1].summary == {"total": 2}


def test_generating_every_kind_of_evidence_makes_one_of_each(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    made = automatic_evidence.generate(
        factory, security_manager(), seed.ISSUER, FakeReplay(), store
    )

    assert sorted(e.name for e in made) == sorted(
        [
            "ledger_verification",
            "replay_check",
            "access_review",
            "tool_inventory",
            "breaches",
            "seal_reconciliation",
            "tamper_policy",
            "triage_outcomes",
            "assessments",
            "remediation",
            "incident_register",
        ]
    )
    assert all(store.check(e.sha256) == "ok" for e in made)


def test_the_remediation_evidence_lists_findings_and_the_actions_still_open(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    seed.record_party(factory)
    planned = seed.plan(factory)
    first = seed.raise_finding(factory, planned.id, "G1")
    second = seed.raise_finding(factory, planned.id, "G3.1", "low")
    assessment.plan_action(
        factory, administrator(), first, "Rotate the bench keys monthly", "sec", "2026-12-20"
    )
    assessment.close_finding(factory, administrator(), second, "Accepted by the assessor on site")
    kinds = ["assessments", "remediation"]
    by_name = {
        e.name: e
        for e in automatic_evidence.generate(
            factory, security_manager(), seed.ISSUER, FakeReplay(), store, kinds
        )
    }
    assert by_name["assessments"].summary == {"total": 1}
    made = by_name["remediation"]
    document = json.loads(store.files[made.sha256])
    assert (made.name, made.summary) == ("remediation", {"open": 1, "total": 2})
    assert sorted((f["id"], f["status"]) for f in document["findings"]) == sorted(
        [(first, "open"), (second, "closed")]
    )
    assert [(a["finding_id"], a["owner"], a["status"]) for a in document["actions"]] == [
        (first, "sec", "open")
    ]
    assert document["open_actions"] == 1
    factory.clock.advance(timedelta(days=30))
    [later] = automatic_evidence.generate(
        factory, security_manager(), seed.ISSUER, FakeReplay(), store, ["remediation"]
    )
    overdue = json.loads(store.files[later.sha256])["overdue"]
    assert [a["owner"] for a in overdue["actions"]] == ["sec"]


def test_generating_an_unknown_kind_of_evidence_is_refused(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    replay = FakeReplay()
    with pytest.raises(InvalidInput, match="no automatic evidence named selfie"):
        automatic_evidence.generate(
            factory, administrator(), seed.ISSUER, replay, store, ["selfie"]
        )
    with pytest.raises(PermissionDenied):
        automatic_evidence.generate(
            factory, auditor(), seed.ISSUER, replay, store, ["replay_check"]
        )
    assert (factory.entry_types(), store.files, replay.calls) == ([], {}, 0)


def test_the_ledger_verification_and_the_replay_report_what_they_found(
    factory: FakeUnitOfWorkFactory,
) -> None:
    assurance.set_applicable(factory, administrator(), "G1", False, "No seals are kept here")

    verified = automatic_evidence.verify_ledger(factory, seed.ISSUER)
    assert verified.report.ok
    assert verified.report.size == 1
    assert (verified.latest_checkpoint, verified.verifier_key) == (None, seed.VERIFIER)
    replayed = automatic_evidence.replay_ledger(FakeReplay(Replayed(1, 5, ["a difference"])))
    assert (replayed.entries, replayed.rows, replayed.ok) == (1, 5, False)
    assert replayed.differences == ("a difference",)


def test_an_evidence_document_is_stored_as_sorted_indented_json() -> None:
    stored = automatic_evidence.evidence_bytes(
        {"b": datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "a": frozenset({"y", "x"}), "c": b"\x01"}
    )
    assert stored == (
        b'{\n  "a": [\n    "x",\n    "y"\n  ],\n  "b": "2026-12-01T09:00:00.000000Z",\n'
        b'  "c": "01"\n}\n'
    )
    with pytest.raises(TypeError, match="cannot put object into evidence"):
        automatic_evidence.evidence_bytes({"x": object()})


def test_a_controls_readiness_follows_its_evidence_fresh_stale_and_altered(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    def status(control_id: str) -> str:
        rows = assurance.control_readiness(factory, auditor(), store)
        return next(r.status for r in rows if r.control.id == control_id)

    assert status("G3.4") == "missing"
    made = automatic_evidence.generate(
        factory, administrator(), seed.ISSUER, FakeReplay(), store, ["ledger_verification"]
    )
    assert status("G3.4") == "missing"  # the replay check is still missing
    automatic_evidence.generate(
        factory, administrator(), seed.ISSUER, FakeReplay(), store, ["replay_check"]
    )
    assert status("G3.4") == "ready"
    factory.clock.advance(timedelta(days=32))
    assert status("G3.4") == "stale"
    fresh = automatic_evidence.generate(
        factory,
        administrator(),
        seed.ISSUER,
        FakeReplay(),
        store,
        ["ledger_verification", "replay_check"],
    )
    assert status("G3.4") == "ready"
    store.alter(fresh[0].sha256)
    assert status("G3.4") == "missing"
    assert store.check(made[0].sha256) == "ok"  # the older file no longer counts
    assurance.set_applicable(factory, administrator(), "G3.4", False, "Not ours to keep, we say")
    assert status("G3.4") == "not_applicable"
    with pytest.raises(PermissionDenied):
        assurance.control_readiness(factory, nobody(), store)


def test_every_automatic_evidence_the_packaged_catalogue_expects_can_be_generated(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    expected = {
        e.name
        for c in factory.packaged.catalogue().controls
        for e in c.evidence
        if e.kind == "automatic"
    }
    made = automatic_evidence.generate(factory, administrator(), seed.ISSUER, FakeReplay(), store)
    assert expected <= {e.name for e in made}
