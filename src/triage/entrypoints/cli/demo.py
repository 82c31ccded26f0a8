"""`triage demo`: demo staff with fresh tokens and sign-ins, and a demo bench (an enrolled tool
with its key, a simulated fleet, a consignment of its devices), for a demo facility only. With
``--serve`` (what `make run` runs) it then starts the server and the bench's agent, and stops
both on Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from triage.entrypoints.cli.auth import CLI_SOURCE
from triage.entrypoints.cli.options import DataDir, JsonFlag
from triage.entrypoints.cli.output import emit, err, fail
from triage.entrypoints.cli.session import open_app

if TYPE_CHECKING:
    from triage.services.demo import Demo, DemoDevice

BENCH_DIR = "demo-bench"  # in the data directory: the demo tool's key, its fleet, its agent
TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]
START_SECONDS = 60  # how long the server may take to answer before the demo gives up
STOP_SECONDS = 15  # how long each process may take to stop before it is killed


@dataclasses.dataclass(frozen=True)
class BenchFiles:
    """Where the demo bench keeps its files (a directory only the host's account can read)."""

    root: Path

    @property
    def key(self) -> Path:
        return self.root / "tool.key"

    @property
    def fleet(self) -> Path:
        return self.root / "fleet.json"

    @property
    def state(self) -> Path:
        return self.root / "agent"


def demo(
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Then run the server and the demo bench's agent until Ctrl-C."
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: port to listen on.")] = 8000,
) -> None:
    """Create demo staff (one per role) and a demo bench if missing, and print a fresh API token
    for each person, minted by their own sign-in (the demo administrator's on the first run
    only), and the demo devices."""
    from triage.entrypoints.agent import AgentError
    from triage.services.demo import set_up_demo

    with open_app(data_dir) as application:
        root = application.settings.data_dir
        bench = BenchFiles(root / BENCH_DIR)
        try:
            found = set_up_demo(
                application.uow,
                application.secret_box(),
                application.settings.token_max_days,
                CLI_SOURCE,
                tool_key=lambda: _tool_key(bench.key),
            )
            _fleet(bench.fleet, found.devices)
        except (AgentError, OSError) as exc:  # the bench's key or fleet cannot be made
            raise fail(str(exc)) from exc
        facility_key = application.verifier_key()
    url = f"http://{_url_host(host)}:{port}"
    emit(as_json, _data(found, url if serve else None), _text(found, root, bench))
    if serve and not as_json:  # with --json, the address is the JSON's "url"
        typer.echo(
            f"\ndevice-triage: demo facility ready in {root}\n"
            f"  Web: {url}/ (sign in as a demo person above)\n"
            f"  API reference: {url}/api/v1/docs "
            "(send a token above as Authorization: Bearer ...)\n"
            f"  Verifier key (for 'triage verify'): {facility_key}\n"
            "  Ctrl-C stops the server and the demo bench's agent.",
        )
    if serve:
        raise typer.Exit(_serve(root, host, port, facility_key, bench))


def _tool_key(path: Path) -> str:
    """The demo tool's verifier key: from its key file, made (mode 0600) on the first run."""
    from triage.entrypoints.agent import generate_tool_key, load_tool_key
    from triage.ledger.note import verifier_key_from_signer
    from triage.services.demo import DEMO_TOOL

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        return verifier_key_from_signer(load_tool_key(path))
    return generate_tool_key(DEMO_TOOL, path)


def _fleet(path: Path, devices: Sequence[DemoDevice]) -> None:
    """The demo bench's simulated fleet, made once (a device keeps what was done to it)."""
    from triage.entrypoints.agent import simulate_fleet

    if not path.exists():
        simulate_fleet(
            path, [f"{d.device_id}:{d.device_type}:{d.scenario}" for d in devices], add=False
        )


def _device_json(device: DemoDevice) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "device_type": device.device_type,
        "scenario": device.scenario,
        "on_manifest": device.on_manifest,
        "shows": device.shows,
    }


def _data(found: Demo, url: str | None) -> dict[str, Any]:
    from triage.services.demo import DEMO_ASSET_OWNER, DEMO_BENCH, DEMO_CONSIGNMENT

    data: dict[str, Any] = {
        "tokens": found.tokens,
        "seals": found.seals,
        "web": {who: dataclasses.asdict(login) for who, login in found.logins.items()},
        "bench": {
            "bench": DEMO_BENCH,
            "tool_id": found.tool_id,
            "consignment_id": found.consignment_id,
            "consignment_reference": DEMO_CONSIGNMENT,
            "asset_owner": DEMO_ASSET_OWNER,
        },
        "devices": [_device_json(d) for d in found.devices],
    }
    if url is not None:
        data["url"] = url
    return data


