"""REST endpoints of the ledger: health, status, checkpoints, proofs and the export."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from triage import __version__
from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.encoding import consistency_json, status_json
from triage.errors import InvalidInput
from triage.services import ledger as ledger_service
from triage.services.proof_encoding import inclusion_json

EXPORT_MEDIA_TYPE = "application/jsonl"


class Health(BaseModel):
    status: str = Field(description="'ok' when the database answers.")
    version: str
    facility: str


class LedgerInfo(BaseModel):
    origin: str = Field(description="The log's origin: first line of every checkpoint.")
    size: int
    root: str = Field(description="Root hash, standard base64.")
    checkpoint: str | None = Field(description="Latest signed checkpoint (a C2SP signed note).")
    checkpoint_size: int | None


class InclusionProofOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str] = Field(description="Sibling hashes from the leaf up, standard base64.")


class ConsistencyProofOut(BaseModel):
    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


class CheckpointOut(BaseModel):
    size: int
    checkpoint: str


class CheckpointPage(BaseModel):
    items: list[CheckpointOut]
    total: int
    offset: int
    limit: int


def build_ledger_router(application: App) -> APIRouter:
    """The ledger's endpoints of one facility."""
    router = APIRouter(prefix="/api/v1")
    uow = application.uow

    reader = requires(application, Permission.LEDGER_READ)
    operator = Depends(operator_dependency(application))

    @router.get("/health", tags=["system"], **access("public"))
    def health() -> Health:
        """Liveness and database reachability (the one endpoint that needs no credentials)."""
        ledger_service.status(uow, Caller.system("health"))
        return Health(status="ok", version=__version__, facility=application.facility.id)

    @router.get("/ledger", tags=["ledger"], **reader)
    def ledger(caller: Caller = operator) -> LedgerInfo:
        """Size, root and latest signed checkpoint of the facility's ledger."""
        return LedgerInfo(**status_json(ledger_service.status(uow, caller), application.origin))

    @router.get("/ledger/checkpoints", tags=["ledger"], **reader)
    def checkpoints(
        offset: Offset = 0,
        limit: Limit = 100,
        caller: Caller = operator,
    ) -> CheckpointPage:
        """Stored signed checkpoints, oldest first."""
        stored = ledger_service.checkpoints(uow, caller)
        page = stored[offset : offset + limit]
        return CheckpointPage(
            items=[CheckpointOut(size=c.size, checkpoint=c.note) for c in page],
            total=len(stored),
            offset=offset,
            limit=limit,
        )

    beyond = problems.responses(404)  # a size or index beyond the log

    @router.get("/ledger/proofs/inclusion", tags=["ledger"], responses=beyond, **reader)
    def inclusion(
        index: Annotated[int, Query(ge=0, description="Entry index, 0-based.")],
        size: Annotated[int | None, Query(ge=1, description="Tree size; default current.")] = None,
        caller: Caller = operator,
    ) -> InclusionProofOut:
        """Inclusion proof of one entry in the tree of a given size."""
        if size is not None and index >= size:
            raise InvalidInput(f"index: {index} is not below size {size}")
        return InclusionProofOut(
            **inclusion_json(ledger_service.prove_inclusion(uow, caller, index, size))
        )

    @router.get("/ledger/proofs/consistency", tags=["ledger"], responses=beyond, **reader)
    def consistency(
        size1: Annotated[int, Query(alias="from", ge=1, description="Older tree size.")],
        size2: Annotated[int | None, Query(alias="to", ge=1, description="Newer size.")] = None,
        caller: Caller = operator,
    ) -> ConsistencyProofOut:
        """Consistency proof that the older tree is a prefix of the newer one."""
        if size2 is not None and size1 > size2:
            raise InvalidInput(f"from: {size1} is larger than to ({size2})")
        return ConsistencyProofOut(
            **consistency_json(ledger_service.prove_consistency(uow, caller, size1, size2))
        )

    @router.get(
        "/ledger/export",
        tags=["ledger"],
        response_class=FileResponse,
        responses={200: {"content": {EXPORT_MEDIA_TYPE: {}}}, **problems.responses(404)},
        **requires(application, Permission.ASSURANCE_READ),
    )
    def export(caller: Caller = operator) -> FileResponse:
        """The whole ledger up to its latest signed checkpoint, in one file that anyone with the
        verifier key checks offline (`triage verify FILE --key VKEY`): a header line with the
        checkpoint, then every entry as the exact bytes the ledger hashed, one a line."""
        checkpoint, lines = ledger_service.export(
            uow, caller, application.origin, application.verifier_key()
        )
        # Written out first, so that a failure is a proper error and not a cut-off download;
        # beside the database, where there is room for a file about its size (/tmp may be small).
        with tempfile.NamedTemporaryFile(
            "wb", prefix=".ledger-export-", dir=application.settings.data_dir, delete=False
        ) as file:
            try:
                file.writelines(lines)
            except BaseException:
                os.unlink(file.name)
                raise
        name = f"ledger-{application.facility.id}-{checkpoint.size}.jsonl"
        return FileResponse(
            file.name,
            media_type=EXPORT_MEDIA_TYPE,
            filename=name,
            background=BackgroundTask(os.unlink, file.name),
        )

    return router
