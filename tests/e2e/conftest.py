"""End-to-end helpers: the real `triage` command in a real process."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.people import Enrolled, enrol, enrol_with_code, open_data_dir
from tests.sqlite_files import fold_into_one_file
from triage import bootstrap
from triage.adapters.devices.simulated import DeviceSpec, SimulatedFleet
from triage.domain.local_time import DEFAULT_TIME_ZONE
from triage.domain.roles import Role
from triage.services import assessment, asset_owners, staffing, tokens

TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]


class Triage:
    """Runs `triage` commands against one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "TRIAGE_DATA_DIR": str(data_dir)}
        self.env.pop("TRIAGE_DATABASE_URL", None)
        self.people: dict[str, Enrolled] = {}  # who enrolled, with their credentials

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*TRIAGE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"triage {' '.join(args)} failed: {result.stderr}")
        return result

    def first_admin(self, operator_id: str = "admin", name: str = "Ada") -> str:
        """The first administrator, added by the host with an activation code, enrolled, and
        the token they mint from their own sign-in."""
        out = self.run(
            "operator", "add", operator_id, "--name", name, "--role", "administrator", "--json"
        ).stdout
        code = str(json.loads(out)["activation_code"])
        with self.opened() as app:
            self.people[operator_id] = enrol_with_code(app, operator_id, code)
        return self.people[operator_id].token

    def staff(
        self,
        admin: str,
        operator_id: str,
        role: str,
        bench: str | None = None,
        asset_owner: str | None = None,
    ) -> str:
        """An operator added by ``admin`` (a person of ``asset_owner`` for that role), and a
        token of theirs (for ``bench`` when given). Done in this process, through the use case
        `triage operator add` calls: the command's own path is tested by the CLI tests, and a
        process per person would make every facility's setup seconds slower."""
        with self.opened() as app:
            manager = tokens.authenticate_token(app.uow, admin)
            roles = frozenset({Role(role)})
            staffing.add_operator(
                app.uow, manager, operator_id, operator_id, roles, False, (), asset_owner
            )
            # Activated by the administrator; the operator enrols and mints their own token.
            self.people[operator_id] = enrol(app, manager, operator_id, bench=bench)
        return self.people[operator_id].token

    def register_owner(self, admin: str, owner_id: str = "MAP-1") -> None:
        """Register the asset owner ``owner_id``: consignments are imported for registered
        asset owners only (in this process, through the use case the command calls)."""
        with self.opened() as app:
            manager = tokens.authenticate_token(app.uow, admin)
            asset_owners.register(app.uow, manager, owner_id, f"Owner {owner_id}")

    @contextmanager
    def opened(self) -> Iterator[bootstrap.App]:
        """The facility of this data directory, opened in this process."""
        app = open_data_dir(self.data_dir, self.env.get("TRIAGE_DATABASE_URL"))
        try:
            yield app
        finally:
            app.close()

    def commission(self, admin: str) -> None:
        """Record the provider as a SEC Party and switch on commissioning mode for 30 days, so
        that the facility may triage before its first assessment (in this process, through
        the use cases `triage assurance party` and `commissioning-start` call)."""
        with self.opened() as app:
            manager = tokens.authenticate_token(app.uow, admin)
            assessment.record_party(
                app.uow, manager, "TFP-1", "Test Triage Ltd", ["Other SEC Party"]
            )
            until = datetime.now(UTC) + timedelta(days=30)
            reason = "test devices before the first assessment"
            assessment.start_commissioning(app.uow, manager, until, reason)


