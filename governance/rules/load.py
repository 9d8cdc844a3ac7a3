"""Reading a policy file, with errors that name the field and the line.

``--policy`` takes a path or the name of a shipped preset (``default``, ``four-fifths``, ``nyc-ll144``,
``equalized-odds``, ``regression``); a workspace's own ``policies/presets/`` shadows the shipped ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.errors import PolicyError
from governance.paths import bundled_policies
from governance.provenance import sha256_file
from governance.rules.schema import Policy
from governance.yamlload import at_line, load_yaml, read_utf8, yaml_error_line


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy and where it came from."""

    policy: Policy
    path: Path
    sha256: str


def preset_dirs(workspace_root: Path | None = None) -> list[Path]:
    """Folders searched for presets: the workspace's own first, then the shipped ones."""
    folders = []
    if workspace_root is not None:
        folders.append(workspace_root / "policies" / "presets")
    folders.append(bundled_policies() / "presets")
    return folders


def preset_names(workspace_root: Path | None = None) -> list[str]:
    """Every preset name available."""
    names = {
        path.stem
        for folder in preset_dirs(workspace_root)
        if folder.is_dir()
        for path in folder.glob("*.yaml")
    }
    return sorted(names)


def resolve_policy_path(name_or_path: str, workspace_root: Path | None = None) -> Path:
    """A policy path from a file path or a preset name."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        if not candidate.is_file():
            raise PolicyError(
                f"The policy file {candidate} does not exist; check the path given with {{policy}}.",
                fields=["policy"],
            )
        return candidate
    for folder in preset_dirs(workspace_root):
        preset = folder / f"{name_or_path}.yaml"
        if preset.is_file():
            return preset
    raise PolicyError(
        f"There is no policy preset called '{name_or_path}'; use a file path or one of: "
        f"{', '.join(preset_names(workspace_root))}."
    )


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``location`` (keys and list indexes), as deep as it exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in location:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if key.value == step:
                    found = (key, value)
                    break
            if found is None:
                return line
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe(error: Any) -> tuple[tuple[Any, ...], str]:
    raw = list(error["loc"])
    # Drop the union's tag, which follows a rule's list index, and validator names such as function-after[...].
    location = tuple(
        part
        for index, part in enumerate(raw)
        if not (
            isinstance(part, str)
            and (
                "[" in part
                or (part in {"metric", "explain"} and index > 0 and isinstance(raw[index - 1], int))
            )
        )
    )
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key '{location[-1]}' (check its spelling)"
    elif error["type"] == "missing":
        message = f"missing required key '{location[-1]}'"
    return location, message


def parse_policy(text: str, *, source: str) -> Policy:
    """Validate policy YAML text; the error names the field and the line."""
    from pydantic import ValidationError

    try:
        node = yaml.compose(text)
        data = load_yaml(text, source=source)
    except yaml.YAMLError as exc:
        where = at_line(yaml_error_line(exc))
        raise PolicyError(
            f"{source} is not valid YAML{where}; check the indentation and colons there."
        ) from exc
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source} must be a mapping with at least 'name' and 'rules'; see {{policy_schema}}.",
            actions={"policy_schema": "governance.rules.schema.policy_schema()"},
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        location, message = _describe(exc.errors()[0])
        line = _line_of(node, location)
        field = ".".join(str(part) for part in location) or "(top level)"
        where = f"line {line}, " if line else ""
        raise PolicyError(f"{source}: {where}{field}: {message}.") from None


def load_policy(name_or_path: str, *, workspace_root: Path | None = None) -> LoadedPolicy:
    """Load and validate a policy by path or preset name."""
    path = resolve_policy_path(name_or_path, workspace_root)
    text = read_utf8(
        path,
        error=PolicyError,
        unreadable="Cannot read the policy file {path} ({reason}); check its permissions.",
    )
    return LoadedPolicy(policy=parse_policy(text, source=path.name), path=path, sha256=sha256_file(path))


def policy_json_schema() -> str:
    """The JSON Schema of policy files, as published in ``governance/schemas/policy.schema.json``."""
    schema = Policy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "governance policy file"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
