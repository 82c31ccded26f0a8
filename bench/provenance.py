"""Figures name the code they measured, and come only from committed code.

A benchmark that writes its figures into docs/performance.md (``--write``) first asks git
whether the code it is about to measure differs from the commit checked out: the package, the
benchmarks themselves and the pinned dependencies. If it does, it refuses before measuring
anything, since nobody could later tell which code the figures belong to. Results and docs
the benchmarks write (bench/results, docs) are not code, and may be uncommitted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# What the figures depend on; the files benchmarks write are left out.
MEASURED = ("src", "bench", "pyproject.toml", "requirements.lock", "Makefile")
WRITTEN = ("bench/results",)


def uncommitted(root: Path = REPO_ROOT) -> list[str]:
    """Paths of measured code that differ from the commit checked out (modified, added,
    deleted or untracked), as ``git status --porcelain`` names them."""
    pathspecs = [*MEASURED, *(f":(exclude){path}" for path in WRITTEN)]
    found = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", *pathspecs],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return [line[3:] for line in found.splitlines() if line.strip()]


def head(root: Path = REPO_ROOT) -> str:
    """The short hash of the commit checked out."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()


def require_committed(target: Path, root: Path = REPO_ROOT) -> str:
    """The commit the figures for ``target`` will name; SystemExit saying which files (exit
    status 1) when the measured code has uncommitted changes, or when git cannot tell."""
    try:
        changed = uncommitted(root)
        commit = head(root)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SystemExit(
            f"refusing to write figures to {target}: cannot ask git which commit is measured "
            f"({exc}); run from a clone of the repository"
        ) from exc
    if changed:
        listed = ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")
        raise SystemExit(
            f"refusing to write figures to {target}: the measured code has uncommitted changes "
            f"({listed}). Commit them (figures name the commit they measured), or run without "
            "--write to look at the figures only"
        )
    return commit


def describe(root: Path = REPO_ROOT) -> str:
    """The commit for a report's "Code measured" line: ``commit `abc1234```, saying so when the
    measured code differs from it."""
    try:
        changed = uncommitted(root)
        commit = head(root)
    except (OSError, subprocess.SubprocessError):
        return "no git commit"
    return f"commit `{commit}`" + (" with uncommitted changes" if changed else "")
