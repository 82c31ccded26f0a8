"""Projection handlers: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2)."""

from __future__ import annotations
