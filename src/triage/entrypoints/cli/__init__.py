"""The ``triage`` command line for operators and auditors: one module per command group."""

from __future__ import annotations

import typer

from triage.entrypoints.cli import (
    agent,
    asset_owners,
    assurance,
    auth,
    backup,
    consignments,
    custody,
    demo,
    devices,
    dispatches,
    disposals,
    duis,
    facility,
    hubs,
    incidents,
    ledger,
    operators,
    retention,
    seals,
    security,
    security_log,
    system,
    tools,
    verify,
)

app = typer.Typer(
    help="device-triage: the system a smart-meter Triage Facility runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(system.init)
app.command()(system.serve)
app.command("demo")(demo.demo)
app.command("verify")(verify.verify)
app.command("access-review")(security.access_review_command)
app.command("backup", help=backup.BACKUP_HELP)(backup.backup)
app.command("restore", help=backup.RESTORE_HELP)(backup.restore)
app.add_typer(ledger.app, name="ledger")
app.add_typer(system.keys_app, name="keys")
app.add_typer(operators.app, name="operator")
app.add_typer(tools.app, name="tool")
app.add_typer(consignments.app, name="consignment")
app.add_typer(devices.app, name="device")
app.add_typer(agent.app, name="agent")
app.add_typer(facility.app, name="facility")
app.add_typer(auth.app, name="auth")
app.add_typer(security.thresholds_app, name="thresholds")
app.add_typer(security.hours_app, name="working-hours")
app.add_typer(security.alerts_app, name="alerts")
app.add_typer(security.security_app, name="security")
app.add_typer(seals.app, name="seals")
app.add_typer(security_log.app, name="security-log")
app.add_typer(assurance.assurance_app, name="assurance")
app.add_typer(assurance.assessment_app, name="assessment")
app.add_typer(asset_owners.app, name="asset-owner")
app.add_typer(dispatches.app, name="dispatch")
app.add_typer(disposals.app, name="disposal")
app.add_typer(custody.app, name="custody")
app.add_typer(retention.app, name="retention")
app.add_typer(duis.app, name="duis")
app.add_typer(hubs.app, name="hub")
app.add_typer(incidents.app, name="incident")


def main() -> None:
    """Entry point of the ``triage`` command."""
    app()
