"""The pure model and rules of a triage facility: no I/O, no SQL, no HTTP."""
