"""Opening the facility for one command, and who the command's API token says is acting.

The command line runs on the facility's own host with access to its data directory, so it is
still not trusted to say who is acting: every command that acts for someone authenticates with
an API token (``--token`` or ``$TRIAGE_TOKEN``, from ``triage auth login``), checked exactly as
the API checks it: scopes, expiry, revocation, bench.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from triage.entrypoints.cli.output import fail
from triage.errors import TriageError, Unauthenticated

if TYPE_CHECKING:
    from triage.bootstrap import App
    from triage.domain.caller import Caller
    from triage.services.ports import UnitOfWorkFactory


@contextmanager
def open_app(data_dir: Path | None) -> Iterator[App]:
    """The installation in ``data_dir`` for the host's own commands (no token); a TriageError
    inside becomes an error message and exit code 2."""
    # The database stack and the settings (pydantic) load only for a command that needs them.
    from triage import bootstrap
    from triage.config import Settings

    try:
        application = bootstrap.bootstrap(Settings.from_env(data_dir))
    except TriageError as exc:
        raise fail(str(exc)) from exc
    try:
        yield application
    except TriageError as exc:
        raise fail(str(exc)) from exc
    finally:
        application.close()


@dataclass(frozen=True)
class Session:
    """An opened installation and the operator its token identifies."""

    app: App
    caller: Caller

    @property
    def uow(self) -> UnitOfWorkFactory:
        """The unit-of-work factory every service takes."""
        return self.app.uow


def token_caller(application: App, token: str) -> Caller:
    """The operator an API token identifies (checked as the API checks it), or Unauthenticated."""
    from triage.services import tokens

    if not token.strip():
        raise Unauthenticated(
            "this command needs your API token: pass --token or set TRIAGE_TOKEN "
            "(get one with `triage auth login`)"
        )
    return tokens.authenticate_token(application.uow, token.strip())


@contextmanager
def session(data_dir: Path | None, token: str) -> Iterator[Session]:
    """``open_app`` and the caller ``token`` identifies (each service checks what they may do)."""
    with open_app(data_dir) as application:
        caller = token_caller(application, token)
        yield Session(application, caller)
