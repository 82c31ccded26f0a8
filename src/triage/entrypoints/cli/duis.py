"""`triage duis`: DUIS messages in and out (issue 20): Read Inventory responses (8.2) and
security-log responses (6.13) in, Update Inventory (8.4), Decommission (8.3) and comms hub
return (8.14.3, 8.14.4) requests out for the DCC User who submits them."""

from __future__ import annotations

import typer

from triage.entrypoints.cli import duis_inventory, duis_requests

app = typer.Typer(
    help="DUIS messages: inventory responses in, inventory requests out.", no_args_is_help=True
)
duis_inventory.register(app)
duis_requests.register(app)
