"""The library names fields and method calls, never a command-line flag or command (issue 12, point 5).

A Python caller never typed ``--history`` or ``governance monitor``: a library sentence that suggests a next
step records it (``governance.results.next_steps.NextStep``, or an error's ``actions``), and the command line and
the site word it as the command through the one table in ``governance/results/commands.py``. This test reads
every string literal of ``governance/`` (docstrings aside) outside the command line and that table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "governance"

FLAG = re.compile(r"(?<![\w-])--[a-z]")
COMMAND = re.compile(
    r"\bgovernance (audit|checklist|compare|demo|explain|init|mitigate|monitor|policy|register|site|status)\b"
)

EDGES = {
    "cli",  # the command line words its own flags and commands
    "site",  # the site is for people who run the command line: its pages name the commands to run
    "demo",  # the demo prints the commands it stands for, for the reader to run
}
WORDING_MODULE = "results/commands.py"  # the one table of commands, shared by the command line and the site

STAYS = {
    # (file, text in the literal): why it names a flag or command and must keep it
    ("generated.py", "--write"): "the `python -m` command line of the modules that make shipped data files",
    ("register/names.py", "governance.register.names --write"): "the same command, in its help text",
    ("intake/skops_types.py", "governance.intake.skops_types --write"): "the same command, in its help text",
    ("rules/load.py", "governance policy file"): "a YAML file's title, not a command",
    ("schemas/__init__.py", "governance audit.json"): "a JSON schema's title, not a command",
}

NOT_YET: set[str] = set()
"""Files whose messages still name flags or commands (empty since issue 12's last pass): a file listed here is allowed
to, and the test below fails when a listed file has nothing left to allow, so this list only shrinks."""


def _docstrings(tree: ast.Module) -> set[int]:
    kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def flag_words() -> dict[str, list[str]]:
    """Each library file's string literals that name a flag or a command, as ``line: text``."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.split("/")[0] in EDGES or relative == WORDING_MODULE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
                continue
            text = node.value
            hits = [m.group(0) for pattern in (FLAG, COMMAND) for m in pattern.finditer(text)]
            if hits and not any(relative == file and words in text for file, words in STAYS):
                found.setdefault(relative, []).append(f"{node.lineno}: {text.strip()[:100]}")
    return found


def test_library_text_names_no_flag_or_command() -> None:
    found = flag_words()
    named = {file: lines for file, lines in found.items() if file not in NOT_YET}
    assert not named, (
        "library text names command-line flags or commands; name the field (FieldError, fields=...) or record "
        f"the next step (governance.register.actions.step) instead: {named}"
    )


def test_the_list_of_files_still_to_convert_only_shrinks() -> None:
    clean = sorted(NOT_YET - set(flag_words()))
    assert not clean, f"these files name no flag any more; take them off NOT_YET: {clean}"


def test_every_step_is_worded_as_its_command_and_said_as_a_call() -> None:
    """Each next step the library records reads as a call (no flag) and is worded as a command by the one table."""
    from governance.register.actions import CALLS, step
    from governance.results.commands import COMMAND_OF_ACTION
    from governance.results.next_steps import worded

    subject = {
        "model": "credit",
        "version": "1.0",
        "label": "credit@1.0",
        "uri": "models:/credit/1",
        "role": "alice",
    }
    for action in CALLS:
        said = step(action, **subject)
        assert not FLAG.search(said.said) and not COMMAND.search(said.said), action
        assert (
            worded(f"Do this: {said.said}.", [said])
            == f"Do this: {COMMAND_OF_ACTION[action].format(**subject)}."
        )
