"""The ``triage`` command line for operators and auditors: one module per command group.

A command group's module is imported, and its commands built, only when that group is used:
``triage seals count`` loads the seals module and nothing of the other groups. Building every
group's commands (Typer reads each function's annotations) took about a quarter of a second at
every start, more than most commands then took. ``COMMANDS`` says where each one lives and what
``triage --help`` says of it (a test checks the words are the command's own).

Within a group's module, the services (and through them the ports and the whole domain), the
API's schemas, the database and the HTTP client are imported inside the commands that use them:
``triage GROUP --help`` and the commands that need no database (``verify``, ``witness keygen``,
``agent keygen``) start without them, and a database command loads no PDF, server or HTTP
library it does not use (issue 22; tests/unit/test_cli_start.py checks what each loads).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Lazy:
    """A command (or command group) of ``triage``, named where it is defined.

    ``attr`` is a Typer app (a group) or a function (a command); ``help`` is what
    ``triage --help`` lists for it, and for a function its help unless it has its own
    (``help_attr``: a module constant holding it)."""

    module: str
    attr: str
    help: str
    help_attr: str | None = None

    def load(self, name: str) -> Any:
        module = importlib.import_module(f"triage.entrypoints.cli.{self.module}")
        found = getattr(module, self.attr)
        # Built as a child of a stand-in root, exactly as `add_typer` and `command` on the root
        # would build it (a group of one command stays a group).
        parent = typer.Typer(pretty_exceptions_enable=False)
        if isinstance(found, typer.Typer):
            parent.add_typer(found, name=name)
        else:
            wording = getattr(module, self.help_attr) if self.help_attr else None
            parent.command(name, help=wording)(found)
        parent.callback()(_root)
        built = typer.main.get_command(parent)
        assert isinstance(built, TyperGroup)
        return built.commands[name]


COMMANDS: dict[str, Lazy] = {
    "init": Lazy(
        "system",
        "init",
        "Create the data directory, database, facility signing key and facility (safe to repeat).",
    ),
    "serve": Lazy("system", "serve", "Start the API server."),
    "demo": Lazy(
        "demo",
        "demo",
        "Create demo staff (one per role) and a demo bench if missing, and print a fresh API "
        "token for each person, minted by their own sign-in (the demo administrator's on the "
        "first run only), and the demo devices.",
    ),
    "verify": Lazy(
        "verify",
        "verify",
        "Check a receipt, a signed document (a dispatch note, an outcome report, an asset "
        "owner's acknowledgement: the signer's verifier key) or a whole ledger export offline "
        "with nothing but the verifier key or a witness policy (and, for an export, the "
        "checkpoints you kept).",
    ),
    "access-review": Lazy(
        "security",
        "access_review_command",
        "Who holds which role, tokens outstanding, tools, thresholds and open alerts.",
    ),
    "backup": Lazy(
        "backup",
        "backup",
        "Write a consistent backup of the facility to OUTPUT, while the server runs.",
        help_attr="BACKUP_HELP",
    ),
    "restore": Lazy(
        "backup",
        "restore",
        "Restore a facility from ARCHIVE into a new, empty data directory (and, on "
        "PostgreSQL, into the new, empty database TRIAGE_DATABASE_URL names), then verify it.",
        help_attr="RESTORE_HELP",
    ),
    "ledger": Lazy("ledger", "app", "The tamper-evident ledger: verify, checkpoint, prove."),
    "keys": Lazy("system", "keys_app", "The facility's keys."),
    "operator": Lazy("operators", "app", "Operators and their API tokens."),
    "tool": Lazy("tools", "app", "Triage Tools enrolled at the benches."),
    "consignment": Lazy("consignments", "app", "Consignments of returned devices."),
    "device": Lazy("devices", "app", "Devices through triage, from scan to release."),
    "agent": Lazy("agent", "app", "The bench agent beside a Triage Tool."),
    "facility": Lazy("facility", "app", "The facility's settings."),
    "auth": Lazy(
        "auth", "app", "Sign-in: activation, second factor, API tokens for the CLI, locks."
    ),
    "thresholds": Lazy("security", "thresholds_app", "Anomaly thresholds."),
    "working-hours": Lazy("security", "hours_app", "The facility's working hours."),
    "alerts": Lazy("security", "alerts_app", "Anomaly alerts."),
    "security": Lazy("security", "security_app", "Suspending and reinstating tools and operators."),
    "seals": Lazy("seals", "app", "Tamper-protection seals: stock, issue, count."),
    "security-log": Lazy("security_log", "app", "GBCS security and event logs read from devices."),
    "assurance": Lazy(
        "assurance", "assurance_app", "The provider, commissioning mode, controls and evidence."
    ),
    "assessment": Lazy("assurance", "assessment_app", "Security assessments (FUSA, VUSA, USSA)."),
    "asset-owner": Lazy(
        "asset_owners",
        "app",
        "Asset owners: the parties the devices belong to, and their signing keys.",
    ),
    "dispatch": Lazy(
        "dispatches",
        "app",
        "Dispatches, manifests, VVTT checks, handovers, acknowledgements.",
    ),
    "disposal": Lazy(
        "disposals",
        "app",
        "Destruction and return evidence and certificates of destruction.",
    ),
    "custody": Lazy(
        "custody",
        "app",
        "Device custody: locations, moves, device stocktakes and idle devices.",
    ),
    "retention": Lazy(
        "retention",
        "app",
        "Retention of evidence files, legal holds and consignment outcome reports.",
    ),
    "duis": Lazy("duis", "app", "DUIS messages: inventory responses in, inventory requests out."),
    "hub": Lazy("hubs", "app", "Communications hubs back to the DCC."),
    "incident": Lazy("incidents", "app", "The incident and vulnerability register."),
    "witness": Lazy(
        "witness",
        "app",
        "A witness that cosigns facilities' checkpoints, and a monitor that follows a log.",
    ),
}


class LazyGroup(TyperGroup):
    """The root group: each command built on first use. Listing them for ``--help`` builds
    none (a stand-in carries the listed words)."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = self.commands.get(cmd_name)
        if found is not None:
            return found
        lazy = COMMANDS.get(cmd_name)
        if lazy is None:
            return None
        if self._listing:
            return TyperCommand(cmd_name, help=lazy.help)
        command = self.commands[cmd_name] = lazy.load(cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=LazyGroup,
    help="device-triage: the system a smart-meter Triage Facility runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """device-triage: the system a smart-meter Triage Facility runs."""


def main() -> None:
    """Entry point of the ``triage`` command."""
    app()
