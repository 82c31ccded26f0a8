"""Bounded reading of JSON from outside: a size limit, a nesting limit and well-formed text.

Whatever comes from outside (a receipt, an export, a signed note's body, an API body, a file a
user names) is read through here, so that an oversized, deeply nested or not-quite-Unicode
input is refused with a message naming what it is and where the problem lies, instead of
exhausting memory, overflowing the parser's recursion (Python's ``json`` raises
RecursionError near a thousand levels) or failing later, far from the input, when a lone
surrogate cannot be written as UTF-8. Part of the ledger package, which imports nothing else
from ``triage``; ``triage.domain.bounded`` adds YAML for everything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import IO, Any

# Nothing the facility reads nests deeper than a handful of levels.
MAX_DEPTH = 32

_OPENERS = frozenset("[{")
_CLOSERS = frozenset("]}")
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<![dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|[\ud800-\udfff]"
)


class InputLimitError(ValueError):
    """Input refused before use: too large, nested too deep, not JSON or not valid text.

    ``what`` names the input ("receipt", "body") and ``problem`` says what is wrong and where;
    the message is both.
    """

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"{what}: {problem}")
        self.what = what
        self.problem = problem


class NestedTooDeep(InputLimitError):
    """JSON nested deeper than the limit (the message says where it passes it)."""


class NotValidText(InputLimitError):
    """JSON whose text holds a lone surrogate, which no UTF-8 text can (the message says where)."""


def size_text(limit: int) -> str:
    """A byte limit as people write it (16 MiB, 64 KiB, 300 bytes)."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def read_at_most(stream: IO[bytes], limit: int, what: str) -> bytes:
    """All of ``stream`` if it holds at most ``limit`` bytes; InputLimitError as soon as it
    holds more (never more than ``limit`` + 1 bytes are read, so endless input is refused)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(limit + 1 - size, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise InputLimitError(what, f"larger than {size_text(limit)}")
    return b"".join(chunks)


def bounded_text(data: bytes | str, what: str, max_bytes: int) -> str:
    """``data`` as text, refused (InputLimitError naming ``what``) when it is larger than
    ``max_bytes`` or not UTF-8: the first step of reading any document from outside."""
    if len(data) > max_bytes:
        raise InputLimitError(what, f"larger than {size_text(max_bytes)}")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputLimitError(what, f"not valid UTF-8 (byte {exc.start})") from None


def load_json(
    data: bytes | str,
    what: str,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
) -> Any:
    """The JSON value in ``data``, refused (InputLimitError naming ``what`` and where) when it
    is larger than ``max_bytes``, not UTF-8, not JSON, nested deeper than ``max_depth`` or
    holds a lone surrogate (text that cannot be written as UTF-8)."""
    text = bounded_text(data, what, max_bytes)
    try:
        value = json.loads(text, parse_float=parse_float)
    except RecursionError:
        raise NestedTooDeep(what, _too_deep(text, max_depth)) from None
    except json.JSONDecodeError as exc:
        raise InputLimitError(
            what, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:  # parse_float refusing a number
        raise InputLimitError(what, f"not acceptable JSON: {exc}") from None
    problem = check_json_value(value, max_depth)
    if problem == "depth":
        raise NestedTooDeep(what, _too_deep(text, max_depth))
    if problem is not None:
        raise NotValidText(what, f"{problem}{_surrogate_place(text)}")
    return value


def check_json_value(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """None when a parsed JSON value nests at most ``max_depth`` deep and all its text is valid
    Unicode; else "depth", or what is wrong with the text and where in the value."""
    # Iterative, so that a value nested as deep as the parser allows cannot overflow the stack.
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _valid_text(item):
                return _where_surrogate(value)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return "depth"
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not _valid_text(key):
                        return _where_surrogate(value)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)
    return None


def _valid_text(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _where_surrogate(value: Any) -> str:
    """Where in ``value`` the first lone surrogate is, as a path like entries[3].entry."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) and not _valid_text(item):
            return f"not valid UTF-8 text at {path or 'the top'} (a lone surrogate)"
        if isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                if not _valid_text(key):
                    return f"not valid UTF-8 text in a key at {path or 'the top'}"
                stack.append((inner, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}[{i}]") for i, inner in reversed(list(enumerate(item))))
    return "not valid UTF-8 text (a lone surrogate)"


def _surrogate_place(text: str) -> str:
    found = _LONE_SURROGATE.search(text)
    return "" if found is None else f", {_line_column(text, found.start())}"


def _too_deep(text: str, max_depth: int) -> str:
    """Where ``text`` first opens more than ``max_depth`` levels (outside strings)."""
    depth = 0
    in_string = escaped = False
    for offset, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            depth += 1
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels at {_line_column(text, offset)}"
        elif char in _CLOSERS:
            depth -= 1
    return f"nested deeper than {max_depth} levels"


def _line_column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"
