"""`triage` commands for the workflow: operators, tools, consignments, devices, receipts, agent.

The command line runs on the facility's own host with access to its data directory, so it is
still not trusted to say who is acting: every workflow command authenticates with an API token
(``--token`` or ``$TRIAGE_TOKEN``, from ``triage auth login``) and is checked exactly as the API
checks it: scopes, expiry, revocation, bench.
"""

from __future__ import annotations

import secrets
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from triage.adapters.manifest import MAX_MANIFEST_BYTES, ManifestFormatError, parse_manifest
from triage.adapters.replay import replay_check
from triage.bootstrap import App
from triage.domain.bounded import InputLimitError, load_json, read_at_most
from triage.domain.caller import Caller, CallerKind
from triage.domain.people import parse_roles
from triage.domain.roles import Permission, Role
from triage.domain.token import parse_scopes
from triage.entrypoints.cli_auth import token_by_login
from triage.entrypoints.cli_common import DataDir, JsonFlag, Reason, Token, token_caller
from triage.entrypoints.encoding import token_json
from triage.entrypoints.export_check import check_export, is_export
from triage.errors import InvalidInput, PermissionDenied, TriageError
from triage.ledger.errors import VerificationError
from triage.ledger.receipt import MAX_RECEIPT_BYTES, receipt_digest, verify_receipt
from triage.services import assessment, bench, bench_assignment, history, intake, people, seals
from triage.services import facility as facility_service
from triage.services.auth import issue_activation as issue_activation_code
from triage.services.common import now
from triage.services.intake import ManifestRejected

DEMO_BENCH = "B1"  # the bench the demo's bench operator and supervisor tokens are for
MAX_EVIDENCE_BYTES = 1024 * 1024  # as much as the API takes
DeviceArg = Annotated[
    str, typer.Argument(help="Device ID as scanned, e.g. BC-33-AC-FF-FE-FA-55-3D.")
]

operator_app = typer.Typer(help="Operators and their API tokens.", no_args_is_help=True)
tool_app = typer.Typer(help="Triage Tools enrolled at the benches.", no_args_is_help=True)
consignment_app = typer.Typer(help="Consignments of returned devices.", no_args_is_help=True)
device_app = typer.Typer(help="Devices through triage, from scan to release.", no_args_is_help=True)
agent_app = typer.Typer(help="The bench agent beside a Triage Tool.", no_args_is_help=True)
facility_app = typer.Typer(help="The facility's settings.", no_args_is_help=True)


