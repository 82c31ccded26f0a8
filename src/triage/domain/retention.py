"""Retention of evidence files: how long each kind is kept, legal holds that keep a file past
it, and which files a purge deletes.

Evidence files are kept by their SHA-256 (one file for the same content), so a file may be
recorded more than once (the same photo twice, or as two kinds): it is purged only when EVERY
record of it is past its retention and none is held. The ledger keeps the digest of a purged
file forever; only the file goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from triage.errors import InvalidInput

MAX_DAYS = 100 * 366
REASON_CHARS = 500


class CountedFrom(StrEnum):
    """What a kind's retention period is counted from."""

    CASE_CLOSED = "case_closed"  # the device's triage job closed (released, returned, destroyed)
    RECORDED = "recorded"  # the file was uploaded or generated


@dataclass(frozen=True)
class EvidenceKind:
    """One kind of evidence file the product keeps, and the default period it is kept for."""

    name: str
    title: str
    counted_from: CountedFrom
    default_days: int


# Every kind of file kept in the evidence store, with the entry type that records one. The
# defaults follow what an assessor asks to see: six years of the security evidence behind a
# device's decision after its case closes; two years of bench photos; assurance documents for
# six years (three assessment cycles), generated evidence for three (it can be generated again);
# the photos and videos behind a certificate of destruction as long as the security logs.
KINDS: dict[str, EvidenceKind] = {
    k.name: k
    for k in (
        EvidenceKind("device_photo", "Photos taken at the bench", CountedFrom.CASE_CLOSED, 730),
        EvidenceKind(
            "security_log", "Devices' raw GBCS security logs", CountedFrom.CASE_CLOSED, 2190
        ),
        EvidenceKind(
            "destruction_evidence",
            "Photos and videos of destructions",
            CountedFrom.CASE_CLOSED,
            2190,
        ),
        EvidenceKind(
            "assurance_upload", "Assurance documents uploaded", CountedFrom.RECORDED, 2190
        ),
        EvidenceKind(
            "assurance_generated",
            "Assurance evidence the system generated",
            CountedFrom.RECORDED,
            1095,
        ),
    )
}


class HoldScope(StrEnum):
    """What a legal hold keeps: a device's files, a consignment's devices' files, or one file."""

    DEVICE = "device"
    CONSIGNMENT = "consignment"
    FILE = "file"


@dataclass(frozen=True)
class RetentionRule:
    """How many days files of ``kind`` are kept after what its kind counts from."""

    kind: str
    days: int
    counted_from: CountedFrom
    set_by: str | None = None  # None: the default, never changed
    set_at: datetime | None = None


@dataclass(frozen=True)
class LegalHold:
    """A hold on a device's, a consignment's or one file's evidence: never purged while held."""

    id: str
    scope: HoldScope
    target: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class EvidenceFile:
    """One record of an evidence file: what it is, what it belongs to, when it was recorded,
    and when the device's case closed (None while open, or for a kind not tied to a device)."""

    sha256: str
    kind: str
    name: str
    size: int
    recorded_at: datetime
    device_id: str | None = None
    job_id: str | None = None
    consignment_id: str | None = None
    case_closed_at: datetime | None = None


@dataclass(frozen=True)
class Purged:
    """A file purged: when, under which rule (kind and days), and what it was."""

    sha256: str
    kind: str
    name: str
    size: int
    rule_days: int
    purged_at: datetime
    purged_by: str


@dataclass(frozen=True)
class PurgeCandidate:
    """A file a purge deletes: its digest, the record that expired last, and when."""

    sha256: str
    file: EvidenceFile
    rule: RetentionRule
    expired_at: datetime


def check_days(days: int) -> int:
    """A retention period in days, or InvalidInput."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days: a whole number of days from 1 to {MAX_DAYS}", field="days")
    return days


def check_kind(kind: str) -> EvidenceKind:
    """The evidence kind named ``kind``, or InvalidInput naming the kinds."""
    found = KINDS.get(kind.strip())
    if found is None:
        raise InvalidInput(f"kind: one of {', '.join(KINDS)}", field="kind")
    return found


def check_reason(reason: str, name: str = "reason") -> str:
    """A reason someone gives (a hold's or its release's), stripped, or InvalidInput."""
    text = " ".join(reason.split())
    if not 10 <= len(text) <= REASON_CHARS:
        raise InvalidInput(f"{name}: 10-{REASON_CHARS} characters saying why", field=name)
    return text


def effective_rules(changed: Iterable[RetentionRule]) -> dict[str, RetentionRule]:
    """Every kind's rule: the one set for it, else its default."""
    rules = {k.name: RetentionRule(k.name, k.default_days, k.counted_from) for k in KINDS.values()}
    for rule in changed:
        if rule.kind in rules:
            rules[rule.kind] = rule
    return rules


def expires_at(file: EvidenceFile, rule: RetentionRule) -> datetime | None:
    """When the file's record is past its retention (None: not counting yet, its case is open)."""
    start = file.recorded_at if rule.counted_from is CountedFrom.RECORDED else file.case_closed_at
    return None if start is None else start + timedelta(days=rule.days)


def is_held(file: EvidenceFile, holds: Iterable[LegalHold]) -> LegalHold | None:
    """The first active hold that keeps this record, if any."""
    for hold in holds:
        if not hold.active:
            continue
        if (
            (hold.scope is HoldScope.FILE and hold.target == file.sha256)
            or (hold.scope is HoldScope.DEVICE and hold.target == file.device_id)
            or (hold.scope is HoldScope.CONSIGNMENT and hold.target == file.consignment_id)
        ):
            return hold
    return None


def purge_candidates(
    files: Sequence[EvidenceFile],
    rules: dict[str, RetentionRule],
    holds: Sequence[LegalHold],
    purged: dict[str, datetime],
    now: datetime,
) -> list[PurgeCandidate]:
    """The files to purge now, oldest expiry first: every record of each past its retention and
    none held. ``purged`` is when each digest was last purged: only what was recorded after
    that counts (the same content stored again is a new file)."""
    by_digest: dict[str, list[EvidenceFile]] = {}
    for file in files:
        gone = purged.get(file.sha256)
        if gone is None or file.recorded_at > gone:
            by_digest.setdefault(file.sha256, []).append(file)
    found = []
    for sha256, records in by_digest.items():
        if any(is_held(r, holds) for r in records) or any(r.kind not in rules for r in records):
            continue
        ends = [(expires_at(r, rules[r.kind]), r) for r in records]
        expired = [(end, r) for end, r in ends if end is not None and end <= now]
        if len(expired) != len(records):
            continue
        last, record = max(expired, key=lambda pair: pair[0])
        found.append(PurgeCandidate(sha256, record, rules[record.kind], last))
    return sorted(found, key=lambda c: (c.expired_at, c.sha256))
