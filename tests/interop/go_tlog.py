"""The Go checker of the tile read API (tests/interop/tlog/main.go): Go's
golang.org/x/mod/sumdb/tlog and sumdb/note, from Debian's golang-golang-x-mod-dev, read a
facility's checkpoint, hash tiles and entry bundles as any C2SP tlog-tiles client would. Built in
GOPATH mode; without Go it fails (it does not skip): `make system-deps` installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent / "tlog"
GO_MOD_SOURCE = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog")


def _go_env(work: Path) -> dict[str, str]:
    """GOPATH mode against Debian's packaged Go sources; the build cache in ``work``."""
    return {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(work / "gocache"),
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }


def build_checker(work: Path) -> Path:
    """Build the checker into ``work``; its path."""
    go = shutil.which("go")
    if go is None or not GO_MOD_SOURCE.is_dir():
        pytest.fail(
            "Go and golang.org/x/mod are needed for the interoperability test (Debian's "
            "golang-go and golang-golang-x-mod-dev): `make system-deps` installs them"
        )
    binary = work / "tlogcheck"
    built = subprocess.run(
        [go, "build", "-o", str(binary), "main.go"],
        cwd=SOURCE,
        env=_go_env(work),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, f"go build failed: {built.stderr}"
    return binary


def run_checker(
    binary: Path, url: str, vkey: str, token: str, old: Path | None = None, proofs: int = 0
) -> subprocess.CompletedProcess[str]:
    """The checker against the tile prefix ``url``: exit 0 when everything verified."""
    args = [str(binary), "-url", url, "-key", vkey, "-token", token, "-proofs", str(proofs)]
    if old is not None:
        args += ["-old", str(old)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def go_check(url: str, vkey: str, token: str, work: Path) -> subprocess.CompletedProcess[str]:
    """Build the checker in ``work`` and run it against ``url``."""
    work.mkdir(parents=True, exist_ok=True)
    return run_checker(build_checker(work), url, vkey, token, proofs=4)
