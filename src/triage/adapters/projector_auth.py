"""Projection handlers for authentication entries (``auth.*``): locks, MFA state, last login."""

from __future__ import annotations
