"""Loading and validating checklist files, with errors that name the file, the field and the line.

Validation is two passes: the JSON Schema (``checklist.schema.json``, shape and vocabulary), then the
rules a schema cannot say (item ids start with the framework id and are unique across all files).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from governance.checklists.schema import Checklist, ChecklistItem
from governance.errors import PolicyError
from governance.yamlload import DuplicateKeyError, load_yaml, read_utf8, yaml_error_line

SCHEMA_PATH = Path(__file__).with_name("checklist.schema.json")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a checklist file, located as precisely as the YAML allows."""

    path: str
    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f" line {self.line}" if self.line is not None else ""
        return f"{self.path}{where}, field {self.field or '(top level)'}: {self.message}"


@cache
def checklist_schema() -> dict[str, Any]:
    """The JSON Schema every checklist file must satisfy."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def _field_name(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(node: yaml.Node | None, parts: list[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``parts``, or of the deepest parent that exists."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in parts:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((value for key, value in node.value if getattr(key, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            return line
        node = child
        line = node.start_mark.line + 1
    return line


def _read(path: Path) -> tuple[Any, str, list[Problem]]:
    """The parsed file and its text (the YAML's lines are composed only when there is a problem to place)."""
    try:
        text = read_utf8(path, error=PolicyError)
    except OSError as exc:
        return None, "", [Problem(str(path), "", None, f"cannot be read ({exc.strerror})")]
    except PolicyError as not_utf8:
        return None, "", [Problem(str(path), "", None, str(not_utf8).removeprefix(f"{path} "))]
    try:
        data = load_yaml(text, source=str(path))  # words a syntax error
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        return None, text, [Problem(str(path), "", line, f"is not valid YAML ({problem})")]
    except DuplicateKeyError as duplicate:
        message = str(duplicate).removeprefix(f"{path}: ")
        return None, text, [Problem(str(path), "", duplicate.second_line, message)]
    return data, text, []


def _nodes(text: str) -> yaml.Node | None:
    """The YAML's nodes, for the line of each problem."""
    return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def _shipped_digests() -> frozenset[str]:
    """SHA-256 of each checklist shipped with the toolkit, whose validity the toolkit's own tests check."""
    from governance.paths import bundled_policies

    folder = bundled_policies() / "checklists"
    files = [*folder.glob("*.yaml"), *folder.glob("*.yml")]
    return frozenset(hashlib.sha256(path.read_bytes()).hexdigest() for path in files)


def _problems(data: Any, path: Path, text: str) -> list[Problem]:
    """:func:`validate_checklist_data`, skipped for an unchanged copy of a shipped checklist: importing and running
    the JSON Schema validator was a third of ``checklist status``."""
    if hashlib.sha256(text.encode("utf-8")).hexdigest() in _shipped_digests():
        return []
    if not validate_checklist_data(data, path=str(path)):
        return []
    return validate_checklist_data(data, path=str(path), node=_nodes(text))  # again, with lines


def validate_checklist_data(
    data: Any, *, path: str = "<checklist>", node: yaml.Node | None = None
) -> list[Problem]:
    """Every problem in one parsed checklist (schema first, then id rules); empty when it is valid."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(checklist_schema())
    problems = []
    for error in validator.iter_errors(data):
        error_parts: list[str | int] = list(error.absolute_path)
        problems.append(Problem(path, _field_name(error_parts), _line_of(node, error_parts), error.message))
    # In file order; at the same line, the most specific field first.
    problems.sort(
        key=lambda problem: (problem.line or 0, -problem.field.count(".") - problem.field.count("["))
    )
    if problems:
        return problems
    framework = data["framework"]
    seen: set[str] = set()
    for index, item in enumerate(data["items"]):
        parts: list[str | int] = ["items", index, "id"]
        if not item["id"].startswith(framework + "."):
            message = f"id {item['id']!r} must start with the framework id {framework + '.'!r}"
            problems.append(Problem(path, _field_name(parts), _line_of(node, parts), message))
        if item["id"] in seen:
            message = f"id {item['id']!r} is used twice; every item needs its own id"
            problems.append(Problem(path, _field_name(parts), _line_of(node, parts), message))
        seen.add(item["id"])
    return problems


def validate_checklist_file(path: str | Path) -> list[Problem]:
    """Every problem in one checklist file; empty when it is valid."""
    data, text, problems = _read(Path(path))
    if problems:
        return problems
    return validate_checklist_data(data, path=str(path), node=_nodes(text))


def _raise(problems: list[Problem]) -> None:
    first = problems[0]
    more = f" ({len(problems) - 1} more problem(s) after this one)" if len(problems) > 1 else ""
    raise PolicyError(f"Checklist {first}{more}; fix the file and run the command again.")


def load_checklist(path: str | Path) -> Checklist:
    """One checklist file, validated; raises ``PolicyError`` naming the file, field and line."""
    path = Path(path)
    data, text, problems = _read(path)
    if not problems:
        problems = _problems(data, path, text)
    if problems:
        _raise(problems)
    items = [ChecklistItem(**item, framework=data["framework"]) for item in data["items"]]
    return Checklist(**{**data, "items": items}, path=str(path))


def load_checklists(folder: str | Path) -> list[Checklist]:
    """Every ``*.yaml``/``*.yml`` checklist in ``folder``, sorted by framework id.

    Item ids and framework ids must be unique across the folder, because answers in the register are
    keyed by them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PolicyError(
            f"The checklist folder {folder} does not exist; create it with {{init_here}}.",
            actions={"init_here": "governance.scaffold.init_workspace('.')"},
        )
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    checklists = [load_checklist(path) for path in files]
    frameworks: dict[str, str] = {}
    item_files: dict[str, str] = {}
    for checklist in checklists:
        where = checklist.path or "?"
        if checklist.framework in frameworks:
            raise PolicyError(
                f"Checklist {where}: framework {checklist.framework!r} is also defined in "
                f"{frameworks[checklist.framework]}; keep one file per framework."
            )
        frameworks[checklist.framework] = where
        for item in checklist.items:
            if item.id in item_files:
                raise PolicyError(
                    f"Checklist {where}: item id {item.id!r} is also used in {item_files[item.id]}; "
                    "give each item its own id."
                )
            item_files[item.id] = where
    return sorted(checklists, key=lambda checklist: checklist.framework)


def find_item(checklists: list[Checklist], item_id: str) -> ChecklistItem:
    """The item with this id in any checklist; ``PolicyError`` with the nearest ids when it is unknown."""
    import difflib

    for checklist in checklists:
        found = checklist.item(item_id)
        if found is not None:
            return found
    all_ids = [item.id for checklist in checklists for item in checklist.items]
    close = difflib.get_close_matches(item_id, all_ids, n=3, cutoff=0.8)
    hint = f"did you mean {', '.join(close)}?" if close else "{list_items} lists the ids."
    raise PolicyError(
        f"There is no checklist item {item_id!r}; {hint}",
        actions={"list_items": "governance.checklists.loading.load_checklists(folder)"},
    )


def find_checklist(checklists: list[Checklist], framework: str) -> Checklist:
    """The checklist of one framework; ``PolicyError`` listing the known ones when it is unknown."""
    for checklist in checklists:
        if checklist.framework == framework:
            return checklist
    known = ", ".join(checklist.framework for checklist in checklists) or "none"
    raise PolicyError(f"There is no checklist for framework {framework!r}; choose one of: {known}.")
