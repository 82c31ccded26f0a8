"""A throwaway PostgreSQL cluster for tests and benchmarks: real server, temporary directory.

The cluster listens on a unix socket in its own directory and on a free loopback port, runs as
the current user (or as ``postgres`` when we are root, since PostgreSQL refuses to run as root),
and is removed when stopped. ``make test`` installs the server with apt-get when it is missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """Directory holding initdb and pg_ctl, or None when no server is installed."""
    explicit = os.environ.get("TRIAGE_PG_BINDIR")
    candidates = [explicit] if explicit else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        if (
            candidate
            and (Path(candidate) / "initdb").exists()
            and (Path(candidate) / "pg_ctl").exists()
        ):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    """A running cluster; ``url(dbname)`` gives a SQLAlchemy URL for a database in it."""

    root: Path
    bindir: Path
    port: int
    user: str
    run_as: str | None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str, template: str | None = None) -> str:
        """Create a database and return its URL: empty, or a copy of ``template`` (which
        nothing may be connected to)."""
        import psycopg

        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"{copy}')
        return self.url(dbname)

    def drop_database(self, dbname: str) -> None:
        """Drop a database nothing is connected to."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE "{dbname}"')

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)

    def pause(self) -> None:
        """Stop the server (immediately, as a crash or an outage would), keeping its data."""
        result = self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def resume(self) -> None:
        """Start the server again after ``pause``, on the same port."""
        result = self._start()
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start again: {result.stderr.strip()}")

    def _start(self) -> subprocess.CompletedProcess[str]:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c max_connections=200 "
            "-c fsync=on -c synchronous_commit=on -c shared_buffers=128MB"
        )
        data, log = str(self.root / "data"), str(self.root / "server.log")
        return self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server immediately and remove its files."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    """initdb and start a fresh cluster; raises RuntimeError saying what is missing."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found; run 'make test' (it installs them) "
            "or set TRIAGE_PG_BINDIR"
        )
    run_as = None
    if os.geteuid() == 0:
        run_as = "postgres"
        try:
            pwd.getpwnam(run_as)
        except KeyError as exc:
            raise RuntimeError("running as root needs a 'postgres' system user") from exc
    root = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    if run_as:
        record = pwd.getpwnam(run_as)
        os.chown(root, record.pw_uid, record.pw_gid)
    user = "triage"
    cluster = PgCluster(root, bindir, _free_port(), user, run_as)
    data = root / "data"
    result = cluster._run(
        "initdb", "-D", str(data), "-U", user, "--auth=trust", "--encoding=UTF8", "--no-sync"
    )
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {result.stderr.strip()}")
    result = cluster._start()
    if result.returncode != 0:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()} {log[-2000:]}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", cluster.port), 1):
            return cluster
        time.sleep(0.1)
    cluster.stop()
    raise RuntimeError("PostgreSQL started but does not accept connections")


@contextlib.contextmanager
def running_cluster() -> Iterator[PgCluster]:
    """A cluster for the duration of a ``with`` block."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
