"""Bounded loading of every JSON and YAML document the facility reads from outside.

A size limit, a nesting limit (``MAX_DEPTH``) and, for YAML, no aliases: a tamper policy,
reset profile, control catalogue, control definition or assessment rule set that is too large,
too deep or built from aliases (a "billion laughs") is refused with InputLimitError naming the
document and the line, instead of a RecursionError deep in the parser. JSON comes from
``triage.ledger.bounded`` (the ledger package keeps to itself), re-exported here.
"""

from __future__ import annotations

from typing import Any

import yaml

from triage.ledger.bounded import (
    MAX_DEPTH,
    InputLimitError,
    NestedTooDeep,
    NotValidText,
    bounded_text,
    check_json_value,
    load_json,
    read_at_most,
    size_text,
)


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and collections nested deeper than ``max_depth``.

    PyYAML composes nodes recursively, so a document of a few hundred KiB of ``[`` overflows
    Python's stack; counting as the nodes are composed stops it at the first level too many.
    An alias is refused because it can make a document expand far beyond its size, or refer to
    itself (a structure no code can walk).
    """

    max_depth = MAX_DEPTH
    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """The next node, refused when it is an alias or one collection too deep."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _refused("aliases (*name) are not allowed", event)
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= self.max_depth:
            raise _refused(f"nested deeper than {self.max_depth} levels", event)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _refused(problem: str, event: yaml.Event) -> yaml.composer.ComposerError:
    mark: Any = event.start_mark
    return yaml.composer.ComposerError(None, None, problem, mark)


def load_yaml(
    data: bytes | str,
    what: str,
    *,
    max_bytes: int,
    loader: type[BoundedLoader] = BoundedLoader,
) -> Any:
    """The YAML document in ``data``; InputLimitError naming ``what`` and the line when it is
    larger than ``max_bytes``, not UTF-8, not YAML, nested too deep or uses an alias."""
    text = bounded_text(data, what, max_bytes)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise InputLimitError(what, yaml_problem(exc)) from None


def yaml_problem(error: yaml.YAMLError) -> str:
    """What is wrong with a YAML document and where, in one line."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem and error.problem_mark:
        mark = error.problem_mark
        context = f"{error.context}: " if error.context else ""
        kind = "" if isinstance(error, yaml.composer.ComposerError) else "not valid YAML: "
        return f"{kind}{context}{error.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return "not valid YAML: " + " ".join(str(error).split())


__all__ = [
    "MAX_DEPTH",
    "BoundedLoader",
    "InputLimitError",
    "NestedTooDeep",
    "NotValidText",
    "check_json_value",
    "load_json",
    "load_yaml",
    "read_at_most",
    "size_text",
    "yaml_problem",
]
