"""Keeping a MkDocs build's memory flat however many pages: page HTML and search entries wait on disk.

MkDocs renders every page's Markdown before it writes any (so that links and the nav are known) and keeps each
page's HTML until the end; the search plugin keeps the text of every section until it writes its index. On a
site of a thousand audits that grows by about 0.2 MB a page. This plugin moves each generated page's HTML and
Markdown to a temporary file once rendered and brings the HTML back only while its page is written, and moves
each search entry to a temporary file of JSON lines as soon as the search plugin makes it. After every other
plugin, the index (and the offline plugin's copy of it) is written again from that file, one entry a line.

The same file takes the entries of the audits' ``details.html`` (plain pages outside MkDocs' pipeline, see
:mod:`governance.site.details_html`), made by the search plugin's own indexer, so that their full tables are
searchable; and, on a dirty build, the previous entries of the pages and details files it did not render again.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

DETAILS_PAGE = "details.html"
GENERATED = "generated/"
HEADER_END = '"docs":['


@dataclass
class Spill:
    """The temporary folder a build's page HTML and search entries wait in (removed by its owner)."""

    folder: Path
    pages: dict[str, Path] = field(default_factory=dict)  # page source -> its HTML on disk
    entries: TextIO | None = None
    count: int = 0

    def keep_page(self, src_uri: str, content: str) -> None:
        path = self.folder / f"page-{len(self.pages)}.html"
        path.write_text(content, encoding="utf-8")
        self.pages[src_uri] = path

    def page(self, src_uri: str) -> str | None:
        path = self.pages.get(src_uri)
        return path.read_text(encoding="utf-8") if path is not None else None

    def add(self, entries: list[dict[str, Any]]) -> None:
        """Append search entries, one JSON object a line."""
        if self.entries is None:
            self.entries = (self.folder / "entries.jsonl").open("w", encoding="utf-8")
        for entry in entries:
            self.entries.write(json.dumps(entry, separators=(",", ":"), default=str) + "\n")
            self.count += 1

    def add_line(self, line: str) -> None:
        """Append one entry already written as a line of JSON (a previous index's, taken over as it is)."""
        if self.entries is None:
            self.entries = (self.folder / "entries.jsonl").open("w", encoding="utf-8")
        self.entries.write(line + "\n")
        self.count += 1

    def close(self) -> None:
        if self.entries is not None:
            self.entries.close()

    def lines(self) -> Iterator[str]:
        self.close()
        path = self.folder / "entries.jsonl"
        if not path.is_file():
            return
        with path.open(encoding="utf-8") as handle:
            yield from (line.rstrip("\n") for line in handle)


def _entries_list(config: Any) -> list[dict[str, Any]] | None:
    """The list the search plugin writes its index from (Material's ``entries`` or MkDocs' ``_entries``)."""
    for instance in config.plugins.values():
        index = getattr(instance, "search_index", None)
        for name in ("entries", "_entries"):
            entries = getattr(index, name, None)
            if isinstance(entries, list):
                return entries
    return None


def search_entries(config: Any) -> list[dict[str, Any]] | None:
    """That list, when its entries may wait on disk (not for MkDocs' pre-built index, made from the list)."""
    for instance in config.plugins.values():
        if getattr(instance, "search_index", None) is not None:
            options = getattr(instance, "config", None)
            if options is not None and options.get("prebuild_index"):
                return None
    return _entries_list(config)


def _search_index(config: Any) -> Any:
    for instance in config.plugins.values():
        index = getattr(instance, "search_index", None)
        if index is not None and hasattr(index, "add_entry_from_context"):
            return index
    return None


LOCATION = re.compile(r'\{"location":("(?:[^"\\]|\\.)*")[,}]')


def previous_entries(site_dir: Path) -> Iterator[tuple[str, str]]:
    """The previous site's search entries, one at a time, as (address, the entry as a line of JSON).

    An index written by :func:`write_index` has an entry a line, each starting with its address: only that is
    parsed (the text of a thousand audits' tables is passed on as it is); any other index is read whole.
    """
    path = site_dir / "search" / "search_index.json"
    try:
        handle = path.open(encoding="utf-8")
    except OSError:
        return
    with handle:
        first = handle.readline()
        if not first.rstrip("\n").endswith(HEADER_END):  # not written here: read it whole (once)
            try:
                data = json.loads(first + handle.read())
            except ValueError:
                return
            for entry in data.get("docs") or []:
                if isinstance(entry, dict):
                    yield (
                        str(entry.get("location", "")),
                        json.dumps(entry, separators=(",", ":"), default=str),
                    )
            return
        for line in handle:
            found = _entry_line(line.rstrip("\n").rstrip(","))
            if found is not None:
                yield found


def _entry_line(text: str) -> tuple[str, str] | None:
    """(address, line) of one line of an index written here; ``None`` for what is not an entry."""
    if not text.startswith("{"):
        return None
    matched = LOCATION.match(text)
    try:
        if matched is not None:
            return str(json.loads(matched.group(1))), text
        entry = json.loads(text)
    except ValueError:
        return None
    return (str(entry.get("location", "")), text) if isinstance(entry, dict) else None


