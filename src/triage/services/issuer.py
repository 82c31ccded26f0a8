"""The facility that issues receipts, certificates and packs, with the keys it signs and
verifies them with (loaded by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.domain.facility import Facility


@dataclass(frozen=True)
class Issuer:
    """A facility and its keys."""

    facility: Facility
    signer_key: str = field(repr=False)
    verifier_key: str

    @property
    def origin(self) -> str:
        """The facility log's origin: the first line of its checkpoints and its key's name."""
        return self.facility.log_origin
