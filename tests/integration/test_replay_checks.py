"""Replay checks everything derived from the ledger (issue 16, attacks 6, 10 and 11).

Each attack is a change made straight to the database by someone who can write to it, and
each used to pass `triage ledger verify` and `triage ledger replay --check`:

* 6: ``update triage_job set state='sealed'`` on a verified job, then a legitimate release:
  released without a seal, the history reading ``reset.verified -> device.released``.
* 10: ``delete from ledger_subject`` of a ``device.released`` entry's index row: the release
  vanishes from the device's history and receipt.
* 11: an ``api_token`` row un-revoked, widened or extended, a token row added, or
  ``operator_credential.password_hash`` (or the sealed TOTP secret) swapped.

Now replay names each one; and a step on a job whose register disagrees with its ledger is
refused (409) with a security alert recorded in the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from bench.checks import check_lifecycle, read_ledger
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from tests.integration.conftest import Staffed
from tests.integration.ledger_rows import entry_data, set_entry
from triage.adapters.passwords import Argon2Passwords
from triage.adapters.replay import replay_check
from triage.adapters.tables import api_token, ledger_subject, operator_credential, triage_job
from triage.domain.lifecycle import Action, JobState
from triage.domain.roles import Permission
from triage.entrypoints.asgi import create_app
from triage.entrypoints.cli import app as cli
from triage.entrypoints.statuses import status_of
from triage.errors import Conflict
from triage.ledger.entry import Entry
from triage.services import auth, history, job_steps, tokens
from triage.services import ledger as ledger_service
from triage.services.common import job_step

PASSWORD = "Kettle-Harbour-Lantern-47"
D1 = "BC-33-AC-FF-FE-FA-55-61"


# -- helpers ----------------------------------------------------------------------------------


class Enrolled:
    """An operator enrolled the real way: activation, password, TOTP, a sign-in, a token."""

    def __init__(
        self,
        staffed: Staffed,
        operator_id: str,
        bench_: str | None = None,
        scopes: frozenset[Permission] | None = None,
    ) -> None:
        app = staffed.app
        box = app.secret_box()
        code = auth.issue_activation(app.uow, staffed.admin, operator_id)
        secret, _ = auth.activate(app.uow, operator_id, code, PASSWORD, box=box)
        self.recovery = list(
            auth.confirm_mfa(app.uow, operator_id, code, pyotp.TOTP(secret).now(), box=box)
        )
        self.operator_id = operator_id
        session = auth.login(
            app.uow, operator_id, PASSWORD, self.recovery.pop(), "test", bench_, box=box
        )
        caller = auth.authenticate_session(app.uow, session.secret).caller
        issued = tokens.issue_token(app.uow, caller, operator_id, "test", scopes, 30, bench_)
        auth.logout(app.uow, session.secret)
        self.token, self.token_id = issued.secret, issued.token_id


def _change(staffed: Staffed, statement: Any) -> None:
    with staffed.app.database.engine.begin() as conn:
        conn.execute(statement)


def _differences(staffed: Staffed) -> list[tuple[str, str, str]]:
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    return [(d.table, d.key, d.message) for d in report.differences]


def _replay_cli(staffed: Staffed, token: str, *args: str) -> tuple[int, str, Any]:
    env = {
        "TRIAGE_DATA_DIR": str(staffed.app.settings.data_dir),
        "TRIAGE_DATABASE_URL": staffed.app.settings.database_url,
        "TRIAGE_TOKEN": token,
    }
    run = CliRunner().invoke(cli, ["ledger", *args], env=env)
    return run.exit_code, run.output, run.exception


def _verified(staffed: Staffed) -> str:
    staffed.manifest("C-61", [D1])
    job = staffed.reset(staffed.receive(D1).id)
    assert job.state is JobState.VERIFIED
    return job.id


def _released(staffed: Staffed) -> str:
    job_id = _verified(staffed)
    job_steps.seal(staffed.app.uow, staffed.ben, job_id, "SL-0001")
    assert job_steps.release(staffed.app.uow, staffed.ben, job_id).state is JobState.RELEASED
    return job_id


def _types(staffed: Staffed) -> list[str]:
    return [e.type for _, e in history.device_history(staffed.app.uow, staffed.auditor, D1).entries]


# -- attack 6: a projection edit plus a legitimate step -----------------------------------------


def test_a_release_of_a_job_set_to_sealed_behind_the_ledger_is_refused_and_alerted(
    staffed: Staffed,
) -> None:
    job_id = _verified(staffed)
    _change(staffed, update(triage_job).where(triage_job.c.id == job_id).values(state="sealed"))
    size = staffed.ledger_size()

    with pytest.raises(Conflict, match=r"sealed in the register.*leaves it verified") as refused:
        job_steps.release(staffed.app.uow, staffed.ben, job_id)
    assert status_of(refused.value) == 409
    assert staffed.job(job_id).state is JobState.SEALED  # nothing was done...
    assert staffed.entries("device.released") == []
    # ... but the refusal is in the ledger, as an alert about the device, in its own transaction.
    assert staffed.ledger_size() == size + 1
    (alert,) = staffed.entries("alert.raised")
    assert alert.subject.kind == "device"
    assert alert.subject.id == D1
    assert alert.data["job_id"] == job_id
    assert alert.data["metric"] == "register_disagrees"
    assert "leaves it verified" in alert.data["detail"]
    # A second try is refused too, but not alerted again within minutes: no ledger flood.
    with pytest.raises(Conflict, match="register"):
        job_steps.release(staffed.app.uow, staffed.ben, job_id)
    assert staffed.ledger_size() == size + 1
    # Replay names the edited row.
    assert ("triage_job", job_id) in [(t, k) for t, k, _ in _differences(staffed)]


def test_over_http_the_release_is_a_409_problem_and_the_alert_is_listed(staffed: Staffed) -> None:
    job_id = _verified(staffed)
    client = TestClient(create_app(staffed.app))
    box = staffed.app.secret_box()
    code = auth.issue_activation(staffed.app.uow, staffed.admin, "ben")
    secret, _ = auth.activate(staffed.app.uow, "ben", code, PASSWORD, box=box)
    recovery = auth.confirm_mfa(staffed.app.uow, "ben", code, pyotp.TOTP(secret).now(), box=box)
    login = client.post(
        "/api/v1/auth/login",
        json={
            "operator_id": "ben",
            "password": PASSWORD,
            "second_factor": recovery[0],
            "bench": "B1",
        },
    )
    assert login.status_code == 200, login.text
    csrf = login.json()["csrf_token"]
    cookie = login.headers["set-cookie"].split(";")[0]
    client.cookies.clear()
    _change(staffed, update(triage_job).where(triage_job.c.id == job_id).values(state="sealed"))

    response: httpx.Response = client.post(
        f"/api/v1/jobs/{job_id}/release", headers={"X-CSRF-Token": csrf, "Cookie": cookie}
    )
    assert response.status_code == 409, response.text
    problem = response.json()
    assert "sealed in the register" in problem["detail"]
    assert "security alert" in problem["detail"]
    assert staffed.entries("device.released") == []
    with staffed.app.uow(write=False) as uow:
        alerts, _ = uow.security.alerts("open", 0, 10)
    assert [(a.metric, a.subject_id) for a in alerts] == [("register_disagrees", D1)]


def test_replay_names_a_job_released_without_a_seal(staffed: Staffed) -> None:
    # What the attack left in the ledger before steps were checked: the register was set to
    # sealed, and a legitimate release recorded on top of it.
    job_id = _verified(staffed)
    _change(staffed, update(triage_job).where(triage_job.c.id == job_id).values(state="sealed"))
    with staffed.app.uow(write=True) as uow:
        job = uow.jobs.get(job_id)
        assert job is not None
        entry = job_step(uow, staffed.ben, job, Action.RELEASE, {"seal_serial": None})
        uow.ledger.record([entry])
        uow.commit()
    assert _types(staffed)[-2:] == ["reset.verified", "device.released"]
    assert ledger_service.verify(
        staffed.app.uow, ledger_service.LEDGER_ACTOR, staffed.app.verifier_key(), staffed.app.origin
    ).ok

    found = [(t, k, m) for t, k, m in _differences(staffed) if t == "job"]
    assert len(found) == 1
    assert found[0][1] == job_id
    assert "releases the device without a seal" in found[0][2]
    assert D1 in found[0][2]
    # The load harness's lifecycle check is the same one.
    problems = check_lifecycle(read_ledger(staffed.app.uow))
    assert len(problems) == 1
    assert problems[0].startswith(f"job {job_id} (device {D1}): ")
    assert "releases the device without a seal" in problems[0]


# -- attack 10: a history index row deleted -----------------------------------------------------


def test_replay_names_a_deleted_history_index_row(staffed: Staffed) -> None:
    _released(staffed)
    auditor = Enrolled(staffed, "audrey")
    with staffed.app.database.engine.begin() as conn:
        idx = conn.execute(
            select(ledger_subject.c.idx).where(
                ledger_subject.c.entry_type == "device.released",
                ledger_subject.c.subject_id == D1,
            )
        ).scalar_one()
        conn.execute(delete(ledger_subject).where(ledger_subject.c.idx == idx))
    assert "device.released" not in _types(staffed)  # the attack: the release is hidden

    differences = _differences(staffed)
    assert [(t, k) for t, k, _ in differences] == [("ledger_subject", str(idx))]
    assert f"no row for entry {idx} (device.released about device {D1})" in differences[0][2]
    code, output, exception = _replay_cli(staffed, auditor.token, "replay", "--check")
    assert code == 1
    assert exception is None or isinstance(exception, SystemExit)
    assert f"ledger_subject {idx}: the history index has no row" in output


def test_replay_names_a_history_index_row_pointed_elsewhere(staffed: Staffed) -> None:
    _released(staffed)
    with staffed.app.database.engine.begin() as conn:
        idx = conn.execute(
            select(ledger_subject.c.idx).where(ledger_subject.c.entry_type == "device.released")
        ).scalar_one()
        conn.execute(
            update(ledger_subject)
            .where(ledger_subject.c.idx == idx)
            .values(subject_id="BC-33-AC-FF-FE-FA-55-99")
        )
    differences = _differences(staffed)
    assert [(t, k) for t, k, _ in differences] == [("ledger_subject", str(idx))]
    assert "BC-33-AC-FF-FE-FA-55-99" in differences[0][2]


# -- attack 11: credential tables changed behind the ledger ------------------------------------


def _unrevoke(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    tokens.revoke_token(staffed.app.uow, staffed.admin, who.token_id, "left the facility")
    _change(
        staffed, update(api_token).where(api_token.c.id == who.token_id).values(revoked_at=None)
    )
    return "api_token", who.token_id, "revoked_at"


def _widen(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    _change(staffed, update(api_token).where(api_token.c.id == who.token_id).values(scopes=""))
    return "api_token", who.token_id, "scopes"


def _extend(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    with staffed.app.database.engine.begin() as conn:
        expires = conn.execute(
            select(api_token.c.expires_at).where(api_token.c.id == who.token_id)
        ).scalar_one()
        conn.execute(
            update(api_token)
            .where(api_token.c.id == who.token_id)
            .values(expires_at=expires + timedelta(days=365))
        )
    return "api_token", who.token_id, "expires_at"


def _rehash(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    # Another token's secret: the same row, now answering to a secret the attacker holds.
    _change(
        staffed,
        update(api_token).where(api_token.c.id == who.token_id).values(token_hash=b"\x01" * 32),
    )
    return "api_token", who.token_id, "token_hash"


def _forge(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    with staffed.app.database.engine.begin() as conn:
        row = dict(
            conn.execute(select(api_token).where(api_token.c.id == who.token_id)).mappings().one()
        )
        row.update(id="f0f0f0f0f0f0f0f0", token_hash=b"\x02" * 32, scopes="")
        conn.execute(insert(api_token).values(**row))
    return "api_token", "f0f0f0f0f0f0f0f0", "no operator.token_issued entry"


def _swap_password(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    known = Argon2Passwords().hash("Attacker-Knows-This-1")
    _change(
        staffed,
        update(operator_credential)
        .where(operator_credential.c.operator_id == who.operator_id)
        .values(password_hash=known),
    )
    return "operator_credential", who.operator_id, "password_hash"


def _swap_totp(staffed: Staffed, who: Enrolled) -> tuple[str, str, str]:
    sealed = staffed.app.secret_box().seal(pyotp.random_base32().encode("ascii"))
    _change(
        staffed,
        update(operator_credential)
        .where(operator_credential.c.operator_id == who.operator_id)
        .values(totp_secret=sealed),
    )
    return "operator_credential", who.operator_id, "totp_secret"


@pytest.mark.parametrize(
    "tamper",
    [_unrevoke, _widen, _extend, _rehash, _forge, _swap_password, _swap_totp],
    ids=lambda f: f.__name__.strip("_"),
)
def test_replay_names_a_credential_changed_behind_the_ledger(
    staffed: Staffed, tamper: Callable[[Staffed, Enrolled], tuple[str, str, str]]
) -> None:
    audrey = Enrolled(staffed, "audrey", scopes=frozenset({Permission.LEDGER_READ}))
    assert _differences(staffed) == []

    table, key, what = tamper(staffed, audrey)

    differences = _differences(staffed)
    assert [(t, k) for t, k, _ in differences] == [(table, key)], differences
    assert what in differences[0][2]


def test_the_replay_command_fails_naming_a_swapped_password(staffed: Staffed) -> None:
    audrey = Enrolled(staffed, "audrey")
    code, output, _ = _replay_cli(staffed, audrey.token, "replay", "--check")
    assert code == 0, output
    _swap_password(staffed, audrey)

    code, output, _ = _replay_cli(staffed, audrey.token, "replay", "--check", "--json")
    assert code == 1
    report = json.loads(output)
    assert report["ok"] is False
    assert len(report["differences"]) == 1
    assert report["differences"][0].startswith("operator_credential audrey: password_hash")


def test_a_credential_without_a_recorded_digest_is_a_note_not_a_failure(
    staffed: Staffed,
) -> None:
    # Entries written before digests were recorded: the digest is taken out of the entry as
    # an older version would have written it (the stored value is left as it was).
    audrey = Enrolled(staffed, "audrey")
    with staffed.app.uow(write=True) as uow:
        for batch in uow.ledger.storage.read_entries(0, uow.ledger.log.head().size):
            for index, data in batch:
                if Entry.from_bytes(data).type == "auth.activated":
                    activated = index
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.notes == []
    _rewrite_entry_data(staffed, activated, ("password_digest", "totp_digest"))
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.differences == []
    assert len(report.notes) == 2
    assert all("no digest recorded" in n and audrey.operator_id in n for n in report.notes)


def _rewrite_entry_data(staffed: Staffed, index: int, drop: tuple[str, ...]) -> None:
    """Entry ``index`` without the ``drop`` fields (a test of the reader only: the Merkle
    tree no longer matches, which `ledger verify` would report)."""
    with staffed.app.database.engine.begin() as conn:
        entry = Entry.from_bytes(entry_data(conn, index))
        data = {k: v for k, v in entry.data.items() if k not in drop}
        changed = Entry(entry.type, entry.at, entry.actor, entry.facility, entry.subject, data)
        set_entry(conn, index, changed.to_bytes())


# -- damaged entries ----------------------------------------------------------------------------


def _append_damaged(staffed: Staffed) -> list[int]:
    with staffed.app.uow(write=True) as uow:
        first = uow.ledger.log.append([b"\xff\xfe not utf-8", b'{"type": "not an entry"}'])
        uow.commit()
    return [first, first + 1]


def test_replay_names_damaged_entries_instead_of_a_traceback(staffed: Staffed) -> None:
    auditor = Enrolled(staffed, "audrey")
    bad = _append_damaged(staffed)

    differences = _differences(staffed)
    assert [(t, k) for t, k, _ in differences] == [("entry", str(i)) for i in bad]
    assert "not valid JSON" in differences[0][2]
    code, output, exception = _replay_cli(staffed, auditor.token, "replay", "--check")
    assert code == 1
    assert exception is None or isinstance(exception, SystemExit)
    assert f"entry {bad[0]}: not a valid entry" in output
    assert "Traceback" not in output


def test_export_names_a_damaged_entry_instead_of_a_traceback(
    staffed: Staffed, tmp_path: Path
) -> None:
    auditor = Enrolled(staffed, "audrey")
    with staffed.app.uow(write=True) as uow:
        first = uow.ledger.log.append([b'{"a damaged entry":\n true}'])
        uow.commit()
    ledger_service.issue_checkpoint(
        staffed.app.uow, ledger_service.LEDGER_ACTOR, staffed.app.origin, staffed.app.signer_key()
    )
    out = tmp_path / "export.jsonl"

    code, output, exception = _replay_cli(staffed, auditor.token, "export", str(out))
    assert code != 0
    assert exception is None or isinstance(exception, SystemExit), exception
    assert f"entry {first}" in output
    assert not out.exists()
