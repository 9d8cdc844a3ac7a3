"""Keeping a MkDocs build's memory flat however many pages: page HTML and search entries wait on disk.

MkDocs renders every page's Markdown before it writes any (so that links and the nav are known) and keeps each
page's HTML, table of contents and anchors until the end; the search plugin keeps the text of every section until
it writes its index. On a site of a thousand audits that grows by about 0.2 MB a page. This plugin moves each
generated page's HTML, table of contents and anchors to a temporary file once rendered (and drops its Markdown),
brings the HTML and the table of contents back only while its page is written, and reads the anchors only when
another page's link to one of them is checked; it moves each search entry to a temporary file of JSON lines as
soon as the search plugin makes it. After every other plugin, the index (and the offline plugin's copy of it) is
written again from that file, one entry a line.

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
    _last_anchors: tuple[str, frozenset[str]] = ("", frozenset())

    def keep_page(self, src_uri: str, content: str, toc: Any = (), anchors: Any = ()) -> None:
        """Keep a rendered page's HTML, table of contents (MkDocs' ``AnchorLink`` items) and anchor ids on disk."""
        path = self.folder / f"page-{len(self.pages)}.html"
        path.write_text(content, encoding="utf-8")
        toc_json = json.dumps([_toc_item(item) for item in toc], separators=(",", ":"))
        path.with_suffix(".toc").write_text(toc_json, encoding="utf-8")
        path.with_suffix(".anchors").write_text("\n".join(sorted(anchors)), encoding="utf-8")
        self.pages[src_uri] = path

    def page_and_toc(self, src_uri: str) -> tuple[str, Any] | None:
        """The page's HTML and its table of contents (a ``TableOfContents`` again), ``None`` if not kept."""
        from mkdocs.structure.toc import TableOfContents

        path = self.pages.get(src_uri)
        if path is None:
            return None
        toc = json.loads(path.with_suffix(".toc").read_text(encoding="utf-8"))
        return path.read_text(encoding="utf-8"), TableOfContents([_anchor_link(item) for item in toc])

    def anchors(self, src_uri: str) -> frozenset[str]:
        """The anchor ids of a kept page (the last page asked for is remembered: links are checked page by page)."""
        if self._last_anchors[0] != src_uri:
            path = self.pages.get(src_uri)
            text = path.with_suffix(".anchors").read_text(encoding="utf-8") if path is not None else ""
            self._last_anchors = (src_uri, frozenset(text.split("\n")) - {""})
        return self._last_anchors[1]

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


def _toc_item(item: Any) -> dict[str, Any]:
    """One table-of-contents entry as JSON (its own attributes, the theme's ``active`` mark included)."""
    fields = {key: value for key, value in vars(item).items() if key != "children"}
    return {"fields": fields, "children": [_toc_item(child) for child in item.children]}


def _anchor_link(kept: dict[str, Any]) -> Any:
    from mkdocs.structure.toc import AnchorLink

    fields = dict(kept["fields"])
    item = AnchorLink(fields.pop("title"), fields.pop("id"), fields.pop("level"))
    vars(item).update(fields)
    item.children = [_anchor_link(child) for child in kept["children"]]
    return item


class SpilledAnchors:
    """A page's anchor ids as MkDocs' link check asks for them (``anchor in ids``), read from the spill."""

    __slots__ = ("spill", "src_uri")

    def __init__(self, spill: Spill, src_uri: str) -> None:
        self.spill, self.src_uri = spill, src_uri

    def __contains__(self, anchor: object) -> bool:
        return anchor in self.spill.anchors(self.src_uri)


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


def _markdown_recorder() -> Any:
    """A Markdown extension that remembers the Markdown object of the page being rendered (see :func:`tear_down`)."""
    from markdown.extensions import Extension

    class Recorder(Extension):  # type: ignore[misc]  # Markdown has no type hints
        def __init__(self) -> None:
            super().__init__()
            self.last: Any = None

        def extendMarkdown(self, md: Any) -> None:  # Markdown's name
            self.last = md

    return Recorder()


def tear_down(md: Any) -> None:
    """Free a page's Markdown object now rather than at the next full collection of cycles.

    MkDocs makes one per page; its parts refer to each other and its parser keeps the page's whole element tree
    (about half a megabyte for an audit page), so each waits for Python's cycle collector, which runs the less
    often the more the build holds: the trees of a dozen pages or more waited at any moment. With the references
    of the object and of its parser dropped (MkDocs has read all it needs), counting frees the rest at once.
    """
    if md is None:
        return
    parser = vars(md).get("parser")
    if parser is not None:
        vars(parser).clear()
    vars(md).clear()


def _empty_toc() -> Any:
    from mkdocs.structure.toc import TableOfContents

    return TableOfContents([])


URL_PARTS_KEPT = 2000  # MkDocs' split URLs kept at most (those of the nav are asked for on every page)


def _forget_url_parts() -> None:
    """Empty MkDocs' unbounded cache of split URLs when it grows past ``URL_PARTS_KEPT`` (every page adds its own
    address and its links' to it, otherwise kept to the end of the build)."""
    from mkdocs import utils

    cached = getattr(utils, "_norm_parts", None)
    if cached is not None and hasattr(cached, "cache_info") and cached.cache_info().currsize > URL_PARTS_KEPT:
        cached.cache_clear()


def set_aside(spill: Spill, page: Any, html: str, files: Any, config: Any) -> None:
    """Move a rendered page's HTML, table of contents and anchor ids to the spill and drop its Markdown.

    The page's links to its own anchors are checked now, by MkDocs' own check, while its anchors are at hand;
    its links to other pages' anchors are checked by MkDocs at the end, reading their anchors from the spill.
    """
    anchors = page.present_anchor_ids
    links = page.links_to_anchors
    own = links.pop(page.file, None) if links else None
    if own:
        page.links_to_anchors = {page.file: own}
        try:
            page.validate_anchor_links(files=files, log_level=config.validation.links.anchors)
        finally:
            page.links_to_anchors = links
    spill.keep_page(page.file.src_uri, html, page.toc, anchors or ())
    page.markdown = ""  # its title is in page.meta (governance-titles) or came from the render
    page.toc = _empty_toc()
    if anchors is not None:
        page.present_anchor_ids = SpilledAnchors(spill, page.file.src_uri)
    _forget_url_parts()


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
            self.recorder = _markdown_recorder()

        def on_config(self, config: Any) -> Any:
            self.active = search_entries(config) is not None
            config.markdown_extensions.append(self.recorder)
            return config

        def on_files(self, files: Any, /, *, config: Any) -> Any:
            self.files = files
            return files

        @event_priority(-1000)  # after every other plugin has seen the HTML
        def on_page_content(self, html: str, /, *, page: Any, config: Any, files: Any) -> str | None:
            tear_down(self.recorder.last)  # rendered: MkDocs has read what it needs of it
            self.recorder.last = None
            if not page.file.src_uri.startswith(GENERATED):
                return html
            set_aside(spill, page, html, files, config)
            return ""

        @event_priority(1000)  # before the search plugin and the theme read them
        def on_page_context(self, context: Any, /, *, page: Any, config: Any, nav: Any) -> Any:
            kept = spill.page_and_toc(page.file.src_uri)
            if kept is not None:
                page.content, page.toc = kept
            return context

        @event_priority(-1000)  # after the search plugin has made the page's entries
        def on_post_page(self, output: str, /, *, page: Any, config: Any) -> str:
            self.rendered.add(page.url)
            if page.file.src_uri in spill.pages:
                page.content = None
                page.toc = _empty_toc()  # written; its anchors wait in the spill for the link check
            _forget_url_parts()
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
