"""`triage asset-owner`: the asset owners the devices belong to, as parties (issue 19 item 1):
registered and changed by an administrator, and their signing keys made offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.domain.asset_owner import AssetOwner, check_owner_id
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import session
from triage.errors import InvalidInput
from triage.ledger.entry import format_time

app = typer.Typer(
    help="Asset owners: the parties the devices belong to, and their signing keys.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Option(help="The party's name, e.g. 'Meter Assets One Ltd'.")]
Contact = Annotated[str, typer.Option(help="How to reach it (one line).")]
Key = Annotated[
    str | None,
    typer.Option(
        "--verifier-key", help="Its C2SP verifier key (from 'triage asset-owner keygen')."
    ),
]


def _json(owner: AssetOwner) -> dict[str, Any]:
    return {
        "id": owner.id,
        "name": owner.name,
        "contact": owner.contact,
        "verifier_key": owner.verifier_key,
        "registered_at": format_time(owner.registered_at),
        "active": owner.active,
    }


def _text(owner: AssetOwner) -> str:
    status = "active" if owner.active else "deactivated"
    key = owner.verifier_key or "none (acknowledges through the web or API only)"
    return (
        f"{owner.id}: {owner.name} ({status})\n  contact: {owner.contact or '-'}\n"
        f"  verifier key: {key}\n  registered: {format_time(owner.registered_at)}"
    )


@app.command("add")
def add(
    owner_id: Annotated[str, typer.Argument(help="The name its consignments give it, e.g. MAP-1.")],
    name: Name,
    contact: Contact = "",
    verifier_key: Key = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Register an asset owner (an administrator), before its first consignment is imported."""
    from triage.services import asset_owners

    with session(data_dir, token) as s:
        found = asset_owners.register(s.uow, s.caller, owner_id, name, contact, verifier_key)
    emit(as_json, _json(found), f"asset owner {found.id} registered")


@app.command("list")
def list_owners(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """The asset owners (a person of an asset owner sees its own)."""
    from triage.services import asset_owners

    with session(data_dir, token) as s:
        found = asset_owners.owners(s.uow, s.caller)
    text = "\n".join(_text(o) for o in found) or "no asset owner is registered"
    emit(as_json, {"asset_owners": [_json(o) for o in found]}, text)


@app.command("show")
def show(
    owner_id: Annotated[str, typer.Argument(help="The asset owner's id.")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """One asset owner."""
    from triage.services import asset_owners

    with session(data_dir, token) as s:
        found = asset_owners.owner(s.uow, s.caller, owner_id)
    emit(as_json, _json(found), _text(found))


@app.command("update")
def update(
    owner_id: Annotated[str, typer.Argument(help="The asset owner's id.")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    contact: Annotated[str | None, typer.Option(help="A new contact.")] = None,
    verifier_key: Key = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--deactivate", help="Reactivate, or deactivate, the owner."),
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an asset owner's name, contact, verifier key (a new key replaces the old for what
    is acknowledged from now on) or whether it is active (an administrator)."""
    from triage.services import asset_owners

    with session(data_dir, token) as s:
        found = asset_owners.update(
            s.uow,
            s.caller,
            owner_id,
            name=name,
            contact=contact,
            verifier_key=verifier_key,
            active=active,
        )
    emit(as_json, _json(found), f"asset owner {found.id} updated\n{_text(found)}")


@app.command("keygen")
def keygen(
    name: Annotated[str, typer.Argument(help="The key's name, e.g. the owner's id MAP-1.")],
    out: Annotated[Path, typer.Option(help="Directory to keep the signing key in (0600).")],
) -> None:
    """Make an asset owner's key pair, offline, at the owner: writes the signing key to
    OUT/NAME.key (never overwritten) and prints the verifier key to register with the
    facility. The facility never sees the signing key."""
    from triage.entrypoints.agent import write_signer_key
    from triage.ledger import note

    if "/" in name or "\\" in name or name in (".", ".."):
        raise fail(f"{name!r}: a key name has no path separators")
    try:
        signer, verifier = note.generate_key(check_owner_id(name))
    except (InvalidInput, ValueError) as exc:
        raise fail(str(exc)) from exc
    path = out / f"{name}.key"
    try:
        write_signer_key(signer, path)
    except FileExistsError as exc:
        raise fail(f"{path} exists; a signing key is never overwritten") from exc
    typer.echo(verifier)
