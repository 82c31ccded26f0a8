"""A facility-like log for the witness's tests: its own key, entries in memory, and signed
checkpoints, consistency proofs and add-checkpoint requests at any size."""

from __future__ import annotations

from collections.abc import Sequence

from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, sign_checkpoint
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.witness_protocol import AddCheckpoint, format_add_checkpoint


class SignedLog:
    """One log: ``grow`` it, then ask for what its operator would send a witness."""

    def __init__(self, origin: str = "facility.example/log", signer: str | None = None) -> None:
        self.origin = origin
        self.signer = signer if signer is not None else note.generate_key(origin)[0]
        self.vkey = note.verifier_key_from_signer(self.signer)
        self.log = Log(MemoryLogStorage())

    @property
    def size(self) -> int:
        return self.log.head().size

    def grow(self, count: int, tag: str = "entry") -> SignedLog:
        """Append ``count`` entries; entries of another ``tag`` make another history."""
        start = self.size
        self.log.append([f"{tag} {start + i}".encode() for i in range(count)])
        return self

    def root(self, size: int | None = None) -> bytes:
        return self.log.root_at(self.size if size is None else size)

    def checkpoint(self, size: int | None = None, signer: str | None = None) -> str:
        """The checkpoint of the first ``size`` entries (default: all), signed by the log."""
        size = self.size if size is None else size
        body = Checkpoint(self.origin, size, self.root(size))
        return sign_checkpoint(body, signer or self.signer)

    def proof(self, old: int, size: int | None = None) -> tuple[bytes, ...]:
        """The consistency proof the protocol sends from ``old`` to ``size`` (none from 0 or
        between equal sizes)."""
        size = self.size if size is None else size
        if old in (0, size):
            return ()
        return tuple(self.log.consistency_proof(old, size))

    def request(
        self,
        old: int,
        size: int | None = None,
        proof: Sequence[bytes] | None = None,
        checkpoint: str | None = None,
    ) -> bytes:
        """An add-checkpoint body from ``old`` to ``size`` (default: all) with the right proof
        unless another is given."""
        size = self.size if size is None else size
        return format_add_checkpoint(
            AddCheckpoint(
                old_size=old,
                proof=tuple(self.proof(old, size) if proof is None else proof),
                checkpoint=checkpoint if checkpoint is not None else self.checkpoint(size),
            )
        )
