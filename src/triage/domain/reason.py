"""A reason: the free text an act recorded in the ledger is given (why, what was found, what
was done). One rule for every door: the web, the API and the CLI refuse the same text."""

from __future__ import annotations

from dataclasses import dataclass

from triage.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 2000


@dataclass(frozen=True)
class Reason:
    """Free text as recorded: collapsed to single spaces, MIN_LENGTH to MAX_LENGTH characters."""

    text: str

    def __post_init__(self) -> None:
        if self.text != " ".join(self.text.split()):
            raise InvalidInput("reason: not collapsed to single spaces (use Reason.parse)")

    @classmethod
    def parse(cls, value: str, field: str = "reason", what: str = "why") -> Reason:
        """The reason ``value`` gives for ``field``, or InvalidInput saying what is wanted."""
        text = " ".join(value.split())
        if len(text) < MIN_LENGTH:
            raise InvalidInput(
                f"{field}: say in at least {MIN_LENGTH} characters {what} (it is recorded)",
                field=field,
            )
        if len(text) > MAX_LENGTH:
            raise InvalidInput(f"{field}: at most {MAX_LENGTH} characters", field=field)
        return cls(text)

    def __str__(self) -> str:
        return self.text