def register(app: typer.Typer, open_app: Any, emit: Any, fail: Any) -> None:
    """Add the workflow commands to the main app (helpers come from cli.py)."""

    def job_command(
        data_dir: Path | None, as_json: bool, token: str, device: str, run: Any
    ) -> None:
        """Run ``run(app, caller, job_id)`` on the device's open job and print the new state."""
        _job_command(open_app, emit, data_dir, as_json, token, device, run)

    # -- operators --------------------------------------------------------------------------
    @operator_app.command("add")
    def operator_add(
        operator_id: Annotated[str, typer.Argument(help="Short id, e.g. 'j.smith'.")],
        name: Annotated[str, typer.Option(help="Display name.")],
        role: Annotated[list[str], typer.Option(help="Role (repeat for several).")],
        token: Token = "",
        issue_activation: Annotated[
            bool,
            typer.Option(
                help="Also issue their one-time activation code (the first "
                "administrator always gets one)."
            ),
        ] = False,
        issue_token: Annotated[
            bool, typer.Option(hidden=True, help="Refused: nobody is issued someone's token.")
        ] = False,
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Register an operator. The first administrator is created by the host's own user and
        given an activation code: they set a password and a second factor, then sign in."""
        if issue_token:
            raise fail(
                "--issue-token: nobody is issued a token by someone else. Use "
                "--issue-activation: the operator sets a password and second factor with the "
                "code, then signs in for a token of their own ('triage auth login')"
            )
        with open_app(data_dir) as application:
            try:
                roles = parse_roles(role)
            except ValueError as exc:
                raise InvalidInput(f"role: {exc}") from exc
            caller = _admin_or_bootstrap(application, token)
            created = people.create_operator(application.uow, caller, operator_id, name, roles)
            # The host bootstrapping the first administrator hands over an activation code, not
            # a token: no credential here ever skips the second factor.
            bootstrap = caller.kind is CallerKind.SYSTEM
            code = (
                issue_activation_code(application.uow, caller, created.id)
                if issue_activation or bootstrap
                else None
            )
            data = {"operator": created.id, "roles": sorted(r.value for r in created.roles)}
            text = f"operator {created.id} created with roles {', '.join(data['roles'])}"
            if code is not None:
                data["activation_code"] = code
                text += (
                    f"\nactivation code (shown once, valid 72 h): {code}\n"
                    f"then: triage auth activate {created.id} --code CODE --password-stdin; "
                    f"triage auth confirm {created.id} --code CODE --totp NNNNNN; "
                    f"triage auth login {created.id} --password-stdin --totp NNNNNN"
                )
            emit(as_json, data, text)

    @operator_app.command("token")
    def operator_token(
        operator_id: Annotated[
            str | None,
            typer.Argument(help="Yourself (the default); a token for anyone else is refused."),
        ] = None,
        token: Token = "",
        label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
        scope: Annotated[
            list[str] | None,
            typer.Option(help="Limit to a permission, or 'read-only' (repeat; default: roles)."),
        ] = None,
        days: Annotated[
            int | None,
            typer.Option(
                help="Days until it expires: at most the facility's maximum and never beyond "
                "the token asking (default: 90, or as long as allowed)."
            ),
        ] = None,
        bench_name: Annotated[
            str | None, typer.Option("--bench", help="The bench this token is used at.")
        ] = None,
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Issue yourself another API token from yours (shown once; only its hash is stored):
        never wider or longer-lived than yours."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            try:
                scopes = parse_scopes(scope or [])
            except ValueError as exc:
                raise fail(str(exc)) from exc
            issued = people.issue_token(
                application.uow,
                caller,
                caller.id if operator_id is None else operator_id,
                label,
                scopes=scopes,
                days=days,
                bench=bench_name,
                max_days=application.settings.token_max_days,
            )
            emit(as_json, {"token": issued.secret, "token_id": issued.token_id}, issued.secret)

    @operator_app.command("tokens")
    def operator_tokens(
        operator_id: Annotated[
            str | None, typer.Argument(help="Whose tokens (default: everyone's).")
        ] = None,
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """API tokens and their state (never their secrets)."""
        with open_app(data_dir) as application:
            found = people.list_tokens(
                application.uow, token_caller(application, token), operator_id
            )
        at = now()
        rows = [token_json(t, at) for t in found]
        text = "\n".join(
            f"{r['id']:18} {r['operator_id']:16} {r['state']:8} {r['expires_at']:26} {r['label']}"
            for r in rows
        )
        emit(as_json, {"items": rows}, text or "no tokens")

    @operator_app.command("revoke-token")
    def operator_revoke_token(
        token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
        reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Revoke an API token at once."""
        with open_app(data_dir) as application:
            revoked = people.revoke_token(
                application.uow, token_caller(application, token), token_id, reason
            )
        emit(as_json, token_json(revoked, now()), f"token {revoked.id} revoked")

    @operator_app.command("roles")
    def operator_roles(
        operator_id: Annotated[str, typer.Argument(help="The operator.")],
        role: Annotated[list[str], typer.Option(help="Role (repeat for several).")],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Give an operator a new set of roles (recorded in the ledger)."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            try:
                roles = parse_roles(role)
            except ValueError as exc:
                raise fail(f"role: {exc}") from exc
            changed = people.change_roles(application.uow, caller, operator_id, roles)
        names = sorted(r.value for r in changed.roles)
        emit(as_json, {"operator": changed.id, "roles": names}, f"{changed.id}: {', '.join(names)}")

    @operator_app.command("benches")
    def operator_benches(
        operator_id: Annotated[str, typer.Argument(help="The operator.")],
        bench: Annotated[
            list[str] | None, typer.Option(help="A bench they work at (repeat for several).")
        ] = None,
        clear: Annotated[bool, typer.Option(help="Take every bench away from them.")] = False,
        reason: Reason = "",
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Assign an operator's benches (recorded): they sign in, and order work, only there."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            if bool(bench) == clear:
                raise fail("give the benches (--bench, repeat for several) or --clear, not both")
            done = bench_assignment.assign_benches(
                application.uow, caller, operator_id, bench or [], reason
            )
        emit(
            as_json,
            {"operator": done.operator_id, "benches": done.benches, "previous": done.previous},
            f"{done.operator_id}: benches {', '.join(done.benches) or 'none'} "
            f"(before: {', '.join(done.previous) or 'none'})",
        )

    @operator_app.command("list")
    def operator_list(
        token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
    ) -> None:
        """Operators, their roles and their benches."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            caller.require(Permission.OPERATOR_MANAGE, Permission.ACCESS_REVIEW)
            with application.uow(write=False) as uow:
                found = uow.triage.operators()
                assigned = uow.triage.bench_assignments()
        rows = [
            {
                "id": o.id,
                "name": o.name,
                "roles": sorted(r.value for r in o.roles),
                "benches": assigned.get(o.id, []),
                "active": o.active,
                "suspended": o.suspended,
                "mfa_enrolled": o.mfa_enrolled,
            }
            for o in found
        ]
        text = "\n".join(
            f"{r['id']:20} {','.join(r['roles']):40} {','.join(r['benches']) or '-':12} {r['name']}"
            for r in rows
        )
        emit(as_json, {"items": rows}, text or "no operators yet")

    @app.command("demo")
    def demo(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
        """Create demo staff (one per role) if missing and print a fresh API token for each,
        minted by their own sign-in (the demo administrator's on the first run only)."""
        staff = [
            ("demo-admin", "Demo Administrator", Role.ADMINISTRATOR),
            ("demo-supervisor", "Demo Supervisor", Role.SUPERVISOR),
            ("demo-bench", "Demo Bench Operator", Role.BENCH_OPERATOR),
            ("demo-stores", "Demo Stores", Role.STORES),
            ("demo-security", "Demo Security Manager", Role.SECURITY_MANAGER),
            ("demo-auditor", "Demo Auditor", Role.AUDITOR),
        ]
        with open_app(data_dir) as application:
            with application.uow(write=False) as uow:
                known = {o.id for o in uow.triage.operators()}
            real = sorted(o for o in known if not o.startswith("demo-"))
            if real:
                # Demo staff are enrolled by the host, with nobody present: never beside real
                # people.
                raise PermissionDenied(
                    f"this facility has real operators ({', '.join(real[:3])}); "
                    "demo staff are only for a demo facility"
                )
            if "demo-admin" not in known:
                people.create_operator(
                    application.uow,
                    _admin_or_bootstrap(application, ""),
                    "demo-admin",
                    "Demo Administrator",
                    frozenset({Role.ADMINISTRATOR}),
                )
            admin = people.operator_caller(application.uow, "demo-admin")
            benches: dict[str, str] = {}
            for operator_id, name, role in staff:
                if operator_id not in known and role is not Role.ADMINISTRATOR:
                    people.create_operator(
                        application.uow, admin, operator_id, name, frozenset({role})
                    )
                at_bench = role in (Role.BENCH_OPERATOR, Role.SUPERVISOR)
                if at_bench:
                    # Assigned by the administrator: nobody works at a bench they just name.
                    bench_assignment.assign_benches(
                        application.uow, admin, operator_id, [DEMO_BENCH], "demo bench"
                    )
                    benches[operator_id] = DEMO_BENCH
            demo_seals = _demo_seals(application)
            _demo_commissioning(application, admin)
            logins, spare = _demo_logins(application, admin, [who for who, _, _ in staff], known)
            # Each token is minted by its own person's sign-in with the second factor, never by
            # the administrator for them.
            days = min(7, application.settings.token_max_days)
            tokens = {
                who: token_by_login(
                    application, who, logins[who]["password"], spare[who], benches.get(who),
                    days, "demo",
                ).secret
                for who in logins
            }  # fmt: skip
        emit(
            as_json,
            {"tokens": tokens, "seals": demo_seals, "web": logins},
            "demo staff (send as 'Authorization: Bearer TOKEN'):\n"
            + "\n".join(f"  {who:16} {token}" for who, token in tokens.items())
            + (
                ""
                if "demo-admin" in tokens
                else "\n  demo-admin: token and sign-in shown by the first 'triage demo' only "
                "(nobody re-enrols their own login); sign in with its password"
            )
            + "\ndemo seals: "
            + "; ".join(
                f"{first}..{last} issued to {who}" for who, (first, last) in demo_seals.items()
            )
            + "\nweb sign-in: password, then the one-time code (or a code from an authenticator "
            "holding the TOTP secret); bench operators and supervisors give bench B1:\n"
            + "\n".join(
                f"  {who:16} password {w['password']}  code {w['recovery_code']}  "
                f"TOTP secret {w['totp_secret']}"
                for who, w in logins.items()
            ),
        )

    def _demo_logins(
        application: App, admin: Caller, staff_ids: list[str], known: set[str]
    ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """Fresh web credentials for the demo staff (the demo administrator's only the first
        time: nobody may re-enrol their own login), and for each a spare recovery code with
        which the demo signs them in for their token."""
        import pyotp

        from triage.services import auth

        logins = {}
        spare = {}
        for operator_id in staff_ids:
            if operator_id == admin.id and operator_id in known:
                continue
            code = auth.issue_activation(application.uow, admin, operator_id)
            password = "demo-" + secrets.token_urlsafe(12)
            box = application.secret_box()
            secret, _ = auth.activate(application.uow, operator_id, code, password, box=box)
            recovery = auth.confirm_mfa(
                application.uow, operator_id, code, pyotp.TOTP(secret).now(), box=box
            )
            logins[operator_id] = {
                "password": password,
                "recovery_code": recovery[0],
                "totp_secret": secret,
            }
            spare[operator_id] = recovery[1]
        return logins, spare

    def _demo_commissioning(application: App, admin: Caller) -> None:
        """The demo provider as a SEC Party, in commissioning mode (renewed for 30 days)."""
        current = assessment.status(application.uow, admin)
        if current["party"] is None:
            assessment.record_party(
                application.uow, admin, "DEMO-1", "Demo Triage Provider Ltd", ["Other SEC Party"]
            )
        if not current["may_triage"] or current["commissioning"] is not None:
            if current["commissioning"] is not None:
                assessment.end_commissioning(application.uow, admin, "renewed by triage demo")
            assessment.start_commissioning(
                application.uow,
                admin,
                datetime.now(UTC) + timedelta(days=30),
                "demo facility: test devices only",
            )

    def _demo_seals(application: App) -> dict[str, tuple[str, str]]:
        """A batch of demo seals in the store, some issued to the bench and the supervisor."""
        held = {
            "demo-bench": ("DEMO-0001", "DEMO-0020"),
            "demo-supervisor": ("DEMO-0021", "DEMO-0030"),
        }
        stores = people.operator_caller(application.uow, "demo-stores")
        if not seals.batches(application.uow, stores, 0, 1)[1]:
            seals.receive_batch(
                application.uow,
                stores,
                supplier="Demo Seal Supplier",
                delivery_reference="DEMO-DN-1",
                iso_class="H",
                class_description=None,
                store="STORE-1",
                first="DEMO-0001",
                last="DEMO-0100",
            )
            for who, (first, last) in held.items():
                seals.issue(application.uow, stores, who, first=first, last=last)
        return held

    @facility_app.command("settings")
    def facility_settings(
        token: Token = "",
        max_reset_attempts: Annotated[
            int | None, typer.Option(help="Reset attempts per job before quarantine.")
        ] = None,
        work_order_minutes: Annotated[
            int | None, typer.Option(help="How long a work order stays valid.")
        ] = None,
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Show or change the facility's triage settings (changes are ledger entries)."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            if max_reset_attempts is None and work_order_minutes is None:
                with application.uow(write=False) as uow:
                    attempts, minutes = uow.triage.settings()
            else:
                attempts, minutes = facility_service.change_settings(
                    application.uow, caller, max_reset_attempts, work_order_minutes
                )
        emit(
            as_json,
            {"max_reset_attempts": attempts, "work_order_minutes": minutes},
            f"max reset attempts {attempts}; work orders valid for {minutes} minutes",
        )

    # -- tools ------------------------------------------------------------------------------
    @tool_app.command("enrol")
    def tool_enrol(
        tool_id: Annotated[str, typer.Argument(help="The tool's id, e.g. BENCH-1.")],
        bench_name: Annotated[str, typer.Option("--bench", help="The bench it sits at.")],
        key: Annotated[
            str, typer.Option(help="The tool's verifier key (from 'triage agent keygen').")
        ],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Enrol a Triage Tool by its public key."""
        with open_app(data_dir) as application:
            enrolled = people.enrol_tool(
                application.uow, token_caller(application, token), tool_id, bench_name, key
            )
            emit(
                as_json,
                {"tool": enrolled.id, "bench": enrolled.bench},
                f"tool {enrolled.id} enrolled",
            )

    # -- consignments -----------------------------------------------------------------------
    @consignment_app.command("import")
    def consignment_import(
        manifest: Annotated[
            Path, typer.Argument(help="CSV or JSON manifest.", exists=True, dir_okay=False)
        ],
        reference: Annotated[str, typer.Option(help="The asset owner's consignment reference.")],
        asset_owner: Annotated[str, typer.Option(help="Who returned the devices.")],
        token: Token = "",
        skip_invalid: Annotated[
            bool, typer.Option(help="Import the good rows and list the bad ones.")
        ] = False,
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Import a consignment manifest: all rows or none, unless --skip-invalid."""
        kind = "json" if manifest.suffix.lower() == ".json" else "csv"
        with open_app(data_dir) as application:
            # Who is asking comes first: nobody learns anything about a file unsigned-in.
            caller = token_caller(application, token)
            try:
                rows = parse_manifest(_read_limited(manifest, MAX_MANIFEST_BYTES, "manifest"), kind)
            except (ManifestFormatError, InputLimitError) as exc:
                raise fail(f"{manifest}: {exc}") from exc
            with _progress_bar(len(rows) + 1, not as_json) as advance:
                try:
                    report = intake.import_manifest(
                        application.uow, caller, reference, asset_owner, rows, skip_invalid, advance
                    )
                except ManifestRejected as exc:
                    lines = "\n".join(f"  {p}" for p in exc.problems)
                    raise fail(
                        f"{len(exc.problems)} bad row(s) in {manifest}, nothing imported:\n"
                        f"{lines}\nFix them, or import the good rows with --skip-invalid."
                    ) from exc
        data = {
            "consignment_id": report.consignment_id,
            "imported": report.imported,
            "rejected": [
                {"line": p.line, "field": p.field, "problem": p.problem} for p in report.problems
            ],
        }
        text = f"consignment {report.consignment_id}: {report.imported} device(s) expected"
        if report.problems:
            text += f"\n{len(report.problems)} row(s) skipped:\n" + "\n".join(
                f"  {p}" for p in report.problems
            )
        emit(as_json, data, text)

    @consignment_app.command("close")
    def consignment_close(
        consignment_id: str, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
    ) -> None:
        """Close a consignment and report what was expected but never arrived."""
        with open_app(data_dir) as application:
            closed, missing = intake.close_consignment(
                application.uow, token_caller(application, token), consignment_id
            )
        text = f"consignment {closed.id} closed: {closed.arrived} of {closed.expected} arrived"
        if missing:
            text += "\nnever arrived:\n" + "\n".join(f"  {d}" for d in missing)
        emit(as_json, {"consignment_id": closed.id, "never_arrived": missing}, text)

    # -- devices ----------------------------------------------------------------------------
    @device_app.command("scan")
    def device_scan(
        device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
    ) -> None:
        """A device arrives at the facility."""
        with open_app(data_dir) as application:
            result = intake.scan_device(application.uow, token_caller(application, token), device)
        data = {
            "device_id": result.device_id,
            "job_id": result.job.id if result.job else None,
            "state": result.job.state.value if result.job else None,
            "exception_id": result.exception_id,
            "message": result.message,
        }
        emit(as_json, data, f"{result.device_id}: {result.message}")

    @device_app.command("inspect")
    def device_inspect(
        device: DeviceArg,
        evidence: Annotated[
            Path, typer.Option(help="JSON file of the inspection ('-' for stdin).")
        ],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Record the inspection; prints the policy's decision with every reason."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            try:
                raw = _read_limited(evidence, MAX_EVIDENCE_BYTES, "evidence")
                obj = load_json(raw, "evidence", max_bytes=MAX_EVIDENCE_BYTES)
            except InputLimitError as exc:
                raise fail(str(exc)) from exc
            if not isinstance(obj, dict):
                raise fail("evidence: must be a JSON object")
            job_id = history.open_job_id(application.uow, caller, device)
            decision = bench.inspect(application.uow, caller, job_id, obj)
        lines = [
            f"decision: {decision.outcome.value} "
            f"(policy {decision.policy_id} v{decision.policy_version})"
        ]
        lines += [f"  - {r.text}" for r in decision.reasons]
        emit(as_json, decision.to_json(), "\n".join(lines))

    @device_app.command("override")
    def device_override(
        device: DeviceArg,
        outcome: Annotated[str, typer.Option(help="eligible, quarantine or reverify_metrology.")],
        justification: Annotated[str, typer.Option(help="Why, in writing.")],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """A supervisor overrides the policy's decision."""
        job_command(
            data_dir,
            as_json,
            token,
            device,
            lambda app, c, j: bench.override(app.uow, c, j, outcome, justification),
        )

    @device_app.command("reset")
    def device_reset(
        device: DeviceArg,
        tool: Annotated[str, typer.Option(help="The tool at this bench.")],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Issue a signed work order for the bench's tool to factory-reset the device."""
        with open_app(data_dir) as application:
            caller = token_caller(application, token)
            job_id = history.open_job_id(application.uow, caller, device)
            signed = bench.authorise_reset(
                application.uow, caller, job_id, tool, application.signer_key()
            )
        emit(as_json, {"job_id": job_id, "work_order": signed}, f"work order issued to {tool}")

    @device_app.command("seal")
    def device_seal(
        device: DeviceArg,
        serial: Annotated[str, typer.Option(help="The seal's serial number (scan it).")],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Record the tamper-protection seal fitted to a verified device."""
        job_command(
            data_dir,
            as_json,
            token,
            device,
            lambda app, c, j: bench.seal(app.uow, c, j, serial),
        )

    @device_app.command("release")
    def device_release(
        device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
    ) -> None:
        """Release a sealed device."""
        job_command(
            data_dir,
            as_json,
            token,
            device,
            lambda app, c, j: bench.release(app.uow, c, j),
        )

    @device_app.command("quarantine")
    def device_quarantine(
        device: DeviceArg,
        reason: Annotated[str, typer.Option(help="Why.")],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Set a device aside."""
        job_command(
            data_dir,
            as_json,
            token,
            device,
            lambda app, c, j: bench.quarantine(app.uow, c, j, reason),
        )

    @device_app.command("dispose")
    def device_dispose(
        device: DeviceArg,
        action: Annotated[str, typer.Option(help="'return' to the manufacturer or 'destroy'.")],
        reference: Annotated[
            str, typer.Option(help="Returns authorisation or destruction certificate.")
        ],
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Return a quarantined device to its manufacturer, or destroy it."""
        job_command(
            data_dir,
            as_json,
            token,
            device,
            lambda app, c, j: bench.dispose(app.uow, c, j, action, reference),
        )

    @device_app.command("history")
    def device_history(
        device: DeviceArg, token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False
    ) -> None:
        """Every ledger entry about the device, across all its jobs."""
        with open_app(data_dir) as application:
            found = history.device_history(
                application.uow, token_caller(application, token), device
            )
        data = {
            "device_id": found.device_id,
            "jobs": [{"id": j.id, "state": j.state.value} for j in found.jobs],
            "entries": [{"index": i, "entry": e.to_json()} for i, e in found.entries],
        }
        text = "\n".join(
            f"{i:>8}  {e.at:%Y-%m-%d %H:%M:%S}  {e.type:32} by {e.actor.kind} {e.actor.id}"
            + (f"  -> {e.data['state']}" if "state" in e.data else "")
            for i, e in found.entries
        )
        emit(as_json, data, f"device {found.device_id}\n{text}")

    @device_app.command("receipt")
    def device_receipt(
        device: DeviceArg,
        out: Annotated[Path, typer.Option(help="Where to write the receipt JSON.")],
        token: Token = "",
        data_dir: DataDir = None,
    ) -> None:
        """Write the device's offline receipt (entries, proofs, signed checkpoint)."""
        with open_app(data_dir) as application:
            receipt = application.receipt(token_caller(application, token), device)
        out.write_text(receipt)
        typer.echo(f"receipt written to {out}")

    @device_app.command("certificate")
    def device_certificate(
        device: DeviceArg,
        out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
        token: Token = "",
        data_dir: DataDir = None,
    ) -> None:
        """Write the triage certificate (PDF with a QR code) of a released device."""
        with open_app(data_dir) as application:
            out.write_bytes(application.certificate(token_caller(application, token), device))
        typer.echo(f"certificate written to {out}")

    # -- verification of receipts -----------------------------------------------------------
    @app.command("verify")
    def verify(
        receipt: Annotated[
            Path,
            typer.Argument(
                help="A device's receipt, or a ledger export (`triage ledger export`).",
                exists=True,
                dir_okay=False,
            ),
        ],
        key: Annotated[str, typer.Option(help="The facility's verifier key.")],
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
        """Check a receipt or a whole ledger export offline with nothing but the facility's
        verifier key (and, for an export, the checkpoints you kept)."""
        if is_export(receipt):
            try:
                report, text = check_export(receipt, key, checkpoint or [])
            except VerificationError as exc:
                emit(as_json, {"ok": False, "error": str(exc)}, f"FAILED: {exc}")
                raise typer.Exit(1) from exc
            emit(as_json, report, text)
            return
        if checkpoint:
            raise fail("--checkpoint: only a ledger export is checked against kept checkpoints")
        try:
            data = _read_limited(receipt, MAX_RECEIPT_BYTES, "receipt")
            verified = verify_receipt(data, [key])
        except (VerificationError, InputLimitError) as exc:
            emit(as_json, {"ok": False, "error": str(exc)}, f"FAILED: {exc}")
            raise typer.Exit(1) from exc
        lines = [
            f"ok: {len(verified.entries)} entries about {verified.subject.kind} "
            f"{verified.subject.id} are in {verified.origin} at size {verified.checkpoint.size}",
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
                "digest": receipt_digest(data, verified),
                "entries": [{"index": i, "entry": e.to_json()} for i, e in verified.entries],
            },
            "\n".join(lines),
        )

    # -- agent ------------------------------------------------------------------------------
    @agent_app.command("keygen")
    def agent_keygen(
        tool_id: Annotated[str, typer.Option(help="The tool's id.")],
        out: Annotated[Path, typer.Option(help="Where to keep the private key (mode 0600).")],
    ) -> None:
        """Create a tool's key pair on the bench; prints the verifier key to enrol."""
        from triage.entrypoints.agent import generate_tool_key

        try:
            typer.echo(generate_tool_key(tool_id, out))
        except FileExistsError as exc:
            raise fail(f"{out} exists; a tool key is never overwritten") from exc

    @agent_app.command("run")
    def agent_run(
        server: Annotated[
            str, typer.Option(help="The facility server, e.g. http://127.0.0.1:8000.")
        ],
        tool_id: Annotated[str, typer.Option(help="This tool's id.")],
        key: Annotated[Path, typer.Option(help="This tool's private key file.")],
        facility_key: Annotated[str, typer.Option(help="The facility's verifier key.")],
        state_dir: Annotated[Path, typer.Option(help="Where the agent keeps its replay record.")],
        connector: Annotated[str, typer.Option(help="Device connector plugin.")] = "simulated",
        option: Annotated[
            list[str] | None, typer.Option(help="Connector option NAME=VALUE (repeatable).")
        ] = None,
        once: Annotated[bool, typer.Option(help="Handle waiting orders, then exit.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
    ) -> None:
        """Run the bench agent: verify work orders, reset devices, report signed results."""
        import logging

        from triage.adapters.devices.base import load_connector
        from triage.entrypoints.agent import (
            Agent,
            AgentClient,
            AgentError,
            Journal,
            load_tool_key,
        )

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        options = dict(o.split("=", 1) for o in option or [] if "=" in o)
        try:
            signer = load_tool_key(key)
            device_connector = load_connector(
                connector, facility_verifier_key=facility_key, tool_id=tool_id, **options
            )
        except (AgentError, TriageError, OSError, TypeError) as exc:
            raise fail(str(exc)) from exc
        client = AgentClient(server, tool_id, signer)
        agent = Agent(
            client,
            device_connector,
            tool_id,
            signer,
            facility_key,
            Journal(state_dir / "journal", legacy_nonces=state_dir / "used-nonces"),
        )
        stopping: list[bool] = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            if once:
                agent.run_once()
            else:
                agent.run(interval, stop=lambda: bool(stopping))
        except AgentError as exc:
            raise fail(str(exc)) from exc
        finally:
            client.close()

    app.add_typer(operator_app, name="operator")
    app.add_typer(tool_app, name="tool")
    app.add_typer(consignment_app, name="consignment")
    app.add_typer(device_app, name="device")
    app.add_typer(agent_app, name="agent")
    app.add_typer(facility_app, name="facility")


def _read_limited(path: Path, limit: int, what: str) -> bytes:
    """The file (or stdin for '-'), refused once it passes ``limit`` bytes: a device such as
    /dev/zero, or a file of many GiB, is never read to the end."""
    if str(path) == "-":
        return read_at_most(sys.stdin.buffer, limit, what)
    with path.open("rb") as file:
        return read_at_most(file, limit, what)


def _admin_or_bootstrap(application: App, token: str) -> Caller:
    """The administrator acting, or the host itself while there is no administrator yet."""
    with application.uow(write=False) as uow:
        admins = [o for o in uow.triage.operators() if Role.ADMINISTRATOR in o.roles and o.active]
    if token:
        return token_caller(application, token)
    if admins:
        raise PermissionDenied("an administrator exists: sign in as one (--token or $TRIAGE_TOKEN)")
    return Caller.system("first-administrator")


def _job_command(
    open_app: Any,
    emit: Any,
    data_dir: Path | None,
    as_json: bool,
    token: str,
    device: str,
    run: Any,
) -> None:
    with open_app(data_dir) as application:
        caller = token_caller(application, token)
        job_id = history.open_job_id(application.uow, caller, device)
        job = run(application, caller, job_id)
    emit(
        as_json,
        {"job_id": job.id, "device_id": job.device_id, "state": job.state.value},
        f"{job.device_id}: {job.state.value}",
    )


class _progress_bar:
    """A progress bar on standard error for long imports (quiet when not a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._total = total
        self._enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self._enabled:
            return lambda _done: None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.__enter__()
        task = self._bar.add_task("importing", total=self._total)
        return lambda done: self._bar.update(task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def replay_command(app: typer.Typer, ledger_app: typer.Typer, open_app: Any, emit: Any) -> None:
    """`triage ledger replay --check`."""

    @ledger_app.command("replay")
    def ledger_replay(
        check: Annotated[
            bool, typer.Option("--check", help="Compare with the live tables.")
        ] = True,
        token: Token = "",
        data_dir: DataDir = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Rebuild the current-state tables from the entries and compare; exit 1 on a difference."""
        with open_app(data_dir) as application:
            token_caller(application, token, Permission.LEDGER_READ)
            report = replay_check(application.database, application.facility.id)
        data = {
            "ok": not report.differences,
            "entries": report.entries,
            "rows": report.rows,
            "differences": [str(d) for d in report.differences],
            "notes": report.notes,
        }
        # Notes (credentials set before digests were recorded) are said, never a failure.
        notes = "".join(f"\nnote: {n}" for n in report.notes)
        if not report.differences:
            emit(
                as_json,
                data,
                f"ok: {report.entries} entries replayed; {report.rows} rows agree{notes}",
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
