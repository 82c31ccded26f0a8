"""Issue 20 (B): projections of DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4)."""

from __future__ import annotations
