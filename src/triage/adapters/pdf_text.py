"""Text for reportlab's built-in fonts, which print only what cp1252 holds."""

from __future__ import annotations

import unicodedata


def encodable(char: str) -> bool:
    """True when the built-in fonts can print ``char``."""
    if not char.isprintable():
        return False
    try:
        char.encode("cp1252")  # the encoding reportlab's standard fonts print
    except UnicodeEncodeError:
        return False
    return True


def fold(char: str) -> str:
    """A printable character the fonts lack: its letters without their accents when the fonts
    have those, else '?'."""
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and all(encodable(c) for c in base) else "?"
