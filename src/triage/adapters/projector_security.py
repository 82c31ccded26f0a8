"""Projection handlers for anomaly thresholds, counted activity, alerts and suspensions."""

from __future__ import annotations
