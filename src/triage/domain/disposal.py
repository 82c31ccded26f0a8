"""Destruction and return evidence: how a quarantined device leaves the facility for good.

A destruction records the method (from the facility's list of destruction methods, each with
its NIST SP 800-88 Rev.1 category), where and when it was done, the photos or videos that show
it (kept by SHA-256), and a second person who witnessed it; only then is a certificate of
destruction issued. A return to the manufacturer records the returns authorisation (RMA)
reference and the manufacturer, and leaves as a dispatch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from triage.errors import InvalidInput

DESTROY = "destroy"
RETURN = "return"
MAX_EVIDENCE_FILES = 20
# A photo or a short video; the evidence store keeps up to 64 MiB a file.
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
_CODE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# What a camera or phone gives: the evidence of a destruction is a picture or a film of it.
EVIDENCE_TYPES = {
    "image/jpeg": (0, b"\xff\xd8\xff"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "video/mp4": (4, b"ftyp"),
    "video/webm": (0, b"\x1a\x45\xdf\xa3"),
}
# A smart meter holds consumption data, tariffs and the security credentials of the smart
# metering network: confidential at a moderate level (FIPS 199) until it is sanitised.
DEFAULT_CONFIDENTIALITY = "moderate (consumption data, tariffs and network security credentials)"


def check_code(code: str) -> str:
    """A destruction method's code: lower-case letters, digits and '-', up to 40."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidInput(
            "code: 1-40 lower-case letters, digits or '-', starting with a letter", field="code"
        )
    return code


def check_line(value: str, field: str, limit: int, optional: bool = False) -> str:
    """One line of text, ``limit`` characters at most (empty only when ``optional``)."""
    text = value.strip() if isinstance(value, str) else ""
    if (not text and not optional) or len(text) > limit or any(ord(c) < 32 for c in text):
        need = f"at most {limit}" if optional else f"1-{limit}"
        raise InvalidInput(f"{field}: {need} characters on one line", field=field)
    return text


class NistCategory(StrEnum):
    """NIST SP 800-88 Rev.1 sanitisation categories, weakest to strongest."""

    CLEAR = "clear"
    PURGE = "purge"
    DESTROY = "destroy"


@dataclass(frozen=True)
class DestructionMethod:
    """A way the facility destroys devices: what it is, its NIST category, the tool used, how
    the result is verified and where what is left goes."""

    code: str
    name: str
    category: NistCategory
    description: str
    tool: str
    verification: str
    destination: str
    confidentiality: str = DEFAULT_CONFIDENTIALITY
    active: bool = True

    def __post_init__(self) -> None:
        check_code(self.code)
        for name, limit in _METHOD_TEXT.items():
            check_line(getattr(self, name), name, limit)

    def as_data(self) -> dict[str, Any]:
        """The method as an entry records it (``destruction_method.set``)."""
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category.value,
            "description": self.description,
            "tool": self.tool,
            "verification": self.verification,
            "destination": self.destination,
            "confidentiality": self.confidentiality,
            "active": self.active,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DestructionMethod:
        """The method an entry (or a row) records."""
        return cls(
            code=data["code"],
            name=data["name"],
            category=NistCategory(data["category"]),
            description=data["description"],
            tool=data["tool"],
            verification=data["verification"],
            destination=data["destination"],
            confidentiality=data["confidentiality"],
            active=bool(data["active"]),
        )


_METHOD_TEXT = {
    "name": 100,
    "description": 500,
    "tool": 200,
    "verification": 300,
    "destination": 200,
    "confidentiality": 200,
}

# The methods every facility starts with (the migration seeds them, and the projection of
# ``facility.created`` on a replay): never change these, add or change methods with
# ``destruction_method.set`` entries instead, so that replay rebuilds what every database has.
DEFAULT_METHODS = (
    DestructionMethod(
        "shred",
        "Shred",
        NistCategory.DESTROY,
        "The whole device, memory chips included, is shredded to pieces of 2 mm or less.",
        "industrial shredder",
        "visual inspection of the output: no chip or circuit board fragment larger than 2 mm",
        "shredded material to a WEEE treatment facility",
    ),
    DestructionMethod(
        "disintegrate",
        "Disintegrate",
        NistCategory.DESTROY,
        "The device is disintegrated until its storage media are particles.",
        "disintegrator",
        "visual inspection of the particles against the disintegrator's screen size",
        "particles to a WEEE treatment facility",
    ),
    DestructionMethod(
        "incinerate",
        "Incinerate",
        NistCategory.DESTROY,
        "The device is burnt in a licensed incinerator until its media are ash.",
        "licensed incinerator",
        "the incinerator operator's burn record; the ash inspected for unburnt media",
        "ash to licensed disposal",
    ),
    DestructionMethod(
        "pulverise",
        "Pulverise",
        NistCategory.DESTROY,
        "The device's circuit boards and memory chips are pulverised.",
        "pulveriser",
        "visual inspection: every memory chip broken",
        "pulverised material to a WEEE treatment facility",
    ),
    DestructionMethod(
        "crush-and-recycle",
        "Crush and recycle (WEEE)",
        NistCategory.DESTROY,
        "The device is crushed so that its memory chips are broken, then recycled under the "
        "WEEE Regulations.",
        "hydraulic crusher",
        "visual inspection: every memory chip cracked before the device leaves for recycling",
        "WEEE recycling (a WEEE transfer note)",
    ),
)


