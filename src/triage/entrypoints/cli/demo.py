"""`triage demo`: demo staff with fresh tokens and sign-ins, for a demo facility only."""

from __future__ import annotations

import dataclasses

from triage.entrypoints.cli.auth import CLI_SOURCE
from triage.entrypoints.cli.options import DataDir, JsonFlag
from triage.entrypoints.cli.output import emit
from triage.entrypoints.cli.session import open_app
from triage.services.demo import DEMO_ADMIN, set_up_demo


def demo(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Create demo staff (one per role) if missing and print a fresh API token for each,
    minted by their own sign-in (the demo administrator's on the first run only)."""
    with open_app(data_dir) as application:
        found = set_up_demo(
            application.uow,
            application.secret_box(),
            application.settings.token_max_days,
            CLI_SOURCE,
        )
    logins = {who: dataclasses.asdict(login) for who, login in found.logins.items()}
    emit(
        as_json,
        {"tokens": found.tokens, "seals": found.seals, "web": logins},
        "demo staff (send as 'Authorization: Bearer TOKEN'):\n"
        + "\n".join(f"  {who:16} {token}" for who, token in found.tokens.items())
        + (
            ""
            if DEMO_ADMIN in found.tokens
            else "\n  demo-admin: token and sign-in shown by the first 'triage demo' only "
            "(nobody re-enrols their own login); sign in with its password"
        )
        + "\ndemo seals: "
        + "; ".join(
            f"{first}..{last} issued to {who}" for who, (first, last) in found.seals.items()
        )
        + "\nweb sign-in: password, then the one-time code (or a code from an authenticator "
        "holding the TOTP secret); bench operators and supervisors give bench B1:\n"
        + "\n".join(
            f"  {who:16} password {w.password}  code {w.recovery_code}  TOTP secret {w.totp_secret}"
            for who, w in found.logins.items()
        ),
    )
