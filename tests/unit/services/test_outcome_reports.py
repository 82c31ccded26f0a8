"""A consignment's outcome report: counts, each device's outcome and receipt digest, signed
with the facility's key; an asset owner's person reads only its own."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import disposal_seed, workflow_seed
from tests.unit.services.assurance_seed import ISSUER, VERIFIER
from tests.unit.services.callers import auditor, nobody
from tests.unit.services.workflow_seed import SUPERVISOR, Bench, device_id
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.domain.signed_document import verify_document
from triage.errors import NotFound, PermissionDenied
from triage.ledger.errors import VerificationError
from triage.ledger.receipt import build_receipt, receipt_digest, verify_receipt
from triage.services import intake, job_steps, outcome_reports
from triage.services.common import device_ref
from triage.services.ports import Document

OWNER = "MAP-1"


def owner_person(owner_id: str = OWNER) -> Caller:
    return Caller.operator("a.person", frozenset({Role.ASSET_OWNER}), asset_owner=owner_id)


def _inspected(factory: FakeUnitOfWorkFactory, bench: Bench, n: int) -> str:
    scanned = intake.scan_device(factory, SUPERVISOR, device_id(n))
    assert scanned.job is not None
    workflow_seed.log_recorded(factory, scanned.job)
    job_steps.inspect(factory, bench.operator, scanned.job.id, workflow_seed.INTACT)
    return scanned.job.id


@pytest.fixture
def factory() -> FakeUnitOfWorkFactory:
    """Consignment CN-OUT of MAP-1 expecting devices 1-6: 1 released, 2 destroyed, 3 returned
    to the manufacturer, 4 quarantined, 5 scanned in only, 6 never arrived."""
    made = FakeUnitOfWorkFactory()
    bench = workflow_seed.at_the_bench(made)
    workflow_seed.import_consignment(made, 1, 2, 3, 4, 5, 6, reference="CN-OUT", owner=OWNER)
    released = _inspected(made, bench, 1)
    order = workflow_seed.authorise(made, bench, released)
    job_steps.record_tool_result(made, bench.tool, workflow_seed.tool_result(made, bench, order))
    job_steps.seal(made, bench.operator, released, workflow_seed.issued_seal(made, "op", "SL-1"))
    job_steps.release(made, bench.operator, released)
    for n in (2, 3, 4):
        job_id = _inspected(made, bench, n)
        job_steps.quarantine(made, SUPERVISOR, job_id, "the case is cracked across the front")
        if n == 2:
            job_steps.dispose(
                made, SUPERVISOR, job_id, "destroy", "WEEE-1", disposal_seed.DESTRUCTION
            )
        if n == 3:
            job_steps.dispose(made, SUPERVISOR, job_id, "return", "RMA-3")
    intake.scan_device(made, SUPERVISOR, device_id(5))
    return made


def test_the_report_counts_every_outcome_and_names_each_device(
    factory: FakeUnitOfWorkFactory,
) -> None:
    report = outcome_reports.outcome_report(factory, auditor(), "CN-OUT", ISSUER)

    assert report.counts == {
        "expected": 6,
        "arrived": 5,
        "released": 1,
        "quarantined": 1,
        "destroyed": 1,
        "returned": 1,
        "unfinished": 1,
        "not_arrived": 1,
    }
    outcomes = {d.device_id: d for d in report.devices}
    assert {d: o.outcome for d, o in outcomes.items()} == {
        device_id(1): "released",
        device_id(2): "destroyed",
        device_id(3): "returned",
        device_id(4): "quarantined",
        device_id(5): "unfinished",
        device_id(6): "not_arrived",
    }
    assert outcomes[device_id(1)].seal_serial == "SL-1"
    assert outcomes[device_id(2)].seal_serial is None
    assert outcomes[device_id(6)].receipt_digest is None
    assert outcomes[device_id(6)].job_id is None


def test_each_receipt_digest_is_that_of_the_receipt_proven_at_the_named_checkpoint(
    factory: FakeUnitOfWorkFactory,
) -> None:
    report = outcome_reports.outcome_report(factory, auditor(), "CN-OUT", ISSUER)

    named = report.signed.document["checkpoint"]
    assert named["size"] == report.checkpoint_size == len(factory.entries())
    with factory(write=False) as uow:
        [checkpoint] = [uow.ledger.log.latest_checkpoint()]
        assert checkpoint is not None and checkpoint.note == named["note"]
        ref = device_ref(device_id(2))
        indexes = uow.ledger.indexes_for("device", device_id(2))
        receipt = build_receipt(uow.ledger.log, ISSUER.origin, ref, indexes, checkpoint)
    expected = receipt_digest(receipt, verify_receipt(receipt, [VERIFIER]))
    [destroyed] = [d for d in report.devices if d.device_id == device_id(2)]
    assert destroyed.receipt_digest == expected


def test_the_signed_report_verifies_with_the_facility_key_and_a_changed_byte_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    report = outcome_reports.outcome_report(factory, auditor(), "CN-OUT", ISSUER)
    data = report.signed.to_json()

    checked = verify_document(data, [VERIFIER], kind="consignment-outcome")
    assert checked.document["counts"]["released"] == 1
    assert checked.document["consignment"]["asset_owner"] == OWNER

    changed = json.loads(data)
    changed["document"]["counts"]["destroyed"] = 0
    with pytest.raises(VerificationError, match="changed after it was signed"):
        verify_document(json.dumps(changed).encode(), [VERIFIER])
    flipped = data.replace(b'"released": 1', b'"released": 2', 1)
    assert flipped != data
    with pytest.raises(VerificationError):
        verify_document(flipped, [VERIFIER])


def test_the_report_is_a_read_it_records_no_entry(factory: FakeUnitOfWorkFactory) -> None:
    outcome_reports.outcome_report(factory, auditor(), "CN-OUT", ISSUER)
    before = factory.entry_types()

    outcome_reports.outcome_report(factory, auditor(), "CN-OUT", ISSUER)

    assert factory.entry_types() == before


def test_an_owner_reads_its_own_report_and_another_owners_is_not_found(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.import_consignment(factory, 7, reference="CN-OTHER", owner="MAP-2")

    mine = outcome_reports.outcome_report(factory, owner_person(), "CN-OUT", ISSUER)
    assert mine.counts["expected"] == 6

    with pytest.raises(NotFound, match="no consignment 'CN-OTHER'"):
        outcome_reports.outcome_report(factory, owner_person(), "CN-OTHER", ISSUER)
    with pytest.raises(NotFound):
        outcome_reports.outcome_report(factory, owner_person(), "CN-OTHER", ISSUER, "MAP-2")
    with pytest.raises(NotFound):
        outcome_reports.outcome_report(factory, owner_person("MAP-2"), "CN-OUT", ISSUER)
    with pytest.raises(PermissionDenied):
        outcome_reports.outcome_report(factory, nobody(), "CN-OUT", ISSUER)


def test_the_csv_has_a_row_a_device_and_neutralises_formula_cells(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.import_consignment(factory, 8, reference="=HYPERLINK(1)", owner=OWNER)

    text, filename = outcome_reports.outcome_csv(factory, auditor(), "CN-OUT", ISSUER)
    rows = list(csv.reader(io.StringIO(text)))
    header = rows.index(list(outcome_reports.CSV_COLUMNS))
    assert len(rows) - header - 1 == 6
    assert filename == "outcome-CN-OUT.csv"

    formula, _ = outcome_reports.outcome_csv(factory, auditor(), "=HYPERLINK(1)", ISSUER)
    assert next(csv.reader(io.StringIO(formula)))[1] == "'=HYPERLINK(1)"


class Printer:
    """A renderer that keeps what it was asked to print."""

    def __init__(self) -> None:
        self.printed: list[bytes] = []

    def outcome_report(self, signed_report: bytes, verifier_key: str) -> Document:
        verify_document(signed_report, [verifier_key], kind="consignment-outcome")
        self.printed.append(signed_report)
        return Document(b"%PDF", "outcome.pdf")


def test_the_pdf_is_printed_from_the_signed_report(factory: FakeUnitOfWorkFactory) -> None:
    printer = Printer()

    printed = outcome_reports.outcome_pdf(
        factory,
        auditor(),
        "CN-OUT",
        ISSUER,
        printer,  # type: ignore[arg-type]
    )

    assert printed.content == b"%PDF"
    [signed] = printer.printed
    assert verify_document(signed, [VERIFIER]).document["counts"]["expected"] == 6
