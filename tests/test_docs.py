"""The documentation is part of the feature: every command has help, and the CLI reference page is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from governance.cli.reference import REFERENCE_PATH, REGENERATE, iter_commands

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [(" ".join(path), command) for path, command, _ in iter_commands()]


def test_every_command_of_the_tree_is_listed() -> None:
    names = {name for name, _ in COMMANDS}
    for expected in ("governance init", "governance site build", "governance site serve"):
        assert expected in names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_has_help(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`{name}` has no help text: add a docstring to its function."


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_option_has_help(name: str, command: click.Command) -> None:
    missing = [
        parameter.opts[0]
        for parameter in command.params
        if isinstance(parameter, click.Option) and not parameter.hidden and not (parameter.help or "").strip()
    ]
    assert missing == [], f"`{name}` has options without help: {missing}"


def test_cli_reference_is_current() -> None:
    page = ROOT / REFERENCE_PATH
    assert page.is_file(), f"{REFERENCE_PATH} is missing; run `{REGENERATE}`."
    # A fresh interpreter, as the developer runs it: Click caches each command's help option on first use, so
    # in this process a test that invoked a sub-command on its own could change how `-h, --help` is listed.
    fresh = subprocess.run(
        [sys.executable, "-m", "governance.cli.reference"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert page.read_text(encoding="utf-8") == fresh, (
        f"{REFERENCE_PATH} is out of date with the commands; run `{REGENERATE}` and commit it."
    )
