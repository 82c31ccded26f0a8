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


def printable_line(text: str) -> str:
    """One line the built-in fonts can print: accents dropped from letters the fonts lack and
    other characters they lack shown as '?'."""
    normal = unicodedata.normalize("NFKC", " ".join(text.split()))
    return "".join(char if encodable(char) else fold(char) for char in normal)


def printable_text(text: str) -> str:
    """Text the built-in fonts can print, line breaks kept: accents dropped from letters they
    lack, other characters they lack shown as '?', control characters as spaces."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", text):
        if char == "\n" or encodable(char):
            out.append(char)
        elif not char.isprintable():
            out.append(" ")
        else:
            out.append(fold(char))
    return "".join(out)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces (long words are cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines
