"""C2SP tlog-policy (https://c2sp.org/tlog-policy): which logs and witnesses a verifier trusts,
and the quorum of witness cosignatures a checkpoint needs before it is believed.

A policy is text, one statement a line, fields separated by spaces and tabs::

    # comment
    log <vkey> [<url>]                      the log's key (type 0x01); its name is the origin
    witness <name> <vkey> [<url>]           a witness's cosigner key (type 0x04)
    group <name> all|any|<k> <name>...      k of these witnesses or groups (defined above)
    quorum <name>|none                      exactly once

:func:`parse_policy` is strict and raises :class:`PolicyError` naming the line; a checkpoint
is then checked with :func:`verify_checkpoint` (log signature, every cosignature by a known
witness, quorum) or, by a log reporting on its own checkpoint, :func:`check_quorum`.

Two readings the spec leaves open, taken the strict way: a name may be listed as a group member
at most once in the whole policy (so that a witness counts towards the quorum along one path
only), and a witness may not hold the key of a log (a log does not witness itself). The text is
UTF-8 (names are compared as exact strings) and a final newline may be missing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, open_checkpoint
from triage.ledger.cosignature import (
    Cosignature,
    Cosigner,
    parse_cosigner_key,
    verify_cosignatures,
)
from triage.ledger.errors import VerificationError

__all__ = [
    "MAX_GROUPS",
    "MAX_LOGS",
    "MAX_POLICY_BYTES",
    "MAX_WITNESSES",
    "NONE",
    "GroupSpec",
    "LogSpec",
    "Policy",
    "PolicyError",
    "WitnessSpec",
    "WitnessedCheckpoint",
    "check_quorum",
    "parse_policy",
    "verify_checkpoint",
]

MAX_LOGS = 64
MAX_WITNESSES = 64
MAX_GROUPS = 64
"""Limits on a policy's size (the spec asks that at least 32 of each be supported)."""

MAX_POLICY_BYTES = 64 * 1024
"""A policy text longer than this (in UTF-8) is refused before it is parsed."""

NONE = "none"
"""The predefined name of the empty quorum: no cosignature needed."""

_FIELDS = re.compile(r"[ \t]+")
_THRESHOLD = re.compile(r"[0-9]+")


