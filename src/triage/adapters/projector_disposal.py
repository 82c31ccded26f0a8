"""Projection handlers: Destruction and return evidence and certificates of destruction
(issue 19 item 4)."""

from __future__ import annotations
