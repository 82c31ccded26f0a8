"""device-triage: the system a GB smart-meter Triage Facility runs."""

__version__ = "0.1.0"
