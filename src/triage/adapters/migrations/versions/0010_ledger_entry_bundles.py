"""Entries of full level-0 tiles stored 256 to a row (entry bundles).

A row per entry made a bulk append spend most of its time inserting rows, and verification most
of its reading them. From here on, the entries of each full tile are one ``ledger_bundle`` row;
only the last, partial tile's entries are ``ledger_entry`` rows. This revision moves the
entries of every full tile already stored into bundles (a tile whose entries are not all there,
in a damaged ledger, stays as rows, for `triage ledger verify` to report).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 00:30:00
"""

from __future__ import annotations

import struct

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The bundle format as this revision wrote it, frozen here (not imported from
# ``triage.ledger.bundle``) so that a later change to the library cannot change what this
# migration does: 256 entries, their end offsets as big-endian uint32, then their bytes.
BUNDLE_SIZE = 256
_OFFSETS = struct.Struct(f">{BUNDLE_SIZE}I")


def pack_bundle(entries: list[bytes]) -> bytes:
    """The stored form of exactly ``BUNDLE_SIZE`` entries."""
    ends: list[int] = []
    end = 0
    for data in entries:
        end += len(data)
        ends.append(end)
    return _OFFSETS.pack(*ends) + b"".join(entries)


def unpack_bundle(data: bytes) -> list[bytes]:
    """The entries of a stored bundle."""
    ends = _OFFSETS.unpack_from(data)
    payload = data[_OFFSETS.size :]
    starts = (0, *ends[:-1])
    return [payload[start:end] for start, end in zip(starts, ends, strict=True)]


_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_entry = sa.table(
    "ledger_entry",
    sa.column("idx", _INDEX),
    sa.column("log_id", sa.String),
    sa.column("data", sa.LargeBinary),
)
_bundle = sa.table(
    "ledger_bundle",
    sa.column("idx", _INDEX),
    sa.column("log_id", sa.String),
    sa.column("data", sa.LargeBinary),
)


def upgrade() -> None:
    op.create_table(
        "ledger_bundle",
        sa.Column("idx", _INDEX, nullable=False, autoincrement=False),
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_ledger_bundle"),
    )
    conn = op.get_bind()
    top = conn.execute(sa.select(sa.func.max(_entry.c.idx))).scalar()
    for tile in range(0, (-1 if top is None else int(top) + 1) // BUNDLE_SIZE):
        lo, hi = tile * BUNDLE_SIZE, (tile + 1) * BUNDLE_SIZE
        rows = conn.execute(
            sa.select(_entry.c.idx, _entry.c.log_id, _entry.c.data)
            .where(_entry.c.idx >= lo, _entry.c.idx < hi)
            .order_by(_entry.c.idx)
        ).all()
        if [int(r.idx) for r in rows] != list(range(lo, hi)):
            continue
        packed = pack_bundle([bytes(r.data) for r in rows])
        conn.execute(sa.insert(_bundle).values(idx=tile, log_id=rows[0].log_id, data=packed))
        conn.execute(sa.delete(_entry).where(_entry.c.idx >= lo, _entry.c.idx < hi))


def downgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_bundle).order_by(_bundle.c.idx)).all():
        first = int(row.idx) * BUNDLE_SIZE
        conn.execute(
            sa.insert(_entry),
            [
                {"idx": first + n, "log_id": row.log_id, "data": data}
                for n, data in enumerate(unpack_bundle(bytes(row.data)))
            ],
        )
    op.drop_table("ledger_bundle")
