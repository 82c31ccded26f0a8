"""The database tables (SQLAlchemy Core); migrations in ``adapters/migrations`` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

facility = Table(
    "facility",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("log_origin", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per log: the size and root after the last append. Its row lock serialises appends.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("log_id", String(64), ForeignKey("facility.id"), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
)

ledger_entry = Table(
    "ledger_entry",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

# C2SP tlog-tiles: up to 256 hashes of height 8*level; partial tiles grow in place.
ledger_tile = Table(
    "ledger_tile",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

ledger_checkpoint = Table(
    "ledger_checkpoint",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

# Derived from the entries (rebuildable): which entries concern which subject.
ledger_subject = Table(
    "ledger_subject",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_type", String(80), nullable=False),
    Column("subject_kind", String(40), nullable=False),
    Column("subject_id", String(120), nullable=False),
    Index("ix_ledger_subject_subject", "log_id", "subject_kind", "subject_id", "idx"),
)
