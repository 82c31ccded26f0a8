"""Projection handlers: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7)."""

from __future__ import annotations
