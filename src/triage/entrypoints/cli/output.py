"""What commands print: results as text or JSON, errors, warnings and one progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import typer

if TYPE_CHECKING:
    from rich.console import Console


class _Stderr:
    """rich's console on standard error, made when something is first printed there: most
    commands print nothing on it, and rich takes about 20 ms to load."""

    def __init__(self) -> None:
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, soft_wrap=True)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        """``rich.console.Console.print`` on standard error."""
        self.console.print(*objects, **options)


err = _Stderr()


def emit(as_json: bool, data: Mapping[str, Any], text: str) -> None:
    """Print the result: ``data`` as indented, sorted JSON with --json, else ``text``."""
    typer.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else text)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error now; returns the exit to raise (code 2: bad request)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print a warning on standard error."""
    err.print(f"[bold yellow]warning:[/] {message}", highlight=False)


class Advance(Protocol):
    """Moves a progress bar: how much is done, and the total when it is first known."""

    def __call__(self, done: int, total: int | None = None, /) -> None: ...


def _quiet(done: int, total: int | None = None, /) -> None:
    """No bar to move."""


@contextmanager
def progress(total: int | None, label: str, enabled: bool) -> Iterator[Advance]:
    """A progress bar on standard error, shown only when ``enabled`` and it is a terminal;
    yields the function to call with how much is done (and the total, when ``total`` was not
    known at the start)."""
    if not enabled or not sys.stderr.isatty():
        yield _quiet
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err.console, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, of: int | None = None, /) -> None:
            bar.update(task, completed=done, total=of if of is not None else total)

        yield advance
