"""`triage witness follow URL`: the auditor's continuous check of a facility's log (the command
function; `triage.entrypoints.cli.witness` adds it to the witness group)."""

from __future__ import annotations