def write_index(site_dir: Path, spill: Spill) -> None:
    """Write the search index (and the offline plugin's script copy) from the spilled entries, a line each."""
    folder = site_dir / "search"
    path = folder / "search_index.json"
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no search on this site
    leftover = [entry for entry in written.get("docs") or [] if isinstance(entry, dict)]
    if leftover:
        spill.add(leftover)
    config = json.dumps(written.get("config", {}), separators=(",", ":"), default=str)
    staged = folder / "search_index.json.tmp"
    with staged.open("w", encoding="utf-8") as out:
        out.write('{"config":' + config + "," + HEADER_END + "\n")
        first = True
        for line in spill.lines():
            out.write(("" if first else ",\n") + line)
            first = False
        out.write("\n]}")
    script = folder / "search_index.js"
    if script.is_file():  # the offline plugin's copy, for file:// use
        with staged.open(encoding="utf-8") as source, script.open("w", encoding="utf-8") as out:
            out.write("var __index = ")
            shutil.copyfileobj(source, out)
    staged.replace(path)


def details_entries(index: Any, file: Any) -> list[dict[str, Any]]:
    """The search plugin's entries for one ``details.html``, by its own indexer (one entry per section)."""
    from governance.site.details_html import body_of

    try:
        html = Path(file.abs_dest_path).read_text(encoding="utf-8")
    except OSError:
        return []
    content, title = body_of(html)
    content = re.sub(r"(</(?:t[dh]|tr|li|p|h\d)>)", r"\1 ", content)  # words of adjacent cells stay apart
    page = SimpleNamespace(content=content, toc=[], url=file.url, title=title, meta={})
    before = search_list(index)
    start = len(before)
    index.add_entry_from_context(page)
    found = before[start:]
    del before[start:]
    return found


def search_list(index: Any) -> list[dict[str, Any]]:
    """The index's own list of entries."""
    for name in ("entries", "_entries"):
        entries = getattr(index, name, None)
        if isinstance(entries, list):
            return entries
    return []


def is_details(file: Any) -> bool:
    return bool(file.src_uri.startswith(GENERATED) and file.src_uri.endswith("/" + DETAILS_PAGE))


def carry_over(
    files: Any,
    rendered: set[str],
    config: Any,
    spill: Spill,
    *,
    previous: Path | None,
    linked: set[str] | None,
) -> set[str]:
    """Keep the previous entries of the pages a dirty build did not render and of the details files it took
    over unchanged; returns their addresses (nothing without a previous site)."""
    if previous is None:
        return set()
    pages = {file.url for file in files.documentation_pages()} - rendered
    kept = {file.url for file in files if is_details(file) and file.dest_uri in (linked or set())}
    active = search_entries(config) is not None
    fallback = None if active else _entries_list(config)
    reused: set[str] = set()
    for location, line in previous_entries(previous):
        where = location.split("#", 1)[0]
        if where not in pages and where not in kept:
            continue
        reused.add(where)
        if fallback is not None:
            fallback.append(json.loads(line))
        elif active:
            spill.add_line(line)
    return reused


def plugin(spill: Spill, *, previous: Path | None = None, linked: set[str] | None = None) -> Any:  # noqa: C901  # one short method per MkDocs event
    """The in-process plugin (see the module docstring). ``previous``: the live site of a dirty build, whose
    entries are kept for the pages it does not render; ``linked``: the outputs taken over from it unchanged."""
    from mkdocs.config.base import Config
    from mkdocs.plugins import BasePlugin, event_priority

    class NoOptions(Config):  # type: ignore[no-untyped-call]
        """The plugin takes no settings."""

    class Lean(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]
        def __init__(self) -> None:
            super().__init__()
            self.files: Any = None
            self.rendered: set[str] = set()
            self.active = False

        def on_config(self, config: Any) -> Any:
            self.active = search_entries(config) is not None
            return config

        def on_files(self, files: Any, /, *, config: Any) -> Any:
            self.files = files
            return files

        @event_priority(-1000)  # after every other plugin has seen the HTML
        def on_page_content(self, html: str, /, *, page: Any, config: Any, files: Any) -> str | None:
            if not page.file.src_uri.startswith(GENERATED):
                return html
            spill.keep_page(page.file.src_uri, html)
            page.markdown = ""  # its title is in page.meta (governance-titles) or came from the render
            return ""

        @event_priority(1000)  # before the search plugin reads it
        def on_page_context(self, context: Any, /, *, page: Any, config: Any, nav: Any) -> Any:
            kept = spill.page(page.file.src_uri)
            if kept is not None:
                page.content = kept
            return context

        @event_priority(-1000)  # after the search plugin has made the page's entries
        def on_post_page(self, output: str, /, *, page: Any, config: Any) -> str:
            self.rendered.add(page.url)
            if page.file.src_uri in spill.pages:
                page.content = None
                if isinstance(page.toc, list):
                    page.toc.clear()  # written; its anchors for the link check are kept apart by MkDocs
            entries = search_entries(config) if self.active else None
            if entries:
                spill.add(entries)
                del entries[:]
            return output

        @event_priority(60)  # before the search plugin writes its index
        def on_post_build(self, *, config: Any) -> None:
            if self.files is None:
                return
            reused = carry_over(self.files, self.rendered, config, spill, previous=previous, linked=linked)
            index = _search_index(config)
            if self.active and index is not None:
                for file in self.files:
                    if is_details(file) and file.url not in reused:
                        spill.add(details_entries(index, file))

    return Lean()
