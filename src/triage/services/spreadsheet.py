"""Cells of a CSV file a person opens in a spreadsheet: text that would run as a formula there
(a cell starting with = + - @, a tab or a carriage return) is kept as text by a leading quote."""

from __future__ import annotations

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """``value`` as a CSV cell: empty for None, yes/no for a flag, and never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text
