"""RFC 8785 canonical JSON, fast for the values ledger entries hold.

For JSON made only of strings, integers, booleans, null, arrays and objects whose keys are all
ASCII, the standard library's ``json.dumps`` with sorted keys, no spaces and no ASCII escaping
writes exactly the bytes RFC 8785 prescribes: both escape only '"', '\\' and control
characters (the same short forms, lower-case ``\\u00xx`` for the rest), print integers the same
way, and for ASCII keys ordering by code point equals ordering by UTF-16 code unit. Anything
else (floats, non-ASCII keys) goes to the ``rfc8785`` library. A property test holds the two
paths to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785


def dumps(value: Any, plain: bool = False) -> bytes:
    """The RFC 8785 canonical serialisation of ``value``.

    ``plain=True`` promises the value was already checked to hold only the plain kinds above.
    """
    if plain or _plain(value):
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    return False
