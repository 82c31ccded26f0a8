"""A transparency-log witness (C2SP tlog-witness) and a log monitor, run apart from the facility.

An asset owner, a provider's head office or an assessor runs ``triage witness serve`` with its
own key (``triage witness keygen``): it cosigns a facility's checkpoints only when each is
consistent with the last one it saw. ``triage witness follow`` is the auditor's continuous
check: it follows a facility's log through the tile read API and reports a fork or a rollback.
"""
