"""A ledger writer process for the crash and concurrency tests.

Appends ``--count`` entries, each in its own committed transaction, and prints ``acked N``
after each commit returns: an acknowledged index is one the caller was told is durable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from triage.adapters.database import Database
from triage.adapters.unit_of_work import SqlUnitOfWorkFactory
from triage.ledger.entry import Entry, Ref


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--facility", default="demo")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--tag", default="w")
    args = parser.parse_args()
    uow = SqlUnitOfWorkFactory(Database(args.url), args.facility)
    for n in range(args.count):
        entry = Entry(
            type="test.appended",
            at=datetime.now(UTC),
            actor=Ref("system", f"writer-{args.tag}"),
            facility=args.facility,
            subject=Ref("test", f"{args.tag}-{n}"),
            data={"writer": args.tag, "n": n},
        )
        with uow(write=True) as unit:
            index = unit.ledger.record([entry])
            unit.commit()
        sys.stdout.write(f"acked {index} {args.tag}-{n}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
