"""`triage ledger`: status, checkpoints, refusals, proofs, export, verification and replay, and
the witnesses that cosign its checkpoints (`triage ledger witnesses`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from triage.domain import witness_policy
from triage.entrypoints.cli.options import DataDir, JsonFlag, Token
from triage.entrypoints.cli.output import emit, fail, progress, warn
from triage.entrypoints.cli.session import session
from triage.errors import IntegrityFailure

app = typer.Typer(
    help="The tamper-evident ledger: verify, checkpoint, prove.", no_args_is_help=True
)
witnesses_app = typer.Typer(
    help="The witnesses that cosign the ledger's checkpoints: policy, status, gathering.",
    no_args_is_help=True,
)
app.add_typer(witnesses_app, name="witnesses")


def refused(
    exc: IntegrityFailure, what: str = "checkpoint refused, nothing was signed"
) -> typer.Exit:
    """The error for a ledger that failed the check before signing (exit 1)."""
    where = f"first bad index {exc.index}: " if exc.index is not None else ""
    return fail(
        f"{what}: {where}{exc} (recorded, and an alert raised; "
        "a running server holds writes until an administrator runs 'triage ledger acknowledge')",
        1,
    )


@app.command("status")
def status(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Print the ledger's size, root and latest checkpoint."""
    from triage.entrypoints.encoding import status_json
    from triage.services import ledger as ledger_service
    from triage.services.proof_encoding import b64

    with session(data_dir, token) as s:
        current = ledger_service.status(s.uow, s.caller)
        origin = s.app.origin
    checkpoint = current.latest_checkpoint
    text = f"origin {origin}\nsize {current.size}\nroot {b64(current.root)}\n" + (
        f"latest checkpoint at size {checkpoint.size}" if checkpoint else "no checkpoint yet"
    )
    emit(as_json, status_json(current, origin), text)


