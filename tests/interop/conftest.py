"""The interop tests copy the facilities they set up, as the end-to-end tests do
(tests/e2e/conftest.py, Templates)."""

from tests.e2e.conftest import facility_templates

__all__ = ["facility_templates"]