class PolicyError(ValueError):
    """A policy that cannot be used: the message names the line number and what is wrong."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"policy line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class LogSpec:
    """A log the policy trusts: its verifier key, the origin (the key's name), an optional URL."""

    vkey: str
    origin: str
    url: str | None


@dataclass(frozen=True)
class WitnessSpec:
    """A witness: its name in the policy, its cosigner key (parsed too) and an optional URL."""

    name: str
    vkey: str
    cosigner: Cosigner
    url: str | None


@dataclass(frozen=True)
class GroupSpec:
    """A group: witnessed when at least ``threshold`` of its members (witnesses or groups) are."""

    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A parsed policy: its text, logs, witnesses, groups and the name of its quorum."""

    text: str
    logs: tuple[LogSpec, ...]
    witnesses: tuple[WitnessSpec, ...]
    quorum: str
    groups: tuple[GroupSpec, ...] = ()
    _groups: dict[str, GroupSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_groups", {group.name: group for group in self.groups})

    def log_vkeys(self) -> list[str]:
        """The verifier keys of the logs."""
        return [log.vkey for log in self.logs]

    def witness_vkeys(self) -> list[str]:
        """The cosigner keys of the witnesses."""
        return [witness.vkey for witness in self.witnesses]

    def witness(self, name: str) -> WitnessSpec:
        """The witness called ``name``; KeyError if there is none."""
        for witness in self.witnesses:
            if witness.name == name:
                return witness
        raise KeyError(f"the policy has no witness {name!r}")

    def satisfied(self, cosigned: Collection[str]) -> bool:
        """Whether the witnesses named ``cosigned`` (policy names) make the quorum."""
        return self.quorum == NONE or self._witnessed(self.quorum, frozenset(cosigned))

    def explain(self, cosigned: Collection[str]) -> str:
        """The quorum's rule, who cosigned and whether that is enough, in one line, e.g.
        ``quorum g: 2 of (w1, w2, w3); cosigned by w1: not met``."""
        if self.quorum == NONE:
            return "quorum none: no cosignature needed"
        present = frozenset(cosigned)
        names = [w.name for w in self.witnesses if w.name in present]
        by = ", ".join(names) if names else "no witness of the policy"
        met = "met" if self.satisfied(present) else "not met"
        return f"quorum {self._rule(self.quorum)}; cosigned by {by}: {met}"

    def _witnessed(self, name: str, cosigned: frozenset[str]) -> bool:
        group = self._groups.get(name)
        if group is None:
            return name in cosigned
        count = sum(1 for member in group.members if self._witnessed(member, cosigned))
        return count >= group.threshold

    def _rule(self, name: str) -> str:
        group = self._groups.get(name)
        if group is None:
            return name
        members = ", ".join(self._rule(member) for member in group.members)
        return f"{name}: {group.threshold} of ({members})"


def parse_policy(text: str) -> Policy:
    """Parse a tlog-policy text strictly; PolicyError naming the first line that is wrong."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise PolicyError("the policy is not valid UTF-8 text") from None
    if size > MAX_POLICY_BYTES:
        raise PolicyError(f"the policy is larger than {MAX_POLICY_BYTES // 1024} KiB")
    parser = _Parser()
    for number, line in enumerate(text.split("\n"), start=1):
        parser.line(number, line)
    if parser.quorum is None:
        raise PolicyError("the policy has no quorum line (write 'quorum none' for none)")
    return Policy(
        text=text,
        logs=tuple(parser.logs),
        witnesses=tuple(parser.witnesses),
        quorum=parser.quorum,
        groups=tuple(parser.groups),
    )


class _Parser:
    """The state of a policy being read line by line."""

    def __init__(self) -> None:
        self.logs: list[LogSpec] = []
        self.witnesses: list[WitnessSpec] = []
        self.groups: list[GroupSpec] = []
        self.quorum: str | None = None
        self.names: dict[str, int] = {}  # witness and group names -> line defined
        self.members: dict[str, int] = {}  # names listed as a group member -> that line
        self.keys: dict[bytes, tuple[str, int]] = {}  # public key -> (what, line)

    def line(self, number: int, line: str) -> None:
        for index, char in enumerate(line):
            if (char < " " and char != "\t") or char == "\x7f":
                what = (
                    "a carriage return" if char == "\r" else f"control character U+{ord(char):04X}"
                )
                raise PolicyError(f"{what} at character {index + 1}", number)
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#"):
            return
        keyword, *args = _FIELDS.split(stripped)
        if keyword == "log":
            self._log(number, args)
        elif keyword == "witness":
            self._witness(number, args)
        elif keyword == "group":
            self._group(number, args)
        elif keyword == "quorum":
            self._quorum(number, args)
        else:
            raise PolicyError(
                f"unknown keyword {keyword!r} (want log, witness, group or quorum)", number
            )

    def _log(self, number: int, args: list[str]) -> None:
        if not 1 <= len(args) <= 2:
            raise PolicyError("a log line is 'log <vkey> [<url>]'", number)
        if len(self.logs) == MAX_LOGS:
            raise PolicyError(f"more than {MAX_LOGS} logs", number)
        try:
            verifier = note.parse_verifier_key(args[0])
        except VerificationError as exc:
            raise PolicyError(
                f"log key: {exc} (a log key is an Ed25519 type 0x01 vkey)", number
            ) from None
        self._new_key(number, verifier.public_key, f"the log {verifier.name}")
        self.logs.append(LogSpec(args[0], verifier.name, args[1] if len(args) == 2 else None))

    def _witness(self, number: int, args: list[str]) -> None:
        if not 2 <= len(args) <= 3:
            raise PolicyError("a witness line is 'witness <name> <vkey> [<url>]'", number)
        if len(self.witnesses) == MAX_WITNESSES:
            raise PolicyError(f"more than {MAX_WITNESSES} witnesses", number)
        name = args[0]
        self._new_name(number, name)
        try:
            cosigner = parse_cosigner_key(args[1])
        except VerificationError as exc:
            raise PolicyError(
                f"witness {name} key: {exc} (a witness key is a cosigner type 0x04 vkey)", number
            ) from None
        self._new_key(number, cosigner.public_key, f"the witness {name}")
        url = args[2] if len(args) == 3 else None
        self.witnesses.append(WitnessSpec(name, args[1], cosigner, url))
        self.names[name] = number

    def _group(self, number: int, args: list[str]) -> None:
        if len(args) < 3:
            raise PolicyError("a group line is 'group <name> all|any|<k> <name>...'", number)
        if len(self.groups) == MAX_GROUPS:
            raise PolicyError(f"more than {MAX_GROUPS} groups", number)
        name, rule, *members = args
        self._new_name(number, name)
        seen: set[str] = set()
        for member in members:
            if member == NONE:
                raise PolicyError(f"group {name}: 'none' cannot be a group member", number)
            if member not in self.names:
                raise PolicyError(
                    f"group {name}: member {member!r} is not a witness or group defined above",
                    number,
                )
            if member in seen:
                raise PolicyError(f"group {name}: member {member!r} is listed twice", number)
            if member in self.members:
                raise PolicyError(
                    f"group {name}: {member!r} is already a member of a group on line "
                    f"{self.members[member]} (a name may be a group member only once)",
                    number,
                )
            seen.add(member)
        threshold = self._threshold(number, name, rule, len(members))
        for member in members:
            self.members[member] = number
        self.groups.append(GroupSpec(name, threshold, tuple(members)))
        self.names[name] = number

    @staticmethod
    def _threshold(number: int, name: str, rule: str, n: int) -> int:
        if rule == "all":
            return n
        if rule == "any":
            return 1
        if _THRESHOLD.fullmatch(rule) is None:
            raise PolicyError(
                f"group {name}: threshold {rule!r} is not all, any or a decimal number", number
            )
        k = int(rule)
        if not 1 <= k <= n:
            raise PolicyError(
                f"group {name}: threshold {k} is not between 1 and its {n} member(s)", number
            )
        return k

    def _quorum(self, number: int, args: list[str]) -> None:
        if len(args) != 1:
            raise PolicyError("a quorum line is 'quorum <name>' (or 'quorum none')", number)
        if self.quorum is not None:
            raise PolicyError("a second quorum line (a policy has exactly one)", number)
        name = args[0]
        if name != NONE and name not in self.names:
            raise PolicyError(f"quorum {name!r} is not a witness or group defined above", number)
        self.quorum = name

    def _new_name(self, number: int, name: str) -> None:
        if name == NONE:
            raise PolicyError("the name 'none' is predefined (the empty quorum)", number)
        if name in self.names:
            raise PolicyError(
                f"the name {name!r} is already defined on line {self.names[name]}", number
            )

    def _new_key(self, number: int, public_key: bytes, what: str) -> None:
        if public_key in self.keys:
            other, line = self.keys[public_key]
            raise PolicyError(f"{what} has the same public key as {other} on line {line}", number)
        self.keys[public_key] = (what, number)


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """A checkpoint signed by a trusted log, with the valid cosignatures of policy witnesses."""

    checkpoint: Checkpoint
    cosignatures: tuple[tuple[str, Cosignature], ...]  # (policy witness name, cosignature)
    quorum_met: bool = True

    @property
    def witnesses(self) -> tuple[str, ...]:
        """The policy names of the witnesses that cosigned, in the policy's order."""
        return tuple(name for name, _ in self.cosignatures)


def verify_checkpoint(
    signed_note: str,
    policy: Policy,
    origin: str | None = None,
    log_vkeys: Sequence[str] | None = None,
) -> WitnessedCheckpoint:
    """Check a cosigned checkpoint against the policy: signed by one of its logs (or by one of
    ``log_vkeys`` when given), of ``origin`` when given, every cosignature by a policy witness
    valid, and the quorum met. VerificationError says what failed; below quorum, it says which
    witnesses cosigned and what the quorum needs."""
    witnessed = check_quorum(signed_note, policy, origin, log_vkeys)
    if not witnessed.quorum_met:
        raise VerificationError(
            f"the checkpoint of size {witnessed.checkpoint.size} is not cosigned by a quorum "
            f"of the policy's witnesses: {policy.explain(witnessed.witnesses)}"
        )
    return witnessed


def check_quorum(
    signed_note: str,
    policy: Policy,
    origin: str | None = None,
    log_vkeys: Sequence[str] | None = None,
) -> WitnessedCheckpoint:
    """Like :func:`verify_checkpoint`, but a missing quorum is reported in ``quorum_met``
    rather than raised (for a log's own view of its checkpoint). The log signature and every
    known cosignature are still checked."""
    checkpoint = _open(signed_note, policy, origin, log_vkeys)
    _, found = verify_cosignatures(signed_note, policy.witness_vkeys())
    by_key = {w.cosigner: w.name for w in policy.witnesses}
    names = {cosignature.cosigner: by_key[cosignature.cosigner] for cosignature in found}
    order = {w.name: position for position, w in enumerate(policy.witnesses)}
    cosignatures = sorted(((names[c.cosigner], c) for c in found), key=lambda p: order[p[0]])
    met = policy.satisfied([name for name, _ in cosignatures])
    return WitnessedCheckpoint(checkpoint, tuple(cosignatures), met)


def _open(
    signed_note: str, policy: Policy, origin: str | None, log_vkeys: Sequence[str] | None
) -> Checkpoint:
    """The checkpoint, its log signature checked (by a log whose name is its origin)."""
    if log_vkeys:
        return open_checkpoint(signed_note, log_vkeys, origin)
    if not policy.logs:
        raise VerificationError(
            "the policy names no log: give the log's verifier key to check its signature"
        )
    checkpoint = open_checkpoint(signed_note, policy.log_vkeys(), origin)
    # A policy log's key name is the origin of the checkpoints it signs: a log must not vouch
    # for another origin's checkpoint, so only the keys named after this origin may count.
    keys = [log.vkey for log in policy.logs if log.origin == checkpoint.origin]
    if not keys:
        raise VerificationError(
            f"the checkpoint's origin {checkpoint.origin!r} is not a log of the policy"
        )
    return open_checkpoint(signed_note, keys, origin)
