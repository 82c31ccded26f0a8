"""Offline checking of a ledger export for ``triage verify``: what to read and what to say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from triage.ledger.bounded import InputLimitError, load_json, read_at_most
from triage.ledger.entry import format_time
from triage.ledger.errors import VerificationError
from triage.ledger.export import EXPORT_FORMAT, MAX_HEADER_BYTES, verify_export
from triage.ledger.policy import Policy


def is_export(path: Path) -> bool:
    """Whether the file's first line is a ledger export's header (a receipt's is not)."""
    with path.open("rb") as file:
        first = file.readline(MAX_HEADER_BYTES + 1)
    try:
        header = load_json(first, "header", max_bytes=MAX_HEADER_BYTES)
    except InputLimitError:
        return False
    return isinstance(header, dict) and header.get("format") == EXPORT_FORMAT


def check_export(
    path: Path, key: str | None, kept: list[Path], policy: Policy | None = None
) -> tuple[dict[str, Any], str]:
    """Verify the export at ``path`` (VerificationError if it fails): its JSON and text report.

    ``key`` is the facility's verifier key; without one, the ``policy``'s log lines give it.
    With a policy, the export's checkpoint must carry its quorum of witness cosignatures.
    """
    notes = []
    for checkpoint in kept:
        try:
            with checkpoint.open("rb") as file:
                notes.append(read_at_most(file, MAX_HEADER_BYTES, str(checkpoint)).decode("utf-8"))
        except InputLimitError as exc:
            raise VerificationError(f"{exc}: not a signed checkpoint") from exc
        except UnicodeDecodeError as exc:
            raise VerificationError(f"{checkpoint}: not a signed checkpoint (not text)") from exc
    with path.open("rb") as file:
        verified = verify_export(file, [key] if key else [], notes, policy=policy)
    size = verified.checkpoint.size
    span = (
        f", {format_time(verified.first_at)} to {format_time(verified.last_at)}"
        if verified.first_at is not None and verified.last_at is not None
        else ""
    )
    lines = [
        f"ok: the whole ledger of {verified.origin}, {size} entries{span}, has the root the "
        f"facility signed at size {size}",
        *(f"  and passes through your checkpoint at size {held}" for held in verified.held),
        *([f"  {witnessed_line(policy, verified.witnesses)}"] if policy is not None else []),
        *(
            f"  {count:>8}  {kind}"
            for kind, count in sorted(verified.types.items(), key=lambda item: -item[1])
        ),
    ]
    data = {
        "ok": True,
        "kind": "ledger_export",
        "origin": verified.origin,
        "size": size,
        "first_at": None if verified.first_at is None else format_time(verified.first_at),
        "last_at": None if verified.last_at is None else format_time(verified.last_at),
        "kept_checkpoints": verified.held,
        "witnesses": list(verified.witnesses),
        "entry_types": verified.types,
    }
    return data, "\n".join(lines)


def witnessed_line(policy: Policy, witnesses: tuple[str, ...]) -> str:
    """What a verifier is told of the cosignatures that made the policy's quorum."""
    if not witnesses:
        return policy.explain(witnesses)  # quorum none: no cosignature needed
    return f"witnessed by {', '.join(witnesses)}: quorum met"
