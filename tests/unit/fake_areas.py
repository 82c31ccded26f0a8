"""Imports every area's fake repository, so each registers itself with ``fakes.area``."""

from tests.unit import (  # noqa: F401
    fake_assessments,
    fake_assurance,
    fake_consignments,
    fake_credentials,
    fake_devices,
    fake_exceptions,
    fake_facilities,
    fake_jobs,
    fake_operators,
    fake_policies,
    fake_seals,
    fake_security,
    fake_security_logs,
    fake_tokens,
    fake_tools,
    fake_work_orders,
)
