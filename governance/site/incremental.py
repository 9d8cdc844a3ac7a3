"""Incremental MkDocs builds: render only the pages whose sources changed since the previous build.

The new site is still built whole in a hidden folder and swapped in (:mod:`governance.site.swap`); what changes is
how that folder starts. When the previous build used the same ``mkdocs.yml``, nav, plugins and tool versions, and
no page has gone since, every output of a source that did not change since it was built is hard-linked from the
previous site into the new folder (same bytes, same time stamp, no copy), and MkDocs' ``dirty`` build renders only
the others. Nothing else is linked, so every file MkDocs writes is a new file, never one the live site shares,
and an output whose source is gone is simply not there. The pages it skips keep their search entries, taken from
the previous site's search index.

A page removed since (a comparison page of a version that is no longer live, an audit deleted) is simply not
built; every page that linked to it in the previous build is rendered again, so that a strict build still fails
on the broken link. Each build records which pages each page links to, for the next one.

Anything else gets a full build: the first build, a changed ``mkdocs.yml`` or nav (a new model), a plugin this
module does not know, or a previous site without this module's record (``site/`` deleted, or built by an older
version).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Plugins whose output for a page depends on that page alone (and ours): only with these is a dirty build safe.
KNOWN_PLUGINS = {
    "search",
    "material/search",
    "offline",
    "material/offline",
    "governance-home",
    "governance-titles",
    "governance-lean",
    "governance-links",
    "governance-audit-figures",
}
DIRTY_WARNING = "A 'dirty' build is being performed"
STATE_VERSION = 3  # 2: the search index is written a line per entry (governance.site.lean); 3: the links


@dataclass
class Plan:
    """Whether this build can be incremental, and what the next one compares against."""

    dirty: bool
    signature: str
    pages: list[str]
    always: list[str] = field(default_factory=list)  # pages rebuilt every time (the home page's live block)
    reason: str = ""
    links: dict[str, list[str]] = field(
        default_factory=dict
    )  # page -> the pages it links to (previous build)
    again: set[str] = field(
        default_factory=set
    )  # unchanged pages rendered again: they linked to a removed page


def state_file(site_dir: Path) -> Path:
    """The build's record, inside the site it describes, so that both are swapped in by the same rename
    (it names the sources of the pages and a hash, nothing that is not on the site already)."""
    return site_dir / ".governance-build.json"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("governance", "mkdocs", "mkdocs-material", "markdown"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "-"
    return found


def signature(config: Any, config_file: Path) -> str:
    """What every page's HTML depends on besides its own source: config, nav, plugins, theme, versions."""
    parts = {
        "state": STATE_VERSION,
        "config": hashlib.sha256(config_file.read_bytes()).hexdigest(),
        "nav": json.dumps(config.nav, sort_keys=True, default=str),
        "plugins": sorted(config.plugins),
        "theme": str(config.theme.name),
        "docs_dir": str(config.docs_dir),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def plan(config: Any, config_file: Path, site_dir: Path, *, always: list[str]) -> Plan:
    """Decide between an incremental and a full build (see the module docstring)."""
    from mkdocs.structure.files import get_files

    pages = sorted(file.src_uri for file in get_files(config) if file.is_documentation_page())
    found = Plan(dirty=False, signature=signature(config, config_file), pages=pages, always=always)
    previous = _read_state(site_dir)
    if previous is None or not (site_dir / "index.html").is_file():
        found.reason = "no previous build"
    elif previous.get("signature") != found.signature:
        found.reason = "mkdocs.yml, the nav, the plugins or a version changed"
    elif set(config.plugins) - KNOWN_PLUGINS:
        found.reason = "a plugin that may depend on other pages is configured"
    else:
        found.dirty = True
        found.links = _previous_links(previous)
        removed = set(previous.get("pages") or []) - set(pages)
        found.again = {page for page, targets in found.links.items() if removed.intersection(targets)}
    return found


def _previous_links(previous: dict[str, Any]) -> dict[str, list[str]]:
    links = previous.get("links")
    if not isinstance(links, dict):
        return {}
    return {
        str(page): [str(target) for target in targets]
        for page, targets in links.items()
        if isinstance(targets, list)
    }


def _read_state(site_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(state_file(site_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save_state(found: Plan, staging: Path, rendered: dict[str, list[str]]) -> None:
    """Record this build for the next one, in the new site before it is swapped in: the links of the pages it
    rendered (``rendered``, see :func:`recorder`), and the previous build's for the pages it took over."""
    links = {page: rendered.get(page, found.links.get(page, [])) for page in found.pages}
    state_file(staging).write_text(
        json.dumps({"signature": found.signature, "pages": found.pages, "links": links}), encoding="utf-8"
    )


@contextmanager
def quiet_dirty_warning() -> Iterator[None]:
    """MkDocs warns that a dirty build may give a stale nav; this module rules that out, so strict mode must not fail."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DIRTY_WARNING)

    logger = logging.getLogger("mkdocs.commands.build")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def plugin(found: Plan, previous: Path, linked: set[str]) -> Any:
    """The in-process plugin that links unchanged outputs (their names go into ``linked``).

    The search entries of the pages it skips are taken from the previous site's index by
    :mod:`governance.site.lean`.
    """
    from mkdocs.config.base import Config
    from mkdocs.plugins import BasePlugin

    class NoOptions(Config):  # type: ignore[no-untyped-call]
        """The plugin takes no settings."""

    class Incremental(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]
        def __init__(self) -> None:
            super().__init__()
            self.in_nav: set[str] = set()

        def on_files(self, files: Any, /, *, config: Any) -> Any:
            skip = {*found.always, *found.again}
            for file in files:
                if _link_unchanged(file, previous, skip):
                    linked.add(file.dest_uri)
            return files

        def on_nav(self, nav: Any, /, *, config: Any, files: Any) -> Any:
            self.in_nav = {page.file.src_uri for page in nav.pages}
            return nav

        def on_env(self, env: Any, /, *, config: Any, files: Any) -> Any:
            _read_titles(files, config, self.in_nav)
            return env

    return Incremental()


def _read_titles(files: Any, config: Any, in_nav: set[str]) -> None:
    """The titles of the skipped pages in the nav, for the nav of the pages that are rendered (only a page in the
    nav shows its title on others; audits are not in it)."""
    for file in files.documentation_pages():
        page = file.page
        if page is not None and page.markdown is None and file.src_uri in in_nav:
            page.read_source(config)
            if file.src_uri.startswith("generated/"):  # as governance-titles would; the text can go
                title = page.meta.get("title") or title_from_heading(page.markdown or "")
                if title:
                    page.meta["title"] = title
                page.markdown = ""


def _link_unchanged(file: Any, previous: Path, always: set[str]) -> bool:
    """Hard-link the previous output of ``file`` into the new site when its source is older than that output."""
    if file.src_uri in always or file.abs_src_path is None or file.inclusion.is_excluded():
        return False
    old = previous / file.dest_uri
    try:
        old_stat = old.lstat()
        source = os.stat(file.abs_src_path)
    except OSError:
        return False
    if not old.is_file() or old.is_symlink() or old_stat.st_mtime < source.st_mtime:
        return False
    target = Path(file.abs_dest_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, target)
    except OSError:  # another file system, or no hard links: MkDocs renders it instead
        return False
    return True


def title_from_heading(markdown: str) -> str | None:
    """A safe browser-tab title from a generated page's first ``# `` heading (escaped text, see ``nav_title``)."""
    import html

    from governance.escaping import nav_title

    for line in markdown.splitlines():
        if line.startswith("# "):
            return nav_title(html.unescape(line[2:].strip()))
    return None


HREF = re.compile(r"""\b(?:href|src)=["']([^"'#?]+)""")


def recorder(rendered: dict[str, list[str]]) -> Any:
    """The in-process plugin that records, for each page it sees rendered, the pages its HTML links to."""
    from mkdocs.config.base import Config
    from mkdocs.plugins import BasePlugin

    class NoOptions(Config):  # type: ignore[no-untyped-call]
        """The plugin takes no settings."""

    class Links(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]
        def __init__(self) -> None:
            super().__init__()
            self.by_url: dict[str, str] = {}

        def on_files(self, files: Any, /, *, config: Any) -> Any:
            self.by_url = {_url_key(file.url): file.src_uri for file in files.documentation_pages()}
            return files

        def on_page_content(self, html: str, /, *, page: Any, config: Any, files: Any) -> str:
            rendered[page.file.src_uri] = page_links(html, page.url, self.by_url)
            return html

    return Links()


def page_links(html: str, url: str, by_url: dict[str, str]) -> list[str]:
    """The pages (by source) that a page's HTML links to; ``url`` is the page's own address."""
    base = posixpath.dirname(url) if not url.endswith("/") else url.rstrip("/")
    found = set()
    for href in HREF.findall(html):
        if "://" in href or href.startswith(("/", "mailto:", "data:")):
            continue
        target = by_url.get(_url_key(posixpath.join(base, href)))
        if target is not None:
            found.add(target)
    return sorted(found)


def _url_key(url: str) -> str:
    return posixpath.normpath(url or ".").strip("/")
