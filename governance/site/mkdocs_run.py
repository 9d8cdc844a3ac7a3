"""Running MkDocs in-process on the workspace's ``mkdocs.yml``, with the generated pages added to the nav.

If the config's ``nav`` names ``generated/index.md``, that entry becomes a section holding every generated page
(register, models, audits, checklists, policies); without a ``nav``, MkDocs lists every page by itself.
Warnings are collected, and ``strict`` turns them into a failed build as ``mkdocs build --strict`` does.
The site is built into a hidden folder beside ``site_dir`` and swapped in only when MkDocs succeeded.

Rebuilds are incremental (:mod:`governance.site.incremental`): when the config, the nav and the set of pages are
those of the previous build, the new site starts as hard links to the previous site's pages whose sources did
not change, and MkDocs' ``dirty`` build renders only the others; anything else gets a full build.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from governance.atomic import clear_debris, staging_folder, swap_in
from governance.errors import SiteError
from governance.site import audit_figures, incremental, lean

GENERATED_ENTRY = "generated/index.md"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def expand_nav(nav: Any, generated: list[Any]) -> Any:
    """``nav`` with the entry pointing at ``generated/index.md`` replaced by the generated section."""
    if isinstance(nav, list):
        return [expand_nav(item, generated) for item in nav]
    if isinstance(nav, dict):
        expanded = {}
        for title, target in nav.items():
            if target == GENERATED_ENTRY:
                expanded[title] = generated
            else:
                expanded[title] = expand_nav(target, generated)
        return expanded
    return nav


def insert_under_title(markdown: str, block: str) -> str:
    """``block`` after the page's first ``# `` heading (at the top when it has none)."""
    lines = markdown.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("# "):
            return "".join([*lines[: index + 1], "\n", block, "\n", *lines[index + 1 :]])
    return block + "\n" + markdown


def _home_plugin(block: str) -> Any:
    """A MkDocs plugin, registered in-process, that adds ``block`` to the home page (``index.md``)."""
    from mkdocs.config.base import Config
    from mkdocs.plugins import BasePlugin

    class NoOptions(Config):  # type: ignore[no-untyped-call]
        """The plugin takes no settings."""

    class HomeBlock(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]
        def on_page_markdown(self, markdown: str, /, *, page: Any, config: Any, files: Any) -> str:
            return insert_under_title(markdown, block) if page.file.src_uri == "index.md" else markdown

    return HomeBlock()


def _titles_plugin() -> Any:
    """Titles for generated pages outside the nav (audits): the theme would put their heading, unescaped, in
    ``<title>``; this gives them the nav's safe form instead."""
    from mkdocs.config.base import Config
    from mkdocs.plugins import BasePlugin

    class NoOptions(Config):  # type: ignore[no-untyped-call]
        """The plugin takes no settings."""

    class Titles(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]
        def on_page_markdown(self, markdown: str, /, *, page: Any, config: Any, files: Any) -> str:
            if page.file.src_uri.startswith("generated/") and "title" not in page.meta:
                title = incremental.title_from_heading(markdown)
                if title:
                    page.meta["title"] = title
            return markdown

    return Titles()


def _add_page_plugins(config: Any, home_block: str) -> None:
    """The in-process plugins that shape pages: the home page's block, safe titles, audit figures beside MkDocs."""
    if home_block:
        config.plugins["governance-home"] = _home_plugin(home_block)
    config.plugins["governance-titles"] = _titles_plugin()
    config.plugins["governance-audit-figures"] = audit_figures.plugin()


def run_mkdocs(
    config_file: Path, *, strict: bool, generated_nav: list[Any], home_block: str = ""
) -> tuple[Path, list[str]]:
    """Build the site; returns its folder and the warnings. A failed or (strict) warned build raises SiteError.

    ``home_block`` (Markdown) is shown on the home page under its title: the workspace's own ``docs/index.md``
    stays as its authors wrote it, and the block is added while the page is built.
    """
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    collector = _Collect()
    mkdocs_logger = logging.getLogger("mkdocs")
    mkdocs_logger.addHandler(collector)
    try:
        try:
            config = load_config(config_file=str(config_file), strict=strict)
        except MkDocsException as exc:
            raise SiteError(
                f"{config_file} is not a valid MkDocs config ({exc}); fix it or run `governance init`."
            ) from exc
        if config.nav:
            config.nav = expand_nav(config.nav, generated_nav)
        _add_page_plugins(config, home_block)
        site_dir = Path(config.site_dir)
        clear_debris(site_dir)
        staging = staging_folder(site_dir)
        plan = incremental.plan(config, config_file, site_dir, always=["index.md"] if home_block else [])
        linked: set[str] = set()
        links: dict[str, list[str]] = {}
        try:
            config.site_dir = str(staging)  # built beside site/, then swapped in: never half a site
            if plan.dirty:
                config.plugins["governance-incremental"] = incremental.plugin(plan, site_dir, linked)
            config.plugins["governance-links"] = incremental.recorder(links)
            with tempfile.TemporaryDirectory(prefix="governance-site-") as folder:
                spill = lean.Spill(Path(folder))
                config.plugins["governance-lean"] = lean.plugin(
                    spill, previous=site_dir if plan.dirty else None, linked=linked
                )
                try:
                    with incremental.quiet_dirty_warning():
                        build(config, dirty=plan.dirty)
                    lean.write_index(staging, spill)
                    audit_figures.link_figures(Path(config.docs_dir), staging)
                finally:
                    spill.close()
            incremental.save_state(plan, staging, links)
            swap_in(staging, site_dir)
        except MkDocsException as exc:
            details = "; ".join(collector.messages[:5]) or str(exc)
            raise SiteError(
                f"MkDocs refused to build the site ({details}); fix the pages it names and rebuild."
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        mkdocs_logger.removeHandler(collector)
    return site_dir, collector.messages
