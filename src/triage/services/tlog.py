"""The ledger's C2SP tlog-tiles read API: what a monitor, a witness or Go's tlog package reads."""

from __future__ import annotations
