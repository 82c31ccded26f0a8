"""Seeding for the seal-register tests: staff who hold seals, batches in stock, seals issued
and fitted."""

from __future__ import annotations

from datetime import datetime

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.domain.seal_register import SealBatch
from triage.domain.seals import Seal
from triage.ledger.entry import Ref
from triage.services import seals
from triage.services.common import make_entry

STORE = "STORE-A"
STORES = callers.stores()
DEVICE = "BC-33-AC-FF-FE-FA-55-3D"


def staff(
    factory: FakeUnitOfWorkFactory,
    operator_id: str = "op",
    *roles: Role,
    bench: str | None = "BENCH-1",
) -> Caller:
    """An operator registered by an administrator (default: a bench operator), and the caller
    they are when signed in at ``bench``."""
    registered = people_seed.add_operator(factory, operator_id, *roles)
    return callers.person(operator_id, *registered.roles, bench=bench)


def receive(
    factory: FakeUnitOfWorkFactory,
    first: str = "SL-000100",
    last: str = "SL-000104",
    store: str = STORE,
) -> SealBatch:
    """A batch of the range ``first`` to ``last`` received into ``store`` by stores."""
    return seals.receive_batch(
        factory,
        STORES,
        supplier="Acme Seals Ltd",
        delivery_reference="DN-0001",
        iso_class="I",
        class_description=None,
        store=store,
        first=first,
        last=last,
    )


def issue(factory: FakeUnitOfWorkFactory, operator_id: str, *serials: str) -> list[Seal]:
    return seals.issue(factory, STORES, operator_id, serials=list(serials))


def fit(
    factory: FakeUnitOfWorkFactory,
    holder: Caller,
    serial: str,
    job_id: str = "job-1",
    device_id: str = DEVICE,
    at: datetime | None = None,
) -> None:
    """Record ``holder`` fitting ``serial`` to a device, as the bench step ``seal`` records it
    (the entry is built here: the job it belongs to is not in the fake's workflow tables)."""
    with factory(write=True) as uow:
        entry = make_entry(
            uow,
            holder,
            "seal.fitted",
            Ref("device", device_id),
            {"job_id": job_id, "state": "sealed", "serial": serial, "bench": holder.bench},
            at,
        )
        uow.ledger.record([entry])
        uow.commit()