@app.command("checkpoint")
def checkpoint(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Issue, store and print a signed checkpoint of the ledger as it stands, with the
    cosignatures of the witnesses asked for them at once (when a witness policy is set)."""
    from triage.services import witnessing

    with session(data_dir, token) as s:
        try:
            stored, outcomes = witnessing.issue_and_gather(
                s.uow, s.caller, s.app.origin, s.app.signer_key()
            )
        except IntegrityFailure as exc:
            raise refused(exc) from exc
    for outcome in [] if as_json else outcomes:
        if not outcome.cosigned and outcome.outcome != witnessing.NO_URL:
            warn(f"witness {outcome}")
    data = {
        "size": stored.size,
        "checkpoint": stored.note,
        "witnesses": [o.to_json() for o in outcomes],
    }
    emit(as_json, data, stored.note.rstrip("\n"))


@app.command("integrity")
def integrity(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Show whether writes are held after the facility refused to sign its ledger, and why."""
    from triage.services import ledger as ledger_service

    with session(data_dir, token) as s:
        found = ledger_service.latest_refusal(s.uow, s.caller)
    data = {
        "writes_held": found is not None and not found.acknowledged,
        "refusal": None if found is None else found.to_json(),
    }
    if found is None:
        text = "no checkpoint was ever refused; writes are not held"
    else:
        state = "acknowledged; writes not held" if found.acknowledged else "WRITES HELD"
        where = f" first bad index {found.index}:" if found.index is not None else ""
        text = f"checkpoint refused ({state}), alert {found.alert_id}:{where} {found.reason}"
    emit(as_json, data, text)


@app.command("acknowledge")
def acknowledge(
    reason: Annotated[
        str, typer.Option(help="What was found and what is being done (10 characters or more).")
    ],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """An administrator acknowledges a refused checkpoint (recorded in the ledger, the alert
    resolved with the reason): the server accepts writes again. Checkpoints stay refused while
    the ledger still fails the check."""
    from triage.services import ledger as ledger_service

    with session(data_dir, token) as s:
        found = ledger_service.acknowledge_refusal(s.uow, s.caller, reason)
    emit(
        as_json,
        found.to_json(),
        f"acknowledged alert {found.alert_id}: writes resume; checkpoints stay refused while "
        "the ledger fails the check ('triage ledger verify' says where)",
    )


@app.command("prove")
def prove(
    index: Annotated[int, typer.Option(help="Entry index (0-based).", min=0)],
    size: Annotated[int | None, typer.Option(help="Tree size (default: current).", min=1)] = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Print an inclusion proof of one entry as JSON."""
    from triage.services import ledger as ledger_service
    from triage.services.proof_encoding import inclusion_json

    with session(data_dir, token) as s:
        proof = ledger_service.prove_inclusion(s.uow, s.caller, index, size)
    typer.echo(json.dumps(inclusion_json(proof), indent=2))


@app.command("consistency")
def consistency(
    size1: Annotated[int, typer.Option("--from", help="Older tree size.", min=1)],
    size2: Annotated[
        int | None, typer.Option("--to", help="Newer size (default: current).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
) -> None:
    """Print a consistency proof between two tree sizes as JSON."""
    from triage.entrypoints.encoding import consistency_json
    from triage.services import ledger as ledger_service

    with session(data_dir, token) as s:
        proof = ledger_service.prove_consistency(s.uow, s.caller, size1, size2)
    typer.echo(json.dumps(consistency_json(proof), indent=2))


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="The file to write (must not exist yet).")],
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the whole ledger, up to its latest signed checkpoint, to one file that anyone with
    the verifier key checks offline: `triage verify FILE --key VKEY`."""
    from triage.services import ledger as ledger_service

    partial = out.with_name(out.name + ".partial")
    with session(data_dir, token) as s:
        if out.exists():
            raise fail(f"{out} exists; an export never overwrites a file")
        try:
            checkpoint, lines = ledger_service.export(
                s.uow, s.caller, s.app.origin, s.app.verifier_key()
            )
        except IntegrityFailure as exc:
            raise refused(exc, "export refused, nothing was written") from exc
        written = 0
        try:
            with (
                partial.open("xb") as file,
                progress(checkpoint.size, "exporting", not as_json) as at,
            ):
                for line in lines:
                    file.write(line)
                    written += 1
                    if written % 10_000 == 0:
                        at(written - 1)
                file.flush()
                os.fsync(file.fileno())
            partial.rename(out)
        except FileExistsError as exc:
            raise fail(f"{partial} exists: is another export writing it?") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    emit(
        as_json,
        {"file": str(out), "size": checkpoint.size, "checkpoint": checkpoint.note},
        f"exported {checkpoint.size} entries to {out}, up to the checkpoint:\n"
        + checkpoint.note.rstrip("\n"),
    )


@app.command("verify")
def verify(
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
    workers: Annotated[
        int, typer.Option(help="Processes hashing entries (default: one per CPU).", min=1)
    ] = os.cpu_count() or 1,
) -> None:
    """Recompute every leaf and tile from the entries, check every checkpoint; exit 1 on failure."""
    from triage.services import ledger as ledger_service
    from triage.services.proof_encoding import b64, verification_json

    with session(data_dir, token) as s, progress(None, "verifying", not as_json) as advance:
        report = ledger_service.verify(
            s.uow, s.caller, s.app.verifier_key(), s.app.origin, advance, workers=workers
        )
    first = report.first_problem()
    data = {
        **verification_json(report),
        "first_bad_index": None if first is None else first.index,
        "warnings": report.warnings,
    }
    for warning in [] if as_json else report.warnings:
        warn(warning)
    if first is None:
        emit(
            as_json,
            data,
            f"ok: {report.entries_checked} entries, {report.checkpoints_checked} checkpoints "
            f"verified; size {report.size}, root {b64(report.root)}",
        )
        return
    where = f"first bad index {first.index}: " if first.index is not None else ""
    emit(as_json, data, f"FAILED: {where}{first.message} ({len(report.problems)} problem(s))")
    raise typer.Exit(1)


@app.command("replay")
def replay(
    check: Annotated[bool, typer.Option("--check", help="Compare with the live tables.")] = True,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the current-state tables from the entries and compare; exit 1 on a difference."""
    from triage.services import replay as replay_service
    from triage.services.proof_encoding import replay_json

    with session(data_dir, token) as s:
        report = replay_service.check_replay(s.caller, s.app.replay_check)
    data = {**replay_json(report), "notes": list(report.notes)}
    # Notes (credentials set before digests were recorded) are said, never a failure.
    notes = "".join(f"\nnote: {n}" for n in report.notes)
    if not report.differences:
        emit(
            as_json, data, f"ok: {report.entries} entries replayed; {report.rows} rows agree{notes}"
        )
        return
    emit(
        as_json,
        data,
        "FAILED: the tables differ from the ledger:\n"
        + "\n".join(f"  {d}" for d in report.differences)
        + notes,
    )
    raise typer.Exit(1)


# -- `triage ledger witnesses` ------------------------------------------------------------------


@witnesses_app.command("set")
def witnesses_set(
    policy_file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="The policy: witness (name, cosigner key, URL), group and quorum lines of C2SP "
            "tlog-policy; the facility's own log line is added.",
        ),
    ],
    alert_after: Annotated[
        int,
        typer.Option(help="Minutes a checkpoint may stay below quorum before an alert."),
    ] = witness_policy.DEFAULT_ALERT_AFTER_MINUTES,
    timeout: Annotated[
        int, typer.Option(help="Seconds one request to a witness may take.")
    ] = witness_policy.DEFAULT_TIMEOUT_SECONDS,
    attempts: Annotated[
        int, typer.Option(help="Attempts a witness that does not answer gets per round.")
    ] = witness_policy.DEFAULT_ATTEMPTS,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the witness policy (an administrator): which witnesses cosign the checkpoints
    and how many must (recorded in the ledger; a policy that does not parse is refused)."""
    from triage.services import witnessing

    try:
        text = policy_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{policy_file}: cannot read it as UTF-8 text: {exc}") from exc
    with session(data_dir, token) as s:
        found = witnessing.set_policy(
            s.uow,
            s.caller,
            text,
            s.app.verifier_key(),
            alert_after_minutes=alert_after,
            timeout_seconds=timeout,
            attempts=attempts,
        )
    names = ", ".join(w.name for w in found.policy.witnesses) or "none"
    emit(
        as_json,
        found.to_json(),
        f"witness policy recorded: witnesses {names}, quorum {found.policy.quorum}; an alert "
        f"after {found.alert_after_minutes} minutes below quorum. Give verifiers "
        "'triage ledger witnesses policy'",
    )


@witnesses_app.command("show")
def witnesses_show(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Show the witness policy, whether the latest checkpoint meets its quorum, and each
    witness's last cosignature and last outcome."""
    from triage.services import witnessing

    with session(data_dir, token) as s:
        shown = witnessing.status(s.uow, s.caller)
    if shown.policy is None:
        emit(as_json, shown.to_json(), shown.explanation)
        return
    found = shown.policy
    lines = [
        f"quorum {found.policy.quorum}; alert after {found.alert_after_minutes} minutes below "
        f"it; {found.attempts} attempt(s) of {found.timeout_seconds} s per witness",
        shown.explanation + ("" if shown.quorum_met else " (BELOW QUORUM)"),
    ]
    for witness in shown.witnesses:
        cosigned, attempt = witness.last_cosigned, witness.last_attempt
        last = (
            "never cosigned"
            if cosigned is None
            else f"last cosigned size {cosigned.size} at {cosigned.gathered_at:%Y-%m-%d %H:%M:%S}"
        )
        outcome = (
            "never asked"
            if attempt is None
            else f"last asked {attempt.at:%Y-%m-%d %H:%M:%S} (size {attempt.size}): "
            f"{attempt.outcome}: {attempt.detail}"
        )
        lines.append(f"  {witness.name} {witness.url or '(no URL)'}: {last}; {outcome}")
    emit(as_json, shown.to_json(), "\n".join(lines))


@witnesses_app.command("policy")
def witnesses_policy(token: Token = "", data_dir: DataDir = None) -> None:
    """Print the whole witness policy a verifier uses, the facility's log line first: save it
    and check with `triage verify RECEIPT --policy FILE`."""
    from triage.services import witnessing

    with session(data_dir, token) as s:
        found = witnessing.current_policy(s.uow, s.caller)
    typer.echo(found.text, nl=False)


@witnesses_app.command("gather")
def witnesses_gather(
    token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
) -> None:
    """Ask the witnesses now to cosign the latest checkpoint; prints what each one did."""
    from triage.services import witnessing

    with session(data_dir, token) as s:
        gathered = witnessing.gather_now(s.uow, s.caller, s.app.origin)
    outcomes, explanation = gathered.outcomes, gathered.status.explanation
    text = "\n".join([*(str(o) for o in outcomes), explanation])
    emit(as_json, gathered.to_json(), text if outcomes else f"nothing to gather: {explanation}")
