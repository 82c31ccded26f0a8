"""Issue 20 (C): projections of communications hubs back to the DCC."""

from __future__ import annotations