@pytest.fixture
def triage(tmp_path: Path) -> Triage:
    return Triage(tmp_path / "var")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    triage: Triage, *args: str, access_log: Path | None = None, error_log: Path | None = None
) -> tuple[subprocess.Popen[str], httpx.Client]:
    """`triage serve` on a free loopback port, waited for until it answers; its access log
    (standard output) is written to ``access_log`` and its errors (standard error) to
    ``error_log`` when given."""
    port = free_port()
    with (
        open(access_log or os.devnull, "w") as out,
        open(error_log, "w") if error_log else nullcontext(subprocess.PIPE) as err,
    ):
        proc = subprocess.Popen(
            [*TRIAGE, "serve", "--port", str(port), *args],
            env=triage.env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/api/v1/health").status_code == 200:
                return proc, client
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            told = error_log.read_text() if error_log else proc.communicate()[1]
            raise AssertionError(f"server did not start: {told}")
        time.sleep(0.1)


def stop(*procs: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL whatever has not stopped within 15 seconds."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Facility:
    triage: Triage
    client: httpx.Client
    tokens: dict[str, str]
    vkey: str
    # The server's access log, its errors and the agent's log (server-access.log, server.log,
    # agent.log), in files so that neither process ever waits for a full pipe.
    logs: Path | None = None

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.raw(who, method, path, **kwargs).json()

    def raw(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        response = self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        assert response.status_code < 400, (method, path, response.status_code, response.text)
        return response

    def job(self, job_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("ben", "GET", f"/jobs/{job_id}")
        return found

    def read_log(self, job_id: str, who: str = "ben", tool: str = "BENCH-1") -> dict[str, Any]:
        """Ask the bench tool to read the device's security log, as the inspection needs, and
        wait for the agent to upload it: the recorded log."""
        self.call(who, "POST", f"/jobs/{job_id}/security-log/read-orders", json={"tool_id": tool})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = self.client.get(
                f"/api/v1/jobs/{job_id}/security-log",
                headers={"Authorization": f"Bearer {self.tokens[who]}"},
            )
            if answer.status_code == 200:
                found: dict[str, Any] = answer.json()
                return found
            assert answer.status_code == 404, answer.text
            time.sleep(0.1)
        raise AssertionError(f"no security log was read for job {job_id}")

    def wait_for(self, job_id: str, states: set[str]) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] in states:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} stuck in {job['state']}, wanted {states}")


def set_up_facility(triage: Triage, key: Path) -> tuple[dict[str, str], str]:
    """Initialise ``triage``'s data directory as a facility with staff (sup, sup2, ben at bench
    B1; stella in stores; sam the security manager; admin), commissioned, with the asset owner
    MAP-1 and tool BENCH-1 enrolled at B1 (its private key written to ``key``): everyone's
    tokens and the facility's verifier key. ``TRIAGE_TOKEN`` is sup's from then on."""
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin("admin", "Ada Admin")
    # Their tokens are for bench B1, where the tool sits: work orders need that.
    tokens = {
        operator_id: triage.staff(admin, operator_id, role, bench="B1")
        for operator_id, role in [
            ("sup", "supervisor"),
            ("sup2", "supervisor"),
            ("ben", "bench_operator"),
        ]
    }
    tokens["stella"] = triage.staff(admin, "stella", "stores")
    tokens["sam"] = triage.staff(admin, "sam", "security_manager")
    tokens["admin"] = admin
    triage.commission(admin)
    triage.register_owner(admin)
    triage.env["TRIAGE_TOKEN"] = tokens["sup"]
    tool_vkey = triage.run("agent", "keygen", "--tool-id", "BENCH-1", "--out", str(key)).stdout
    triage.run(
        "tool", "enrol", "BENCH-1", "--bench", "B1", "--key", tool_vkey.strip(), "--token", admin
    )
    return tokens, vkey


# Settings that no step of set_up_facility reads (the server's or the copy's own): a facility
# set up under any value of them is the same, so they do not choose a template.
NOT_FOR_SET_UP = frozenset(
    {"TRIAGE_DATA_DIR", "TRIAGE_TOKEN", "TRIAGE_SERVE_WORKERS", "TRIAGE_DUIS_SCHEMA"}
)


@dataclass
class Template:
    """A facility set up once (on SQLite) and copied for each test."""

    root: Path  # its data directory ("var") and the files its set-up wrote beside it
    people: dict[str, Enrolled]
    token: str | None  # TRIAGE_TOKEN as its set-up left it
    value: Any  # what its set-up returned


T = TypeVar("T")


class Templates:
    """The facilities this test process set up to copy, one per set-up, per choice of the
    settings that set-up reads and per day (so that no test finds its set-up dated the day
    before); their tokens last DEFAULT_DAYS (90 days), far beyond a session. Setting a
    facility up takes a test 5 to 25 seconds (processes, password hashing, enrolments); a
    copy, milliseconds."""

    def __init__(self) -> None:
        self.root: Path | None = None  # set for the session by the fixture below
        self.built: dict[tuple[object, ...], Template] = {}

    def set_up(self, triage: Triage, key: Path) -> tuple[dict[str, str], str]:
        """``triage``'s facility set up (set_up_facility): its own files, key, people and
        tokens, from a copy of a template when it can be copied (``copied``)."""
        if not self._copyable(triage) or key.exists():
            return set_up_facility(triage, key)
        template = self._copy(
            triage, "staffed", lambda built: set_up_facility(built, built.data_dir.parent / "key")
        )
        key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(template.root / "key", key)
        tokens, vkey = template.value
        return dict(tokens), vkey

    def copied(self, triage: Triage, name: str, build: Callable[[Triage], T]) -> T:
        """What ``build(triage)`` returns, with the facility it sets up in ``triage``'s data
        directory: a copy of the one it set up once in this process (named ``name``), when
        ``triage`` is on SQLite in a fresh data directory; else ``build`` runs on ``triage``.
        ``build`` may write files only in the data directory, and what it returns must not
        name that directory."""
        if not self._copyable(triage):
            return build(triage)
        return cast(T, copy.deepcopy(self._copy(triage, name, build).value))

    def _copyable(self, triage: Triage) -> bool:
        return (
            self.root is not None
            and "TRIAGE_DATABASE_URL" not in triage.env
            and not triage.data_dir.exists()
        )

    def _copy(self, triage: Triage, name: str, build: Callable[[Triage], Any]) -> Template:
        template = self._template(triage, name, build)
        # Modes are kept (copy2): the keys readable by their owner only, the directory 0700.
        # No path in the data directory names the directory itself.
        shutil.copytree(template.root / "var", triage.data_dir)
        triage.people.update(copy.deepcopy(template.people))
        if template.token is not None:
            triage.env["TRIAGE_TOKEN"] = template.token
        return template

    def _template(self, triage: Triage, name: str, build: Callable[[Triage], Any]) -> Template:
        assert self.root is not None
        settings = sorted(
            (setting, value)
            for setting, value in triage.env.items()
            if setting.startswith("TRIAGE_") and setting not in NOT_FOR_SET_UP
        )
        now = datetime.now(UTC)
        zone = ZoneInfo(triage.env.get("TRIAGE_TIME_ZONE") or DEFAULT_TIME_ZONE)
        days = (now.date(), now.astimezone(zone).date())
        wanted = (name, tuple(settings), days)
        if wanted in self.built:
            return self.built[wanted]
        for stale in [k for k in self.built if k[:2] == wanted[:2]]:  # set up another day
            shutil.rmtree(self.built.pop(stale).root)
        root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))
        builder = Triage(root / "var")
        builder.env = {**triage.env, "TRIAGE_DATA_DIR": str(builder.data_dir)}
        builder.env.pop("TRIAGE_TOKEN", None)  # the token the set-up chooses, if any
        value = build(builder)
        # A consistent copy: every process and connection is closed (checked here).
        fold_into_one_file(builder.data_dir / "triage.db")
        template = Template(root, builder.people, builder.env.get("TRIAGE_TOKEN"), value)
        self.built[wanted] = template
        return template


