"""Destruction and return evidence on SQLite and PostgreSQL: the methods seeded and changed, a
destruction with its evidence kept, its witness, the certificates of destruction with the NIST
SP 800-88 sec. 4.8 fields, and a replay that rebuilds it all from the ledger."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from tests.integration.conftest import CLEAN, Staffed
from triage.adapters.replay import replay_check
from triage.domain.disposal import DESTROY, RETURN, DisposalRecord
from triage.domain.signed_document import verify_document
from triage.errors import Conflict, PermissionDenied
from triage.services import disposals

D1, D2, D3 = "BC-33-AC-FF-FE-FA-56-01", "BC-33-AC-FF-FE-FA-56-02", "BC-33-AC-FF-FE-FA-56-03"
BREACHED = {**CLEAN, "cpa_boundary_intact": False}
JPEG = b"\xff\xd8\xff\xe0" + b"the shredder's output, photographed" * 20


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _destroy(staffed: Staffed, job_id: str, method: str = "shred") -> DisposalRecord:
    return disposals.destroy(
        staffed.app.uow,
        staffed.sup,
        staffed.app.evidence_store(),
        job_id,
        reference="DC-2026-0042",
        method=method,
        site="Shredding bay 2, Unit 4 Example Park",
        destroyed_on=datetime.now(UTC).date(),
        contact="+44 20 7946 0000",
        files=[JPEG],
    )


def _replays_clean(staffed: Staffed) -> None:
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.differences == []


def test_a_destruction_is_witnessed_then_certified_with_the_nist_fields(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job = staffed.receive(D1, BREACHED)
    app = staffed.app

    record = _destroy(staffed, job.id)

    assert (record.kind, record.method and record.method.code, record.witnessed) == (
        DESTROY,
        "shred",
        False,
    )
    [photo] = record.evidence
    assert app.evidence_store().read(photo.sha256) == JPEG
    with pytest.raises(Conflict, match="awaiting a witness"):
        disposals.certificate(app.uow, staffed.auditor, D1, app.issuer(), app.documents)
    with pytest.raises(PermissionDenied, match="separation of duties"):
        disposals.witness(app.uow, staffed.sup, job.id, "I saw it")

    seen = disposals.witness(app.uow, staffed.stores, job.id, "saw it go through the shredder")

    assert seen.witness_id == "stella"
    with pytest.raises(Conflict, match="witnessed already"):
        disposals.witness(app.uow, staffed.sup2, job.id, "me too")
    made = disposals.certificate(app.uow, staffed.auditor, D1, app.issuer(), app.documents)
    text = _text(made.content)
    for fact in (
        "Certificate of destruction",
        "NIST SP 800-88 Rev.1, section 4.8",
        "Manufacturer Acme",
        "Model M1",
        f"Serial number {D1}",
        "Electricity smart meter (ESME)",
        "Media source MAP-1",
        "moderate",
        "Shred, NIST SP 800-88 category DESTROY",
        "industrial shredder",
        "Verification visual inspection",
        "WEEE treatment facility",
        "operator sup (supervisor)",
        "Shredding bay 2, Unit 4 Example Park",
        "+44 20 7946 0000",
        "operator stella",
        "saw it go through the shredder",
        photo.sha256[:32],
        "DC-2026-0042",
    ):
        assert fact in text, fact
    _replays_clean(staffed)


def test_a_batch_certificate_and_a_return_on_the_record(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1, D2, D3])
    app = staffed.app
    first, second = staffed.receive(D1, BREACHED), staffed.receive(D2, BREACHED)
    returned = staffed.receive(D3, BREACHED)
    _destroy(staffed, first.id)
    _destroy(staffed, second.id, method="crush-and-recycle")
    back = disposals.return_to_manufacturer(app.uow, staffed.sup, returned.id, "RMA-2026-7")
    assert (back.kind, back.reference, back.manufacturer) == (RETURN, "RMA-2026-7", "Acme")
    for job_id in (first.id, second.id):
        disposals.witness(app.uow, staffed.stores, job_id, "seen")
    today = datetime.now(UTC).date()

    made = disposals.batch_certificate(
        app.uow, staffed.auditor, app.issuer(), app.documents, since=today, until=today
    )

    signed = verify_document(made.signed.to_json(), [app.verifier_key()], kind="destruction-batch")
    assert [d["device_id"] for d in signed.document["devices"]] == [D1, D2]
    text = _text(made.pdf.content)
    for fact in (D1, D2, "Crush and recycle (WEEE)", "hydraulic crusher", made.signed.digest):
        assert fact in text, fact
    with app.uow(write=False) as uow:
        assert [r.kind for r in uow.disposals.for_device(D3)] == [RETURN]
        assert [r.job_id for r in uow.disposals.awaiting_witness(None)] == []
        assert [r.device_id for r in uow.disposals.destroyed("MAP-1", since=today)] == [D1, D2]
        assert uow.disposals.destroyed("MAP-2", since=today) == []
    _replays_clean(staffed)


def test_the_methods_are_seeded_and_changed_on_the_record(staffed: Staffed) -> None:
    app = staffed.app
    seeded = disposals.methods(app.uow, staffed.sup)
    assert "crush-and-recycle" in [m.code for m in seeded]
    _replays_clean(staffed)  # the seeded defaults are rebuilt too

    disposals.set_method(
        app.uow,
        staffed.admin,
        "degauss",
        name="Degauss and shred",
        category="purge",
        description="Degaussed, then shredded.",
        tool="degausser DG-4",
        verification="degausser log checked",
        destination="WEEE recycling",
    )
    shred = next(m for m in seeded if m.code == "shred")
    fields = shred.as_data()
    del fields["code"], fields["active"]
    disposals.set_method(app.uow, staffed.admin, "shred", **fields, active=False)

    found = {m.code: m for m in disposals.methods(app.uow, staffed.sup)}
    assert found["degauss"].category.value == "purge"
    assert not found["shred"].active
    _replays_clean(staffed)
