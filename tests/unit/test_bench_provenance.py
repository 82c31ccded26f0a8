"""Benchmarks write figures only from committed code (issue 22, item 5): in a real git
repository, a change to the measured code makes ``--write`` refuse, naming the file, before
anything is measured; the files benchmarks write themselves do not count."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bench.provenance import describe, require_committed, uncommitted


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "code.py").write_text("x = 1\n")
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "bench" / "run.py").write_text("y = 2\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "performance.md").write_text("# Performance\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "start")
    return tmp_path


def test_a_clean_tree_names_its_commit(repo: Path) -> None:
    assert require_committed(repo / "docs" / "performance.md", repo) == _git(
        repo, "rev-parse", "--short", "HEAD"
    )


def test_what_benchmarks_write_is_not_measured_code(repo: Path) -> None:
    (repo / "bench" / "results" / "tlog.md").write_text("figures\n")
    (repo / "docs" / "performance.md").write_text("# Performance\nnew figures\n")
    assert uncommitted(repo) == []
    require_committed(repo / "docs" / "performance.md", repo)


@pytest.mark.parametrize(
    "change",
    ["modified", "untracked", "deleted", "staged"],
)
def test_uncommitted_code_is_refused_naming_the_file(repo: Path, change: str) -> None:
    code = repo / "src" / "code.py"
    if change == "modified":
        code.write_text("x = 2\n")
        named = "src/code.py"
    elif change == "untracked":
        (repo / "bench" / "new.py").write_text("z = 3\n")
        named = "bench/new.py"
    elif change == "deleted":
        code.unlink()
        named = "src/code.py"
    else:
        code.write_text("x = 3\n")
        _git(repo, "add", "src/code.py")
        named = "src/code.py"
    with pytest.raises(SystemExit) as refused:
        require_committed(repo / "docs" / "performance.md", repo)
    message = str(refused.value)
    assert "refusing to write figures" in message and named in message, message


def test_outside_a_repository_it_refuses(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cannot ask git"):
        require_committed(tmp_path / "figures.md", tmp_path)


def test_the_report_names_the_commit_and_says_when_the_code_differs(repo: Path) -> None:
    commit = _git(repo, "rev-parse", "--short", "HEAD")
    assert describe(repo) == f"commit `{commit}`"
    (repo / "src" / "code.py").write_text("x = 4\n")
    assert describe(repo) == f"commit `{commit}` with uncommitted changes"
