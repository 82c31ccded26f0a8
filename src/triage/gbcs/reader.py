"""Reading a message byte by byte: every refusal names the byte offset and what was expected."""

from __future__ import annotations

from triage.gbcs.errors import GbcsError

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_UPPER_HEX = frozenset("0123456789ABCDEF")


def parse_hex(text: str) -> bytes:
    """The bytes of a message written as hex text (whitespace anywhere is ignored)."""
    digits: list[str] = []
    for position, char in enumerate(text):
        if char.isspace():
            continue
        if char not in _HEX_DIGITS:
            raise GbcsError(
                len(digits) // 2,
                "a hex digit",
                f"{char!r} (character {position} of the text)",
            )
        digits.append(char)
    if len(digits) % 2:
        raise GbcsError(len(digits) // 2, "two hex digits per byte", "one digit at the end")
    if not digits:
        raise GbcsError(0, "a GBCS message in hex", "no hex digits")
    return bytes.fromhex("".join(digits))


def eui64(raw: bytes) -> str:
    """An EUI-64 as ``00-DB-12-34-56-78-90-A0``."""
    return "-".join(f"{byte:02X}" for byte in raw)


def eui64_bytes(text: str, what: str) -> bytes:
    """The 8 bytes of an EUI-64 written as ``00-DB-12-34-56-78-90-A0``."""
    if not isinstance(text, str) or not _is_eui64(text):
        raise GbcsError(None, f"{what} as an EUI-64 like 00-DB-12-34-56-78-90-A0", repr(text))
    return bytes.fromhex(text.replace("-", ""))


def _is_eui64(text: str) -> bool:
    parts = text.split("-")
    return len(parts) == 8 and all(len(p) == 2 and set(p) <= _UPPER_HEX for p in parts)


def der_length(length: int) -> bytes:
    """A length as GBCS writes it: one byte below 0x80, else 0x81 or 0x82... and the number."""
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


class Reader:
    """A cursor over ``data[start:end]``; offsets stay those of the whole message."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    @property
    def left(self) -> int:
        """How many bytes are left before the end."""
        return self.end - self.pos

    def take(self, count: int, what: str) -> bytes:
        """The next ``count`` bytes (``what`` they are, for the error when they are missing)."""
        if count > self.left:
            found = "the end of the message" if self.end == len(self.data) else "its end"
            plural = "byte" if self.left == 1 else "bytes"
            have = f"only {self.left} {plural}, then {found}" if self.left else found
            raise GbcsError(self.pos, f"{what} ({count} bytes)", have)
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self, what: str) -> int:
        """The next byte."""
        return self.take(1, what)[0]

    def uint(self, size: int, what: str, *, little: bool = False) -> int:
        """An unsigned number of ``size`` bytes, big-endian unless ``little``."""
        return int.from_bytes(self.take(size, what), "little" if little else "big")

    def expect(self, value: int, what: str) -> None:
        """The next byte must be ``value``."""
        at = self.pos
        found = self.byte(what)
        if found != value:
            raise GbcsError(at, f"{what} 0x{value:02X}", f"0x{found:02X}")

    def expect_bytes(self, value: bytes, what: str) -> None:
        """The next bytes must be ``value``."""
        at = self.pos
        found = self.take(len(value), what)
        if found != value:
            raise GbcsError(at, f"{what} {value.hex(' ').upper()}", found.hex(" ").upper())

    def length(self, what: str) -> int:
        """A DER-style length: one byte below 0x80, else 0x81..0x84 and that many bytes."""
        at = self.pos
        first = self.byte(what)
        if first < 0x80:
            return first
        size = first & 0x7F
        if not 1 <= size <= 4:
            raise GbcsError(at, f"{what} (a length: below 0x80, or 0x81 to 0x84)", f"0x{first:02X}")
        return self.uint(size, what)

    def part(self, length: int, what: str) -> Reader:
        """A reader over the next ``length`` bytes, which must all be there; skips them here."""
        if length > self.left:
            raise GbcsError(
                self.pos, f"{what} of {length} bytes", f"only {self.left} bytes before the end"
            )
        inner = Reader(self.data, self.pos, self.pos + length)
        self.pos += length
        return inner

    def finish(self, what: str) -> None:
        """Nothing may be left."""
        if self.left:
            raise GbcsError(self.pos, f"the end of {what}", f"{self.left} more bytes")


def number_bytes(value: object, size: int, what: str, *, little: bool = False) -> bytes:
    """``value`` as an unsigned number of ``size`` bytes; refused when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 256**size:
        raise GbcsError(None, f"{what} as a number from 0 to {256**size - 1}", repr(value))
    return value.to_bytes(size, "little" if little else "big")


def hex_bytes(value: object, what: str) -> bytes:
    """The bytes of an octet string carried as upper-case hex (as the decoder gives it)."""
    if not isinstance(value, str) or len(value) % 2 or not set(value) <= _UPPER_HEX:
        raise GbcsError(None, f"{what} as upper-case hex", repr(value))
    return bytes.fromhex(value)