TEMPLATES = Templates()


@pytest.fixture(scope="session", autouse=True)
def facility_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Where this test process keeps the facilities it copies (see Templates)."""
    TEMPLATES.root = tmp_path_factory.mktemp("facility-templates")
    yield TEMPLATES
    TEMPLATES.root = None
    TEMPLATES.built.clear()


def agent_command(server: str, key: Path, vkey: str, bench: Path, *options: str) -> list[str]:
    """`triage agent run` for tool BENCH-1 (its private ``key``) against ``server`` and the
    facility key ``vkey``, driving the simulated fleet in ``bench``/fleet.json and keeping its
    state in ``bench``/state, with ``options``."""
    return [*TRIAGE, *agent_arguments(server, key, vkey, bench, *options)]


def agent_arguments(server: str, key: Path, vkey: str, bench: Path, *options: str) -> list[str]:
    """The arguments of ``agent_command`` after the `triage` command itself (for
    ``Triage.run``)."""
    return [
        "agent",
        "run",
        "--server",
        server,
        "--tool-id",
        "BENCH-1",
        "--key",
        str(key),
        "--facility-key",
        vkey,
        "--state-dir",
        str(bench / "state"),
        "--option",
        f"state_file={bench / 'fleet.json'}",
        *options,
    ]


@contextmanager
def running_facility(
    triage: Triage, tmp_path: Path, devices: Iterable[DeviceSpec]
) -> Iterator[Facility]:
    """A facility with staff (sup, sup2, ben at bench B1; stella in stores; sam the security
    manager), tool BENCH-1 at B1, its server, and a `triage agent` process driving a simulated
    fleet of ``devices``. On SQLite, its data directory is a copy of one set up once per test
    process (Templates); the server and the agent are the test's own."""
    key = tmp_path / "bench" / "tool.key"
    tokens, vkey = TEMPLATES.set_up(triage, key)
    fleet = tmp_path / "bench" / "fleet.json"
    SimulatedFleet.create(fleet, list(devices))
    logs = tmp_path / "logs"
    logs.mkdir()
    server, client = start_server(
        triage,
        "--checkpoint-interval",
        "0",
        access_log=logs / "server-access.log",
        error_log=logs / "server.log",
    )
    base = str(client.base_url).rstrip("/")
    agent_log = (logs / "agent.log").open("w")
    agent = subprocess.Popen(
        agent_command(base, key, vkey, tmp_path / "bench", "--interval", "0.2"),
        env=triage.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=agent_log,
        text=True,
    )
    agent_log.close()
    try:
        yield Facility(triage, client, tokens, vkey, logs)
    finally:
        client.close()
        stop(agent, server)
