"""The workspace: a folder with ``governance.yaml``, ``policies/``, ``audits/``, ``docs/`` and ``mkdocs.yml``.

Commands find it by walking up from the current folder to the first ``governance.yaml`` (like git),
or from ``--workspace`` / ``GOVERNANCE_WORKSPACE``. Commands that record or publish something (the register,
``status``, ``site``, checklist answers, a registered audit) call :func:`require_workspace`, which refuses to
guess: without a ``governance.yaml`` they stop instead of creating a second register in whatever folder they
were run from. A register URL (``GOVERNANCE_REGISTER_URL``) does not replace the workspace, because the register
stores model and audit file paths relative to it. Commands that only read shipped material, ``init``, ``demo``
and a one-off ``audit --no-register`` use :func:`find_workspace`, which falls back to the current folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import InputError

CONFIG_NAME = "governance.yaml"


@dataclass(frozen=True)
class Workspace:
    """Where things live, and the organisation's settings from ``governance.yaml``."""

    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def audits_dir(self) -> Path:
        return self.root / "audits"

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def generated_dir(self) -> Path:
        return self.docs_dir / "generated"

    @property
    def state_dir(self) -> Path:
        """Private state (the SQLite register): ``.governance/``."""
        return self.root / ".governance"

    @property
    def register_url(self) -> str:
        """``GOVERNANCE_REGISTER_URL``, then ``register.url`` in the config, then a SQLite file here."""
        from_env = os.environ.get("GOVERNANCE_REGISTER_URL")
        if from_env:
            return from_env
        configured = (self.config.get("register") or {}).get("url")
        if configured:
            return str(configured)
        return f"sqlite:///{self.state_dir / 'register.db'}"

    @property
    def organisation(self) -> str:
        return str((self.config.get("organisation") or {}).get("name") or "Your organisation")

    def model_card(self, name: str) -> dict[str, Any]:
        """The model's fields under ``models:`` in governance.yaml (empty when it has none)."""
        models = self.config.get("models") or {}
        card = models.get(name) if isinstance(models, dict) else None
        return dict(card) if isinstance(card, dict) else {}

    @property
    def suppression_threshold(self) -> int:
        """Published tables mask cells with fewer people than this (default 10; 1 or 0 masks nothing).

        A typo here must not switch masking off or crash a build, so anything but a whole number is refused.
        """
        value = (self.config.get("site") or {}).get("min_cell_size", 10)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(
                f"site.min_cell_size in {self.root / CONFIG_NAME} must be a whole number of people, such as 10, "
                f"not {value!r}: groups smaller than it are masked on the site."
            )
        return value


def load_config(path: Path) -> dict[str, Any]:
    """Read ``governance.yaml``; a broken file gets a message that names it and the line."""
    import yaml  # here, not above: finding the workspace (``find_root``) reads no YAML

    from governance.yamlload import at_line, load_yaml, read_utf8, yaml_error_line

    text = read_utf8(path, unreadable="Cannot read {path} ({reason}); check the path and its permissions.")
    try:
        loaded = load_yaml(text, source=str(path))
    except yaml.YAMLError as exc:
        where = at_line(yaml_error_line(exc))
        raise InputError(
            f"{path} is not valid YAML{where}; fix the file or {{init_force}}.",
            actions={
                "init_force": "write a fresh one with governance.scaffold.init_workspace(folder, force=True)"
            },
        ) from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InputError(
            f"{path} must hold a mapping of settings (key: value), not a {type(loaded).__name__}."
        )
    check_settings(loaded, path)
    return loaded


_SECTIONS = ("organisation", "register", "site", "models", "policies")


def _setting_error(path: Path, key: str, wanted: str, value: Any) -> InputError:
    return InputError(f"{path}: {key} must be {wanted}, not {value!r}; fix it in governance.yaml.")


def _whole_number(value: Any, *, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_settings(config: dict[str, Any], path: Path) -> None:
    """Refuse a setting of the wrong type when the file is read, naming it, instead of failing later in a traceback."""
    for section in _SECTIONS:
        value = config.get(section)
        if value is not None and not isinstance(value, dict):
            raise _setting_error(path, section, "a mapping of settings (indented key: value lines)", value)
    organisation = config.get("organisation") or {}
    name = organisation.get("name")
    if name is not None and not isinstance(name, str | int | float):
        raise _setting_error(path, "organisation.name", "a name in quotes", name)
    url = (config.get("register") or {}).get("url")
    if url is not None and not isinstance(url, str):
        raise _setting_error(
            path, "register.url", "a database URL such as postgresql+psycopg://host/db, or null", url
        )
    site = config.get("site") or {}
    if "min_cell_size" in site and not _whole_number(site["min_cell_size"], minimum=1):
        raise _setting_error(
            path,
            "site.min_cell_size",
            "a whole number of people, 1 or more (10 is usual)",
            site["min_cell_size"],
        )
    policies = config.get("policies") or {}
    interval = policies.get("review_interval_months")
    if interval is not None and not _whole_number(interval, minimum=1):
        raise _setting_error(
            path, "policies.review_interval_months", "a whole number of months, 1 or more", interval
        )


class NoWorkspaceError(InputError):
    """A command that records or publishes something was run outside a workspace."""


def _origin(start: str | Path | None) -> tuple[Path, bool]:
    """Where the search starts, and whether the user named it (``--workspace`` or ``GOVERNANCE_WORKSPACE``)."""
    named = start or os.environ.get("GOVERNANCE_WORKSPACE")
    return Path(named or Path.cwd()).resolve(), bool(named)


def find_root(start: str | Path | None = None) -> Path | None:
    """The folder holding the first ``governance.yaml`` at ``start`` or above (the default as ``find_workspace``),
    without reading it: a command can refuse "no workspace" before PyYAML loads."""
    origin, _named = _origin(start)
    return _root_above(origin)


def _root_above(origin: Path) -> Path | None:
    for candidate in (origin, *origin.parents):
        path = candidate / CONFIG_NAME
        if path.is_file():
            return candidate
        if path.is_dir():  # a mistake to show: passing it by would use the workspace above, or none
            raise InputError(
                f"{path} is a folder where a workspace's settings file would be; rename or remove that folder, "
                "then run the command again."
            )
    return None


def _search(origin: Path) -> Workspace | None:
    root = _root_above(origin)
    return None if root is None else Workspace(root=root, config=load_config(root / CONFIG_NAME))


def find_workspace(start: str | Path | None = None) -> Workspace:
    """The workspace containing ``start`` (default: ``GOVERNANCE_WORKSPACE`` or the current folder), else that folder."""
    origin, _named = _origin(start)
    return _search(origin) or Workspace(root=origin, config={})


def require_workspace(start: str | Path | None = None) -> Workspace:
    """The workspace containing ``start``; :class:`NoWorkspaceError` rather than a guess when there is none."""
    origin, named = _origin(start)
    found = _search(origin)
    if found is not None:
        return found
    # A Python caller gave ``start``; the command line's --workspace or GOVERNANCE_WORKSPACE
    where = {"fields": {"workspace": "start"}, "subject": {"folder": str(origin)}}
    if named:
        raise NoWorkspaceError(
            f"no workspace in {origin} (no governance.yaml in that folder or above); "
            "run {init} or pass {workspace} with an existing one.",
            actions={"init": f"governance.scaffold.init_workspace({str(origin)!r})"},
            **where,
        )
    raise NoWorkspaceError(
        "no workspace here (no governance.yaml in this folder or above); run {init_here} or pass {workspace}.",
        actions={"init_here": "governance.scaffold.init_workspace('.')"},
        **where,
    )
