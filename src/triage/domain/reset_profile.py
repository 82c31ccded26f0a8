"""Reset profiles: what a factory reset clears and keeps on each device type, and the check of it.

The profiles are versioned data (``profiles/reset-profiles.yaml``), not code, because the
Use Case 004 text was not public and a facility may need to change the list. After a reset the
tool reports a SHA-256 digest of every item's content before and after; :func:`check_reset` is
the verification the server runs on those digests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage.domain.bounded import InputLimitError, load_yaml
from triage.domain.device import DeviceType, FieldError

EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()
"""The digest of an item with no content: what every cleared item must read back as."""

_ITEM_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SET_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_TOP_KEYS = ("id", "version", "profiles")
_PROFILE_KEYS = ("clear", "keep")
_MAX_FILE_BYTES = 256 * 1024


class ResetProfileError(FieldError):
    """A reset profile file is malformed; ``field`` names the place, e.g. ``profiles.ESME.keep``."""


@dataclass(frozen=True)
class ResetProfile:
    """What a factory reset clears and keeps on one device type."""

    id: str
    version: str
    device_type: DeviceType
    clear: tuple[str, ...]
    keep: tuple[str, ...]

    @property
    def items(self) -> tuple[str, ...]:
        """Every item the tool must read back: the cleared ones, then the kept ones."""
        return self.clear + self.keep


class ResetProfiles:
    """One version of the reset profiles, with a profile for every device type."""

    def __init__(
        self, set_id: str, version: str, file_hash: str, profiles: Mapping[DeviceType, ResetProfile]
    ) -> None:
        self._id = set_id
        self._version = version
        self._hash = file_hash
        self._profiles = dict(profiles)

    @property
    def id(self) -> str:
        """The name of this set of profiles, e.g. ``gb-factory-reset``."""
        return self._id

    @property
    def version(self) -> str:
        """The version the file declares."""
        return self._version

    @property
    def hash(self) -> str:
        """Hex SHA-256 of the file the profiles were loaded from, for the ledger."""
        return self._hash

    def for_type(self, device_type: DeviceType) -> ResetProfile:
        """The profile for one device type."""
        return self._profiles[device_type]

    @classmethod
    def load(cls, data: bytes) -> ResetProfiles:
        """Parse and validate a profile file; ResetProfileError names the type and item at fault."""
        try:
            document = load_yaml(data, "reset profiles", max_bytes=_MAX_FILE_BYTES)
        except InputLimitError as exc:
            raise ResetProfileError("file", f"is {exc.problem}") from None
        top = _mapping(document, "file", _TOP_KEYS)
        set_id = top.get("id")
        if not isinstance(set_id, str) or not _SET_ID.fullmatch(set_id):
            raise ResetProfileError(
                "id", "must be a name of lower-case letters, digits, '.', '_' or '-'"
            )
        version = top.get("version")
        if not isinstance(version, str) or not version.strip():
            raise ResetProfileError("version", 'must be a non-empty quoted string, e.g. "2025.1"')
        by_name = _mapping(top.get("profiles"), "profiles", tuple(DeviceType.__members__))
        profiles: dict[DeviceType, ResetProfile] = {}
        for device_type in DeviceType:
            if device_type.name not in by_name:
                raise ResetProfileError(
                    "profiles", f"has no profile for device type {device_type.name}"
                )
            profiles[device_type] = _profile(
                by_name[device_type.name], set_id, version, device_type
            )
        return cls(set_id, version, hashlib.sha256(data).hexdigest(), profiles)


def _mapping(value: object, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """A YAML mapping whose keys are all among ``allowed``."""
    if not isinstance(value, dict):
        raise ResetProfileError(field, "must be a mapping")
    for key in value:
        if key not in allowed:
            raise ResetProfileError(
                field, f"has unknown key {key!r}; expected one of {', '.join(allowed)}"
            )
    return value


def _profile(value: object, set_id: str, version: str, device_type: DeviceType) -> ResetProfile:
    where = f"profiles.{device_type.name}"
    body = _mapping(value, where, _PROFILE_KEYS)
    lists: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for key in _PROFILE_KEYS:
        field = f"{where}.{key}"
        items = body.get(key)
        if not isinstance(items, list):
            raise ResetProfileError(field, "must be a list of item names (it may be empty: [])")
        for index, item in enumerate(items):
            if not isinstance(item, str) or not _ITEM_NAME.fullmatch(item):
                raise ResetProfileError(
                    f"{field}[{index}]",
                    f"{item!r} is not an item name: use lower_snake_case starting with a letter",
                )
            if item in seen:
                problem = (
                    f"{item} is listed twice"
                    if seen[item] == key
                    else f"{item} is both cleared and kept"
                )
                raise ResetProfileError(f"{field}[{index}]", problem)
            seen[item] = key
        lists[key] = tuple(items)
    if device_type.security_critical and not lists["clear"]:
        raise ResetProfileError(
            f"{where}.clear",
            f"is empty, but a {device_type.name} holds security credentials that a reset "
            "must clear",
        )
    return ResetProfile(
        id=f"{set_id}/{device_type.name.lower()}",
        version=version,
        device_type=device_type,
        clear=lists["clear"],
        keep=lists["keep"],
    )


def check_reset(
    profile: ResetProfile, before: Mapping[str, str], after: Mapping[str, str]
) -> list[str]:
    """Every way the digests read back fail the profile; empty when the reset is verified.

    Items reported but not in the profile are ignored; an item of the profile that is not
    reported is a failure, since an unread item cannot be shown to be cleared or kept.
    """
    failures: list[str] = []
    for item in profile.items:
        missing = [
            name for name, digests in (("before", before), ("after", after)) if item not in digests
        ]
        if missing:
            failures.append(f"{item} missing from the read-back {' and '.join(missing)} the reset")
        elif item in profile.clear:
            if after[item] != EMPTY_DIGEST:
                failures.append(f"{item} not cleared")
        elif after[item] == EMPTY_DIGEST:
            failures.append(f"{item} empty after the reset, but it must be kept")
        elif after[item] != before[item]:
            failures.append(f"{item} changed")
    return failures
