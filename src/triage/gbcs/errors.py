"""The one error the GBCS decoder and encoder raise."""

from __future__ import annotations


class GbcsError(ValueError):
    """A message (or a response to encode) that is not a 6.13 response we can read: says where
    it went wrong (``offset``, the byte in the message; None when not about a byte) and what was
    expected there."""

    def __init__(
        self,
        offset: int | None,
        expected: str,
        found: str | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        self.offset = offset
        self.expected = expected
        self.found = found
        text = detail or f"expected {expected}" + (f", found {found}" if found is not None else "")
        super().__init__(text if offset is None else f"byte {offset}: {text}")
