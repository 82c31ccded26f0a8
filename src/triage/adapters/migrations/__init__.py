"""Alembic migrations of the triage database (SQLite and PostgreSQL alike)."""