def _text(found: Demo, root: Path, bench: BenchFiles) -> str:
    from triage.services.demo import DEMO_ADMIN, DEMO_ASSET_OWNER, DEMO_BENCH, DEMO_CONSIGNMENT

    devices = "\n".join(
        f"  {d.device_id}  {d.scenario:<21}  "
        f"{'on the manifest' if d.on_manifest else 'NOT on the manifest'}: {d.shows}"
        for d in found.devices
    )
    return (
        "demo staff (send as 'Authorization: Bearer TOKEN'):\n"
        + "\n".join(f"  {who:16} {token}" for who, token in found.tokens.items())
        + (
            ""
            if DEMO_ADMIN in found.tokens
            else "\n  demo-admin: token and sign-in shown by the first 'triage demo' only "
            "(nobody re-enrols their own login); sign in with its password"
        )
        + "\ndemo seals: "
        + "; ".join(
            f"{first}..{last} issued to {who}" for who, (first, last) in found.seals.items()
        )
        + "\nweb sign-in: password, then the one-time code (or a code from an authenticator "
        f"holding the TOTP secret); bench operators and supervisors give bench {DEMO_BENCH}:\n"
        + "\n".join(
            f"  {who:16} password {w.password}  code {w.recovery_code}  TOTP secret {w.totp_secret}"
            for who, w in found.logins.items()
        )
        + f"\ndemo bench {DEMO_BENCH}: tool {found.tool_id} (key {bench.key.relative_to(root)}), "
        f"consignment {DEMO_CONSIGNMENT} of {DEMO_ASSET_OWNER} ({found.consignment_id})\n"
        f"demo devices (scan one on the bench page):\n{devices}"
    )


def _url_host(host: str) -> str:
    """Where a browser on this host reaches a server listening on ``host``."""
    # Listening on every address (0.0.0.0 or ::) includes loopback.
    everywhere = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
    reachable = everywhere.get(host, host)
    return f"[{reachable}]" if ":" in reachable else reachable


def _serve(root: Path, host: str, port: int, facility_key: str, bench: BenchFiles) -> int:
    """Run the server and, once it answers, the demo bench's agent, until SIGINT or SIGTERM
    (or until either stops by itself); then stop both. Returns the exit code: 0 when stopped
    by a signal, 1 when a process stopped by itself."""
    from triage.services.demo import DEMO_TOOL

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    env = {**os.environ, "TRIAGE_DATA_DIR": str(root)}
    url = f"http://{_url_host(host)}:{port}"
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    # Each in a session of its own: Ctrl-C reaches this process only, which stops them in
    # order (the agent before the server it talks to) and waits for them.
    server = subprocess.Popen(
        [*TRIAGE, "serve", "--host", host, "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    started.append(("server", server))
    try:
        if not _answering(url, server, stopping):
            if server.poll() is None and not stopping.is_set():
                err.print(f"the demo server did not answer at {url} in {START_SECONDS} s")
            return _stop(started, stopping)
        agent = subprocess.Popen(
            [
                *TRIAGE,
                "agent",
                "run",
                "--server",
                url,
                "--tool-id",
                DEMO_TOOL,
                "--key",
                str(bench.key),
                "--facility-key",
                facility_key,
                "--state-dir",
                str(bench.state),
                "--connector",
                "simulated",
                "--option",
                f"state_file={bench.fleet}",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.insert(0, ("agent", agent))
        while not stopping.wait(0.2):
            if any(proc.poll() is not None for _, proc in started):
                break
        return _stop(started, stopping)
    finally:
        for _, proc in started:  # an error on the way: leave nothing running
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _answering(url: str, server: subprocess.Popen[bytes], stopping: threading.Event) -> bool:
    """Wait until the server answers its health check; False when it stopped, or was told to."""
    import httpx

    deadline = time.monotonic() + START_SECONDS
    while not stopping.is_set() and server.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        stopping.wait(0.2)
    return False


def _stop(started: list[tuple[str, subprocess.Popen[bytes]]], stopping: threading.Event) -> int:
    """SIGTERM each process still running, in order, killing any that will not stop; the exit
    code: 0 when told to stop, 1 when one stopped (or never answered) by itself."""
    for name, proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                err.print(f"the demo {name} did not stop in {STOP_SECONDS} s: killed")
                proc.kill()
                proc.wait()
        elif not stopping.is_set():
            err.print(f"the demo {name} stopped (exit code {proc.returncode})", highlight=False)
    if stopping.is_set():
        err.print("device-triage demo stopped: the server and the bench agent", highlight=False)
        return 0
    return 1
