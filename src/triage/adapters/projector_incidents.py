"""Issue 20 (D): projections of the incident and vulnerability register."""

from __future__ import annotations
