"""``python -m triage.entrypoints.cli``."""

from triage.entrypoints.cli import main

main()
