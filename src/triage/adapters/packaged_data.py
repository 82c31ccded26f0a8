"""The data files that ship inside the package, read and handed to the domain (which reads no
files). Each is read and parsed once per process: the files do not change while it runs. The
domain modules that parse them are imported when a file is first read, so that a command that
reads none of them does not load them."""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage.domain.assessment import Rules
    from triage.domain.catalogue import Catalogue
    from triage.domain.duis_rules import DuisRules
    from triage.domain.incident import IncidentRules
    from triage.domain.reset_profile import ResetProfiles
    from triage.domain.tamper_policy import TamperPolicy

CATALOGUE_FILE = "controls/sec-triage.yaml"
TAMPER_POLICY_FILE = "policies/tamper-default.yaml"
RESET_PROFILES_FILE = "profiles/reset-profiles.yaml"
ASSESSMENT_RULES_FILE = "controls/assessment-rules.yaml"
COMMON_PASSWORDS_FILE = "data/common-passwords.txt"
DUIS_RULES_FILE = "policies/duis-requests-default.yaml"
INCIDENT_RULES_FILE = "policies/incident-rules.yaml"


class PackagedFiles:
    """Reads the data files under ``triage/domain`` (see data/common-passwords.README.md)."""

    def common_passwords(self) -> frozenset[str]:
        """The bundled list of common passwords, lower-case."""
        return _common_passwords()

    def tamper_policy(self) -> TamperPolicy:
        """The default tamper policy, activated the first time a policy is needed."""
        return _tamper_policy()

    def reset_profiles(self) -> ResetProfiles:
        """The reset profiles a work order names and a reset is checked against."""
        return _reset_profiles()

    def assessment_rules(self) -> Rules:
        """The rules choosing which security assessment is due next."""
        return _assessment_rules()

    def catalogue(self) -> Catalogue:
        """The control catalogue shipped with this version of the package."""
        return _catalogue()

    def catalogue_text(self) -> str:
        """The YAML of that catalogue, as recorded when it is adopted."""
        return _text(CATALOGUE_FILE)

    def duis_rules(self) -> DuisRules:
        """The default rules saying which DUIS requests a triage outcome calls for."""
        return _duis_rules()

    def incident_rules(self) -> IncidentRules:
        """The default incident notification rules (a facility may record its own)."""
        return _incident_rules()


def _path(name: str) -> Traversable:
    return resources.files("triage.domain").joinpath(*name.split("/"))


@functools.cache
def _text(name: str) -> str:
    return _path(name).read_text(encoding="utf-8")


@functools.cache
def _common_passwords() -> frozenset[str]:
    from triage.domain.credentials import parse_common_passwords

    return parse_common_passwords(_path(COMMON_PASSWORDS_FILE).read_text())


@functools.cache
def _tamper_policy() -> TamperPolicy:
    from triage.domain.tamper_policy import TamperPolicy

    return TamperPolicy.load(_path(TAMPER_POLICY_FILE).read_bytes())


@functools.cache
def _reset_profiles() -> ResetProfiles:
    from triage.domain.reset_profile import ResetProfiles

    return ResetProfiles.load(_path(RESET_PROFILES_FILE).read_bytes())


@functools.cache
def _assessment_rules() -> Rules:
    from triage.domain.assessment import parse_rules

    return parse_rules(_text(ASSESSMENT_RULES_FILE))


@functools.cache
def _catalogue() -> Catalogue:
    from triage.domain.catalogue import parse_catalogue

    return parse_catalogue(_text(CATALOGUE_FILE))


@functools.cache
def _incident_rules() -> IncidentRules:
    from triage.domain.incident import IncidentRules

    return IncidentRules.load(_path(INCIDENT_RULES_FILE).read_bytes())


@functools.cache
def _duis_rules() -> DuisRules:
    from triage.domain.duis_rules import DuisRules

    return DuisRules.load(_text(DUIS_RULES_FILE))
