"""Several processes appending at once: every index exactly once, and the root adds up."""

from __future__ import annotations

import subprocess
import sys
import threading

from sqlalchemy import func, select

from triage import bootstrap
from triage.adapters.tables import tamper_policy
from triage.ledger import rfc6962
from triage.services import ledger as ledger_service
from triage.services.tamper_policy import ensure_policy

WRITERS = 4
PER_WRITER = 60


def test_concurrent_writers_get_distinct_gapless_indexes(app: bootstrap.App) -> None:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.ledger_writer",
                "--url",
                app.settings.database_url,
                "--count",
                str(PER_WRITER),
                "--tag",
                f"w{w}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    acked: dict[int, str] = {}
    for proc in procs:
        out, errors = proc.communicate(timeout=300)
        assert proc.returncode == 0, errors
        for line in out.splitlines():
            _, number, name = line.split()
            assert int(number) not in acked, f"index {number} handed out twice"
            acked[int(number)] = name
    total = 1 + WRITERS * PER_WRITER  # the facility.created entry comes first
    assert sorted(acked) == list(range(1, total))
    with app.uow(write=False) as uow:
        stored = [row for batch in uow.ledger.storage.read_entries(0, 10**9) for row in batch]
    assert [index for index, _ in stored] == list(range(total))
    for index, data in stored[1:]:
        assert acked[index].encode() in data, f"entry {index} is not the one its writer was told"
    status = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR)
    assert status.size == total
    assert status.root == rfc6962.root_hash([rfc6962.leaf_hash(d) for _, d in stored])
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok


def test_two_first_inspections_at_once_activate_one_policy(app: bootstrap.App) -> None:
    """The first inspection activates the packaged tamper policy; a second one arriving while
    the first is still open must wait and use it, not activate it again (on PostgreSQL that
    was a unique-key error, a 500, under load)."""
    outcome: list[object] = []

    def second() -> None:
        try:
            with app.uow(write=True) as uow:
                outcome.append(ensure_policy(uow).hash)
                uow.commit()
        except Exception as exc:  # the assertion below shows it
            outcome.append(exc)

    with app.uow(write=True) as uow:
        first = ensure_policy(uow)
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive(), "the second activation did not wait for the first"
        uow.commit()
    waiting.join(timeout=30)
    assert outcome == [first.hash]
    with app.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tamper_policy)).scalar() == 1
