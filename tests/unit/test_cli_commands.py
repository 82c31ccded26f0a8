"""The `triage` command's groups are built on first use: what `triage --help` lists is each
command's own help, every listed command loads, and listing them loads none."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from triage.entrypoints.cli import COMMANDS, app


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_loads_and_is_listed_with_its_own_words(name: str) -> None:
    command = COMMANDS[name].load(name)
    assert command.name == name
    assert " ".join((command.help or "").split("\n\n")[0].split()) == COMMANDS[name].help


def test_the_help_lists_every_command_and_a_command_runs_through_its_group() -> None:
    shown = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    for name in COMMANDS:
        assert f" {name} " in shown.output, name
    # A group's own command, through the root (the keys group has one command: still a group).
    assert "show" in CliRunner().invoke(app, ["keys", "--help"]).output
    unknown = CliRunner().invoke(app, ["no-such-group"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output


def test_the_help_loads_no_command_group() -> None:
    """`triage --help` in a fresh process imports none of the groups' modules (the start time
    a person feels at every command)."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from triage.entrypoints.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('triage.entrypoints.cli.')))\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.splitlines() == ["[]", "False"], ran.stdout + ran.stderr
