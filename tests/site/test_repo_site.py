"""The repository is its own demo workspace: its mkdocs.yml names only pages that exist and keeps the site offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def _targets(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [target for item in nav for target in _targets(item)]
    if isinstance(nav, dict):
        return [target for value in nav.values() for target in _targets(value)]
    return []


def test_every_nav_target_exists_except_the_generated_part() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    missing = [
        target
        for target in _targets(config["nav"])
        if not target.startswith("generated/") and not (REPO / "docs" / target).is_file()
    ]
    assert missing == [], f"mkdocs.yml names pages that do not exist: {missing}"


def test_every_guide_page_is_in_the_nav() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = set(_targets(config["nav"]))
    pages = {path.relative_to(REPO / "docs").as_posix() for path in (REPO / "docs" / "guide").glob("*.md")}
    assert pages - listed == set(), "add these guide pages to the nav of mkdocs.yml"


def test_the_site_is_configured_to_stay_offline() -> None:
    for config_path in (REPO / "mkdocs.yml", REPO / "governance/scaffold/files/mkdocs.yml"):
        text = config_path.read_text(encoding="utf-8").replace("$site_name_yaml", "x")
        config = yaml.safe_load(text)
        assert config["theme"]["font"] is False
        assert "offline" in config["plugins"]
        assert config["extra"]["polyfills"] == ["assets/iframe-worker/shim.js"]
        assert "privacy" not in config["plugins"]  # it downloads at build time: an offline build fails


def test_the_repository_site_builds_strictly(tmp_path: Path) -> None:
    """README command 1 ends with this build: the guide, the CLI reference and the demo's audits, strict."""
    import shutil

    from governance.site import build_site
    from governance.workspace import find_workspace

    root = tmp_path / "repo"
    root.mkdir()
    for name in ("mkdocs.yml", "governance.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("generated"))
    shutil.copytree(REPO / "policies", root / "policies")
    if (REPO / "audits").is_dir():
        shutil.copytree(REPO / "audits", root / "audits")
    report = build_site(find_workspace(root))  # no register here: the pages come from the audits alone
    assert report.index_html is not None and report.index_html.is_file()
    assert (root / "site" / "reference" / "cli.html").is_file()
    assert (root / "site" / "guide" / "site.html").is_file()
