"""What commands print: results as text or JSON, errors, warnings and one progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


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


@contextmanager
def progress(total: int, label: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error, shown only when ``enabled`` and it is a terminal;
    yields the function to call with how much is done."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)
