"""Values read from a page's form the same way on every page: a list typed or scanned into one
box, and whole numbers, refused beside their field when they are not."""

from __future__ import annotations

from collections.abc import Mapping

from triage.errors import InvalidInput


def listed(form: Mapping[str, str], name: str) -> list[str]:
    """What a box holds as a list: one a line (a scanner's Enter), or separated by spaces or
    commas."""
    return form.get(name, "").replace(",", " ").split()


def whole(form: Mapping[str, str], name: str, what: str) -> int:
    """A whole number (ASCII digits only); else refused as ``name: what, not '...'``."""
    text = form.get(name, "").strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(f"{name}: {what}, not {text!r}")
    return int(text)


def optional_whole(form: Mapping[str, str], name: str, what: str) -> int | None:
    """A whole number, or None when the field is left empty."""
    return whole(form, name, what) if form.get(name, "").strip() else None
