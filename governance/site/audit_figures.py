"""Audit figures published beside MkDocs rather than through it, so that the build's memory does not grow with them.

Every audit brings a dozen figures as SVG and PNG. As MkDocs files each one is an object with its paths and URLs
held until the end of the build: about 15 kB per audit, most of what still grew with the number of audits. They
need nothing from MkDocs (no Markdown, no theme, no search), so the plugin takes them out of its file list, and
:func:`link_figures` puts them into the built site, linked (or copied) from ``docs/generated/``, which holds only
what the register vouched for.

MkDocs checks every relative link of a page against its file list; an audit page's figure links would then look
broken. The page's Markdown marks them with a scheme of ours, which MkDocs leaves alone, and the HTML gets the
plain relative link back. The pages only link figures the site build wrote (see ``audit_page``).

The build's hidden records beside the pages of what each was made from (``.inputs``, never published) leave the
file list too: MkDocs would otherwise keep a record of two per audit.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

GENERATED = "generated/"
AUDITS = f"{GENERATED}audits/"
FOLDER = "figures"
MARK = "governance-figure:"
FIGURES_DEPTH = 6  # generated, audits, model, version, audit, figures


def is_audit_figure(src_uri: str) -> bool:
    """A file in the ``figures/`` folder of an audit's page: ``generated/audits/MODEL/VERSION/AUDIT/figures/NAME``."""
    folder, _, name = src_uri.rpartition("/")
    return bool(name) and is_figures_folder(folder)


def is_figures_folder(folder: str) -> bool:
    """``generated/audits/MODEL/VERSION/AUDIT/figures``: by position, not by name alone, since a model, a version
    or an audit may itself be called ``figures``."""
    parts = folder.split("/")
    return folder.startswith(AUDITS) and len(parts) == FIGURES_DEPTH and parts[-1] == FOLDER


def _bookkeeping(file: Any) -> bool:
    """A hidden file of the site build beside its pages (what a page was made from): never published, so MkDocs
    need not keep a record of it (two per audit)."""
    return bool(file.src_uri.startswith(GENERATED) and file.inclusion.is_excluded())


def plugin() -> Any:
    """The in-process MkDocs plugin (see the module docstring)."""
    from mkdocs.config.base import Config
    from mkdocs.plugins import BasePlugin, event_priority
    from mkdocs.structure.files import Files

    class NoOptions(Config):  # type: ignore[no-untyped-call]
        """The plugin takes no settings."""

    class AuditFigures(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]
        @event_priority(1000)  # before any other plugin keeps the file list
        def on_files(self, files: Any, /, *, config: Any) -> Any:
            return Files(
                [file for file in files if not is_audit_figure(file.src_uri) and not _bookkeeping(file)]
            )

        def on_page_markdown(self, markdown: str, /, *, page: Any, config: Any, files: Any) -> str:
            if not page.file.src_uri.startswith(AUDITS):
                return markdown
            return markdown.replace(f"]({FOLDER}/", f"]({MARK}{FOLDER}/")

        @event_priority(1000)  # before the page's HTML is recorded or kept aside
        def on_page_content(self, html: str, /, *, page: Any, config: Any, files: Any) -> str:
            if not page.file.src_uri.startswith(AUDITS):
                return html
            return html.replace(f'="{MARK}{FOLDER}/', f'="{FOLDER}/')

    return AuditFigures()


def link_figures(docs_dir: Path, site_dir: Path) -> int:
    """Put every audit figure of ``docs_dir`` at the same place in ``site_dir``; returns how many.

    Hard links where the two folders share a file system (the generated files are replaced, never changed in
    place), copies otherwise. Walked folder by folder, so nothing is held for all audits at once.
    """
    count = 0
    for folder, subfolders, names in os.walk(docs_dir / AUDITS):
        subfolders.sort()
        relative = Path(folder).relative_to(docs_dir)
        if not is_figures_folder(relative.as_posix()) or not names:
            continue
        target = site_dir / relative
        target.mkdir(parents=True, exist_ok=True)
        for name in sorted(names):
            source = Path(folder) / name
            if source.is_symlink() or not source.is_file():
                continue  # the site build writes regular files only; anything else is not published
            _link_or_copy(source, target / name)
            count += 1
    return count


def _link_or_copy(source: Path, destination: Path) -> None:
    destination.unlink(missing_ok=True)
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)
