"""Imports every area's fake repository, so each registers itself with ``fakes.area``."""

from tests.unit import (  # noqa: F401
    fake_assessments,
    fake_assurance,
    fake_credentials,
    fake_facilities,
    fake_seals,
    fake_security,
    fake_triage,
)
