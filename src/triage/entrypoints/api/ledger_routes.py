"""REST endpoints of the ledger: health, status, checkpoints, proofs, the export, and the witness
policy and witnesses that cosign its checkpoints (issue 21)."""

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
from triage.domain import witness_policy
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.encoding import consistency_json, status_json
from triage.errors import InvalidInput
from triage.services import ledger as ledger_service
from triage.services import witnessing
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


class PolicyWitnessOut(BaseModel):
    name: str = Field(description="The witness's name in the policy.")
    key: str = Field(description="Its cosigner key (a C2SP vkey of type 0x04).")
    url: str | None = Field(description="Its submission prefix; none: never contacted.")


class WitnessPolicyOut(BaseModel):
    policy: str = Field(
        description="The whole C2SP tlog-policy a verifier uses, the facility's log line "
        "first (`triage verify --policy FILE`)."
    )
    quorum: str
    witnesses: list[PolicyWitnessOut]
    alert_after_minutes: int = Field(description="Below quorum this long: an alert.")
    timeout_seconds: int = Field(description="What one request to a witness may take.")
    attempts: int = Field(description="Attempts a witness that does not answer gets a round.")
    set_by: str
    set_at: str


class WitnessPolicyIn(BaseModel):
    policy: str = Field(
        max_length=witnessing.MAX_POLICY_TEXT,
        description="Witness (name, cosigner key, URL), group and quorum lines of C2SP "
        "tlog-policy; the facility's own log line is added, not typed.",
    )
    alert_after_minutes: int = Field(
        default=witness_policy.DEFAULT_ALERT_AFTER_MINUTES,
        ge=witness_policy.ALERT_AFTER_RANGE[0],
        le=witness_policy.ALERT_AFTER_RANGE[1],
    )
    timeout_seconds: int = Field(
        default=witness_policy.DEFAULT_TIMEOUT_SECONDS,
        ge=witness_policy.TIMEOUT_RANGE[0],
        le=witness_policy.TIMEOUT_RANGE[1],
    )
    attempts: int = Field(
        default=witness_policy.DEFAULT_ATTEMPTS,
        ge=witness_policy.ATTEMPTS_RANGE[0],
        le=witness_policy.ATTEMPTS_RANGE[1],
    )


class WitnessAttemptOut(BaseModel):
    at: str
    size: int = Field(description="The size of the checkpoint it was asked to cosign.")
    outcome: str
    detail: str = Field(description="What the witness answered, or why it could not.")
    witness_size: int | None = Field(description="The size the witness said it holds (409).")


class WitnessStateOut(BaseModel):
    name: str
    key_id: str
    url: str | None
    cosigned_latest: bool = Field(description="Its cosignature on the latest checkpoint is held.")
    last_cosigned_size: int | None
    last_cosigned_at: str | None
    last_attempt: WitnessAttemptOut | None


class WitnessesOut(BaseModel):
    policy: WitnessPolicyOut | None = Field(description="None: witnessing is off.")
    checkpoint_size: int | None = Field(description="The latest checkpoint's size.")
    quorum_met: bool = Field(description="The latest checkpoint's cosignatures meet the quorum.")
    explanation: str
    witnesses: list[WitnessStateOut]


class WitnessOutcomeOut(BaseModel):
    witness: str
    size: int
    outcome: str = Field(
        description="cosigned, already cosigned, no url, rollback, inconsistent, refused, "
        "conflict, unreachable, invalid answer or not sent."
    )
    cosigned: bool
    detail: str
    witness_size: int | None


class GatherOut(BaseModel):
    outcomes: list[WitnessOutcomeOut]
    quorum_met: bool
    explanation: str


def build_ledger_router(application: App) -> APIRouter:
    """The ledger's endpoints of one facility."""
    router = APIRouter(prefix="/api/v1", route_class=ThreadedRoute)
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

    checkpointer = requires(application, Permission.LEDGER_CHECKPOINT)

    @router.get(
        "/ledger/witness-policy", tags=["ledger"], responses=problems.responses(404), **reader
    )
    def witness_policy(caller: Caller = operator) -> WitnessPolicyOut:
        """The witness policy in force: the whole C2SP tlog-policy text a verifier uses (the
        facility's log line first) and how witnesses are asked; 404 while none is set."""
        return WitnessPolicyOut(**witnessing.current_policy(uow, caller).to_json())

    @router.put(
        "/ledger/witness-policy",
        tags=["ledger"],
        **requires(application, Permission.FACILITY_MANAGE),
    )
    def set_witness_policy(body: WitnessPolicyIn, caller: Caller = operator) -> WitnessPolicyOut:
        """Record the witness policy (an administrator): witness, group and quorum lines; the
        facility's log line is added. A policy that does not parse is refused naming its line."""
        found = witnessing.set_policy(
            uow,
            caller,
            body.policy,
            application.verifier_key(),
            alert_after_minutes=body.alert_after_minutes,
            timeout_seconds=body.timeout_seconds,
            attempts=body.attempts,
        )
        return WitnessPolicyOut(**found.to_json())

    @router.get("/ledger/witnesses", tags=["ledger"], **reader)
    def witnesses(caller: Caller = operator) -> WitnessesOut:
        """Each policy witness's last cosignature and last outcome, and whether the latest
        checkpoint meets the quorum."""
        return WitnessesOut(**witnessing.status(uow, caller).to_json())

    @router.post("/ledger/witnesses/gather", tags=["ledger"], **checkpointer)
    def gather(caller: Caller = operator) -> GatherOut:
        """Ask the witnesses now to cosign the latest checkpoint (within the policy's bound);
        what each one did."""
        return GatherOut(**witnessing.gather_now(uow, caller, application.origin).to_json())

    return router
