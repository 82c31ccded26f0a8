"""Projection handlers: Asset owners as parties and their people's owner-scoped reads
(issue 19 item 1)."""

from __future__ import annotations
