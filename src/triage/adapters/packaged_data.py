"""The data files that ship inside the package, read for the domain (which reads no files)."""

from __future__ import annotations

import functools
from importlib import resources

from triage.domain.credentials import parse_common_passwords


class PackagedFiles:
    """Reads ``triage/domain/data`` (see data/common-passwords.README.md)."""

    def common_passwords(self) -> frozenset[str]:
        """The bundled list of common passwords, lower-case."""
        return _common_passwords()


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("triage.domain").joinpath("data/common-passwords.txt").read_text()
    return parse_common_passwords(text)
