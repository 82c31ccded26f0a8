"""Errors raised by the ledger library."""


class VerificationError(Exception):
    """Something did not verify: a proof, a signature, a checkpoint or a stored record.

    The message says what failed and, where it can, where (index, size, key name).
    """


class LedgerStateError(Exception):
    """The ledger cannot do what was asked in its state (for example a size beyond the log)."""
