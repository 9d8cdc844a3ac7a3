"""The command-line reference page, generated from the Click commands themselves.

``docs/reference/cli.md`` is this module's output; ``tests/test_docs.py`` fails when they differ. Regenerate with
``.venv/bin/python -m governance.cli.reference --write``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import click

from governance.cli.main import cli

REFERENCE_PATH = Path("docs") / "reference" / "cli.md"
REGENERATE = ".venv/bin/python -m governance.cli.reference --write"
WIDTH = 100


def iter_commands(
    command: click.Command = cli, path: tuple[str, ...] = ("governance",), parent: click.Context | None = None
) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    """Every command and sub-command, depth first in name order, with a context for its help."""
    context = click.Context(
        command, info_name=path[-1], parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )
    yield path, command, context
    for name, child in sorted(getattr(command, "extra_commands", {}).items()):  # `audit diff` beside `audit`
        yield from iter_commands(child, (*path, name), context)
    if isinstance(command, click.Group):
        for name in command.list_commands(context):
            child = command.get_command(context, name)
            if child is not None and not child.hidden:
                yield from iter_commands(child, (*path, name), context)


def generate() -> str:
    """The whole Markdown page."""
    lines = [
        "# Command-line reference",
        "",
        "Every command's `--help`, generated from the code. Do not edit by hand: run",
        f"`{REGENERATE}` after changing a command.",
        "",
    ]
    for path, command, context in iter_commands():
        help_text = command.get_help(context).rstrip()
        lines += [f"## {' '.join(path)}", "", "```text", help_text, "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the page, or write it to ``docs/reference/cli.md`` with ``--write``."""
    parser = argparse.ArgumentParser(description="Generate the CLI reference page.")
    parser.add_argument("--write", action="store_true", help=f"write {REFERENCE_PATH} instead of printing")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: here)")
    arguments = parser.parse_args(argv)
    page = generate()
    if arguments.write:
        target = arguments.root / REFERENCE_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        print(f"Wrote {target}")
    else:
        print(page, end="")


if __name__ == "__main__":
    main()
