"""A consignment's outcome report: the signed document's kind and what can become of a device."""

from __future__ import annotations

# The kind of signed document (triage.domain.signed_document) an outcome report is.
KIND = "consignment-outcome"

# What became of each device the consignment expected, in the order a report counts them.
OUTCOMES = ("released", "quarantined", "destroyed", "returned", "unfinished", "not_arrived")
