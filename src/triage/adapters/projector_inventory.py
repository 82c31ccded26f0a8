"""Issue 20 (A): projections of Smart Metering Inventory readings (DUIS 8.2 in)."""

from __future__ import annotations
