"""What the use cases need of the data files that ship with the system (``uow_factory.packaged``
and ``uow.packaged``): read by ``triage.adapters.packaged_data``, handed over parsed."""

from __future__ import annotations

from typing import Protocol

from triage.domain.assessment import Rules
from triage.domain.catalogue import Catalogue
from triage.domain.reset_profile import ResetProfiles
from triage.domain.tamper_policy import TamperPolicy


class PackagedData(Protocol):
    """Data files that ship with the system."""

    def common_passwords(self) -> frozenset[str]:
        """The list of common passwords no one may choose, lower-case."""
        ...

    def tamper_policy(self) -> TamperPolicy:
        """The default tamper policy, activated the first time a policy is needed."""
        ...

    def reset_profiles(self) -> ResetProfiles:
        """The reset profiles a work order names and a reset is checked against."""
        ...

    def assessment_rules(self) -> Rules:
        """The rules choosing which security assessment is due next."""
        ...

    def catalogue(self) -> Catalogue:
        """The control catalogue shipped with this version of the package."""
        ...

    def catalogue_text(self) -> str:
        """The YAML of that catalogue, as recorded when it is adopted."""
        ...
