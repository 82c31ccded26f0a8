"""Keys and a growing ledger for the ledger, history and backup use-case tests."""

from __future__ import annotations

from tests.unit.fakes import FakeCheckpointKeeper, FakeUnitOfWorkFactory
from tests.unit.services.callers import security_manager
from tests.unit.services.security_seed import ORIGIN
from triage.ledger import note
from triage.ledger.entry import Entry
from triage.services import anomaly

# One facility key for the module's tests (Ed25519: generating it is cheap).
SIGNER, VERIFIER = note.generate_key(ORIGIN)


def kept_factory() -> FakeUnitOfWorkFactory:
    """A fake factory that keeps its checkpoint outside the database, as an installation does."""
    return FakeUnitOfWorkFactory(keeper=FakeCheckpointKeeper())


def grow(factory: FakeUnitOfWorkFactory, count: int) -> None:
    """Append ``count`` entries through a use case (a facility threshold set ``count`` times)."""
    start = len(factory.entries())
    for n in range(count):
        anomaly.set_threshold(
            factory, security_manager(), "facility", None, "resets", start + n + 1, 60
        )


def tamper(factory: FakeUnitOfWorkFactory, index: int) -> None:
    """Change entry ``index`` in the committed store behind the log's back."""
    storage = factory.database.storage
    entry = Entry.from_bytes(storage.entries[index])
    changed = Entry(
        type=entry.type,
        at=entry.at,
        actor=entry.actor,
        facility=entry.facility,
        subject=entry.subject,
        data={**entry.data, "max_count": 99_999},
    )
    storage.entries[index] = changed.to_bytes()