@dataclass(frozen=True)
class EvidenceFile:
    """A photo or video of a destruction, kept in the evidence store by its SHA-256."""

    sha256: str
    media_type: str
    size: int

    def as_data(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "media_type": self.media_type, "size": self.size}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> EvidenceFile:
        """An evidence file's record: its SHA-256 (64 hex digits), media type and size."""
        if not isinstance(data, Mapping):
            raise InvalidInput(
                "evidence: each file is {sha256, media_type, size}", field="evidence"
            )
        sha256, media_type, size = data.get("sha256"), data.get("media_type"), data.get("size")
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise InvalidInput(
                "evidence: each file needs its sha256 (64 lower-case hex digits)", field="evidence"
            )
        if media_type not in EVIDENCE_TYPES:
            raise InvalidInput(
                f"evidence: each file needs its media_type, one of {', '.join(EVIDENCE_TYPES)}",
                field="evidence",
            )
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise InvalidInput("evidence: each file needs its size in bytes", field="evidence")
        return cls(sha256, str(media_type), size)


def evidence_type(content: bytes) -> str:
    """The media type of a photo or video of a destruction, by its first bytes."""
    for media_type, (offset, magic) in EVIDENCE_TYPES.items():
        if content[offset : offset + len(magic)] == magic:
            return media_type
    raise InvalidInput(
        "evidence: a photo (JPEG or PNG) or a video (MP4 or WebM) of the destruction",
        field="evidence",
    )


@dataclass(frozen=True)
class Destruction:
    """What a person who destroyed a device records: the method's code, where (site or
    contractor), how to reach them, the day, and the evidence files."""

    method: str
    site: str
    destroyed_on: date
    evidence: tuple[EvidenceFile, ...]
    contact: str = ""

    @classmethod
    def parse(
        cls,
        method: str,
        site: str,
        destroyed_on: str | date,
        evidence: Sequence[EvidenceFile | Mapping[str, Any]],
        contact: str = "",
    ) -> Destruction:
        """A destruction from what was typed; InvalidInput naming the first bad field."""
        code = method.strip() if isinstance(method, str) else ""
        if not code:
            raise InvalidInput("method: choose the destruction method", field="method")
        files = tuple(f if isinstance(f, EvidenceFile) else EvidenceFile.parse(f) for f in evidence)
        if not files:
            raise InvalidInput(
                "evidence: give at least one photo or video of the destruction", field="evidence"
            )
        if len(files) > MAX_EVIDENCE_FILES:
            raise InvalidInput(
                f"evidence: at most {MAX_EVIDENCE_FILES} files a destruction", field="evidence"
            )
        return cls(
            method=code,
            site=check_line(site, "site", 200),
            destroyed_on=parse_day(destroyed_on),
            evidence=files,
            contact=check_line(contact, "contact", 200, optional=True),
        )

    def check_day(self, today: date) -> None:
        """A destruction is recorded after it happened: never on a day still to come."""
        if self.destroyed_on > today:
            raise InvalidInput(
                f"destroyed_on: {self.destroyed_on.isoformat()} is in the future (today is "
                f"{today.isoformat()}): record a destruction once it is done",
                field="destroyed_on",
            )


def parse_day(value: str | date) -> date:
    """A day as YYYY-MM-DD."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(
            "destroyed_on: the day of the destruction as YYYY-MM-DD", field="destroyed_on"
        ) from None


@dataclass(frozen=True)
class DisposalRecord:
    """How a device left for good: destroyed (with its method, site, day, evidence and
    witness) or returned to its manufacturer (with the RMA reference)."""

    job_id: str
    device_id: str
    kind: str  # DESTROY or RETURN
    reference: str  # the RMA for a return; the destruction's own reference otherwise
    recorded_by: str
    recorded_at: datetime
    role: str | None = None  # the position the recorder acted in
    manufacturer: str | None = None
    model: str | None = None
    device_type: int | None = None
    asset_owner: str | None = None
    method: DestructionMethod | None = None  # as it stood when the device was destroyed
    site: str | None = None
    contact: str | None = None
    destroyed_on: date | None = None
    evidence: tuple[EvidenceFile, ...] = ()
    witness_id: str | None = None
    witness_statement: str | None = None
    witnessed_at: datetime | None = None

    @property
    def witnessed(self) -> bool:
        return self.witness_id is not None


def device_facts(
    manufacturer: str | None, model: str | None, device_type: int | None, asset_owner: str | None
) -> dict[str, Any]:
    """What a disposal entry records of the device itself (its make, model, type and owner:
    the certificate's manufacturer, model, media type and media source)."""
    return {
        "manufacturer": manufacturer,
        "model": model,
        "device_type": device_type,
        "asset_owner": asset_owner,
    }


def destruction_data(
    destruction: Destruction, method: DestructionMethod | None, role: str
) -> dict[str, Any]:
    """What ``device.destroyed`` records besides the job, its state, the reference and the
    device: the method as it stands (refused unless active), site, contact, day, evidence and the
    position of the person who recorded it."""
    if method is None or not method.active:
        raise InvalidInput(
            f"method: {destruction.method!r} is not an active destruction method "
            "(see triage disposal methods)",
            field="method",
        )
    return {
        "method": method.as_data(),
        "site": destruction.site,
        "contact": destruction.contact,
        "destroyed_on": destruction.destroyed_on.isoformat(),
        "evidence": [f.as_data() for f in destruction.evidence],
        "role": role,
    }
