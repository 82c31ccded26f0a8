"""`triage verify`: a receipt or a ledger export checked offline, with the verifier key only, or
with a witness policy whose quorum of cosignatures stands in for a checkpoint the reader kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from triage.domain.bounded import InputLimitError
from triage.domain.signed_document import FORMAT as DOCUMENT_FORMAT
from triage.domain.signed_document import verify_document
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import JsonFlag
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.export_check import check_export, is_export, witnessed_line
from triage.ledger.errors import VerificationError
from triage.ledger.policy import MAX_POLICY_BYTES, Policy, PolicyError, parse_policy
from triage.ledger.receipt import DIGEST_LABEL, MAX_RECEIPT_BYTES, receipt_digest, verify_receipt


def verify(
    receipt: Annotated[
        Path,
        typer.Argument(
            help="A device's receipt, a signed document (a dispatch note, an outcome report, "
            "an acknowledgement), or a ledger export (`triage ledger export`).",
            exists=True,
            dir_okay=False,
        ),
    ],
    key: Annotated[
        str | None,
        typer.Option(
            help="The facility's verifier key (or a signed document's signer's); optional "
            "with --policy, whose log line gives it."
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            help="A witness policy (C2SP tlog-policy: log, witnesses, quorum): the receipt's "
            "or export's checkpoint must carry its quorum of witness cosignatures, and then "
            "no checkpoint kept from before is needed to trust it.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            help="A signed checkpoint you kept from before (a file; repeat): a ledger "
            "export must pass through each.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a receipt, a signed document (a dispatch note, an outcome report, an asset owner's
    acknowledgement: the signer's verifier key) or a whole ledger export offline with nothing
    but the verifier key or a witness policy (and, for an export, the checkpoints you kept)."""
    if key is None and policy is None:
        raise fail(
            "give --key (the facility's verifier key) or --policy (a witness policy whose "
            "log line names the facility's key)"
        )
    rules = _load_policy(policy) if policy is not None else None
    if is_export(receipt):
        try:
            report, text = check_export(receipt, key, checkpoint or [], rules)
        except VerificationError as exc:
            emit(as_json, {"ok": False, "error": str(exc)}, f"FAILED: {exc}")
            raise typer.Exit(1) from exc
        emit(as_json, report, text)
        return
    if checkpoint:
        raise fail("--checkpoint: only a ledger export is checked against kept checkpoints")
    try:
        data = read_limited(receipt, MAX_RECEIPT_BYTES, "receipt")
        if _is_signed_document(data):
            if key is None:
                raise fail("a signed document is checked with its signer's key: give --key")
            _verify_document(data, key, as_json)
            return
        verified = verify_receipt(data, [key] if key else [], rules)
    except (VerificationError, InputLimitError) as exc:
        emit(as_json, {"ok": False, "error": str(exc)}, f"FAILED: {exc}")
        raise typer.Exit(1) from exc
    digest = receipt_digest(data, verified)
    lines = [
        f"ok: {len(verified.entries)} entries about {verified.subject.kind} "
        f"{verified.subject.id} are in {verified.origin} at size {verified.checkpoint.size}",
        *([f"  {witnessed_line(rules, verified.witnesses)}"] if rules is not None else []),
        # What a certificate prints under its QR code, to be compared with this line.
        f"{DIGEST_LABEL} {digest}",
        *(
            f"  {i:>8}  {e.at:%Y-%m-%d %H:%M:%S}  {e.type}"
            + (f" -> {e.data['state']}" if "state" in e.data else "")
            for i, e in verified.entries
        ),
    ]
    emit(
        as_json,
        {
            "ok": True,
            "origin": verified.origin,
            "subject": verified.subject.to_json(),
            "checkpoint_size": verified.checkpoint.size,
            "witnesses": list(verified.witnesses),
            "digest": digest,
            "entries": [{"index": i, "entry": e.to_json()} for i, e in verified.entries],
        },
        "\n".join(lines),
    )


def _load_policy(path: Path) -> Policy:
    """The witness policy in the file at ``path``; a usage error (exit 2) naming what is wrong."""
    try:
        return parse_policy(read_limited(path, MAX_POLICY_BYTES, str(path)).decode("utf-8"))
    except InputLimitError as exc:
        raise fail(f"--policy: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise fail(f"--policy {path}: not UTF-8 text (at byte {exc.start})") from exc
    except PolicyError as exc:
        raise fail(f"--policy {path}: {exc}") from exc


def _verify_document(data: bytes, key: str, as_json: bool) -> None:
    """Any kind of signed document, one verifier for all (VerificationError when it fails)."""
    found = verify_document(data, [key])
    emit(
        as_json,
        {"ok": True, "kind": found.kind, "sha256": found.digest, "document": found.document},
        f"ok: a {found.kind} signed by this key, unchanged since (sha256 {found.digest})",
    )


def _is_signed_document(data: bytes) -> bool:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(body, dict) and body.get("format") == DOCUMENT_FORMAT
