"""``governance init``: the files of a new workspace, written so that ``governance site build`` works at once.

Run twice, it changes nothing. It never overwrites a file the user edited unless forced: it keeps the SHA-256 of
every file it wrote in ``.governance/init-manifest.json`` and only replaces a file whose bytes still match.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from governance.atomic import write_atomically
from governance.errors import InputError
from governance.paths import bundled_policies
from governance.provenance import sha256_bytes
from governance.workspace import CONFIG_NAME, load_config

FILES_DIR = Path(__file__).resolve().parent / "files"
MANIFEST = Path(".governance") / "init-manifest.json"
TEMPLATED_SUFFIXES = (".yaml", ".yml", ".md")
DEFAULT_ORGANISATION = "Your organisation"


@dataclass
class InitReport:
    """What ``init`` did, per file (paths relative to the workspace)."""

    root: Path
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited by the user, so left alone

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _organisation(root: Path, given: str | None) -> str:
    if given is not None:
        name = " ".join(given.split())
        if not name:
            raise InputError(
                "The organisation name is empty; pass {organisation} with a name, e.g. 'Acme Lending'.",
                fields=["organisation"],
            )
        return name
    config_path = root / CONFIG_NAME
    if config_path.is_file():
        existing = (load_config(config_path).get("organisation") or {}).get("name")
        if existing:
            return str(existing)
    return DEFAULT_ORGANISATION


def planned_files(organisation: str) -> dict[str, bytes]:
    """Every file ``init`` writes, relative path to bytes: the scaffold, then the shipped policies."""
    from governance.escaping import markup_text

    values = {
        "organisation_yaml": json.dumps(organisation, ensure_ascii=False),
        # the theme writes site_name into the page unescaped: HTML-escape it here
        "site_name_yaml": json.dumps(html.escape(f"{organisation}: AI governance"), ensure_ascii=False),
        "organisation_md": markup_text(organisation),
    }
    planned: dict[str, bytes] = {}
    for path in sorted(FILES_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(FILES_DIR).as_posix()
        data = path.read_bytes()
        if path.suffix in TEMPLATED_SUFFIXES:
            data = Template(data.decode("utf-8")).safe_substitute(values).encode("utf-8")
        planned[relative] = data
    policies = bundled_policies()
    if policies.is_dir():
        for path in sorted(policies.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                planned["policies/" + path.relative_to(policies).as_posix()] = path.read_bytes()
    return planned


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = loaded.get("files") if isinstance(loaded, dict) else None
    return {str(key): str(value) for key, value in files.items()} if isinstance(files, dict) else {}


def init_workspace(target: str | Path, *, force: bool = False, organisation: str | None = None) -> InitReport:
    """Scaffold a workspace in ``target`` (created if missing); see the module docstring for the rules."""
    root = Path(target).resolve()
    if root.exists() and not root.is_dir():
        raise InputError(f"{root} is a file, not a folder; give a folder to create the workspace in.")
    root.mkdir(parents=True, exist_ok=True)
    report = InitReport(root=root)
    name = _organisation(root, organisation)
    manifest_path = root / MANIFEST
    manifest = _read_manifest(manifest_path)
    new_manifest: dict[str, str] = {}
    bundled = bundled_policies().resolve()
    for relative, data in planned_files(name).items():
        destination = root / relative
        wanted = sha256_bytes(data)
        if relative.startswith("policies/") and (root / "policies").resolve() == bundled:
            continue  # the workspace is the toolkit's own checkout: its policies are the source
        if not destination.exists():
            write_atomically(destination, data)
            report.created.append(relative)
            new_manifest[relative] = wanted
            continue
        current = sha256_bytes(destination.read_bytes())
        if current == wanted:
            report.unchanged.append(relative)
            new_manifest[relative] = wanted
        elif force or manifest.get(relative) == current:
            write_atomically(destination, data)
            report.updated.append(relative)
            new_manifest[relative] = wanted
        else:
            report.kept.append(relative)
            if relative in manifest:
                new_manifest[relative] = manifest[relative]
    for folder in ("audits", "docs/generated"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    if new_manifest != manifest:
        text = json.dumps({"files": dict(sorted(new_manifest.items()))}, indent=2) + "\n"
        write_atomically(manifest_path, text.encode("utf-8"))
    return report
