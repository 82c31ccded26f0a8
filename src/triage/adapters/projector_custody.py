"""Projection handlers: Device custody: locations, moves, device stocktakes and idle devices
(issue 19 item 5)."""

from __future__ import annotations
