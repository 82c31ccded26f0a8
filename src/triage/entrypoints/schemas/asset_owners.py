"""The API's shapes of asset owners: the parties the devices belong to."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from triage.entrypoints.schemas.common import Record, Time

OwnerId = Annotated[str, Field(min_length=1, max_length=100)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Contact = Annotated[str, Field(max_length=500)]
VerifierKey = Annotated[str, Field(max_length=500)]


class AssetOwnerOut(Record):
    id: str = Field(description="The name consignments give it (their asset_owner).")
    name: str
    contact: str
    verifier_key: str | None = Field(
        description="The C2SP verifier key its acknowledgements are checked with (null: none)."
    )
    registered_at: Time
    active: bool


class AssetOwnerIn(BaseModel):
    id: OwnerId = Field(description="The name its consignments give it, e.g. MAP-1.")
    name: Name
    contact: Contact = ""
    verifier_key: VerifierKey | None = Field(
        default=None, description="Its C2SP Ed25519 verifier key (triage asset-owner keygen)."
    )


class AssetOwnerChange(BaseModel):
    """What to change; what is left out stays as it is."""

    name: Name | None = None
    contact: Contact | None = None
    verifier_key: VerifierKey | None = Field(
        default=None, description="A new key replaces the old for what is acknowledged from now."
    )
    active: bool | None = Field(default=None, description="false: deactivated.")
