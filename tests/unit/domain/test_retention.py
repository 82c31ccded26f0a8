"""Which evidence files a purge deletes: every record of a file past its retention, none held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.domain.retention import (
    EvidenceFile,
    HoldScope,
    LegalHold,
    effective_rules,
    purge_candidates,
)

T0 = datetime(2020, 1, 1, tzinfo=UTC)
RULES = effective_rules([])  # photos: 730 days after the case closes; uploads: 2190 after upload
DIGEST = "ab" * 32


def photo(closed: datetime | None, recorded: datetime = T0) -> EvidenceFile:
    return EvidenceFile(DIGEST, "device_photo", "photo", 10, recorded, "D-1", "J-1", "C-1", closed)


def upload(recorded: datetime) -> EvidenceFile:
    return EvidenceFile(DIGEST, "assurance_upload", "policy.pdf", 10, recorded)


def test_a_file_is_purged_once_every_record_of_it_is_past_its_retention() -> None:
    files = [photo(T0), upload(T0 + timedelta(days=100))]
    # The photo expires after 730 days; the same content uploaded is kept 2190 from its upload.
    assert purge_candidates(files, RULES, [], {}, T0 + timedelta(days=800)) == []
    [due] = purge_candidates(files, RULES, [], {}, T0 + timedelta(days=2291))
    assert due.file.kind == "assurance_upload"
    assert due.expired_at == T0 + timedelta(days=2290)


def test_an_open_case_a_hold_or_an_earlier_purge_keeps_a_file_out() -> None:
    later = T0 + timedelta(days=10000)
    assert purge_candidates([photo(None)], RULES, [], {}, later) == []
    hold = LegalHold("H-1", HoldScope.CONSIGNMENT, "C-1", "a court case", "sec", T0)
    assert purge_candidates([photo(T0)], RULES, [hold], {}, later) == []
    assert purge_candidates([photo(T0)], RULES, [], {DIGEST: T0 + timedelta(days=731)}, later) == []
    # The same content recorded again after its purge is a new file, purged in its turn.
    again = photo(T0 + timedelta(days=800), recorded=T0 + timedelta(days=799))
    [due] = purge_candidates(
        [photo(T0), again], RULES, [], {DIGEST: T0 + timedelta(days=731)}, later
    )
    assert due.file == again
