"""Use cases: each runs in one unit of work and records what it changes in the ledger."""
