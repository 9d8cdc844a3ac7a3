"""Audit figures are published beside MkDocs (issue 11, memory): every figure an audit page shows is in the built
site with the bytes of ``docs/generated/``, no page keeps the link mark, and MkDocs never holds them as files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from governance.site import audit_figures

SRC = re.compile(r'\bsrc="([^"]+)"')


def test_every_figure_an_audit_page_shows_is_published_whole(built_demo: Path) -> None:
    site, docs = built_demo / "site", built_demo / "docs"
    pages = sorted(site.glob("generated/audits/**/index.html"))
    assert pages
    shown = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert audit_figures.MARK not in html, page
        for source in SRC.findall(html):
            if not source.startswith(f"{audit_figures.FOLDER}/"):
                continue
            published = page.parent / source
            generated = docs / published.relative_to(site)
            assert published.is_file() and published.read_bytes() == generated.read_bytes(), source
            shown += 1
    assert shown >= len(pages)  # every audit page shows figures
    figures = {path.relative_to(docs) for path in docs.glob("generated/audits/**/figures/*")}
    assert figures == {path.relative_to(site) for path in site.glob("generated/audits/**/figures/*")}


def test_mkdocs_does_not_hold_the_audit_figures(built_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted work: the file list every MkDocs event sees after ours has no audit figure and none of the build's
    hidden records of what each page was made from (never published); all other files stay."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    monkeypatch.chdir(built_demo)
    config = load_config(config_file=str(built_demo / "mkdocs.yml"))
    files = get_files(config)
    kept: Any = audit_figures.plugin().on_files(files, config=config)
    before = {file.src_uri for file in files}
    after = {file.src_uri for file in kept}
    figures = {uri for uri in before if audit_figures.is_audit_figure(uri)}
    hidden = {uri for uri in before if uri.startswith("generated/") and uri.endswith(".inputs")}
    assert figures and hidden and after == before - figures - hidden
    assert any(uri.startswith("generated/models/") for uri in after)  # the model pages' own figures stay


def test_a_figure_link_outside_an_audit_page_is_left_to_mkdocs() -> None:
    plugin = audit_figures.plugin()

    class Page:
        class file:  # the attribute MkDocs' Page has
            src_uri = "generated/models/credit.md"

    markdown = "![Ratios](figures/ratios.svg)"
    assert plugin.on_page_markdown(markdown, page=Page, config=None, files=None) == markdown
    Page.file.src_uri = "generated/audits/credit/1.0/a1/index.md"
    marked = plugin.on_page_markdown(markdown, page=Page, config=None, files=None)
    assert marked == f"![Ratios]({audit_figures.MARK}figures/ratios.svg)"
    html = f'<img alt="Ratios" src="{audit_figures.MARK}figures/ratios.svg" />'
    assert plugin.on_page_content(html, page=Page, config=None, files=None) == (
        '<img alt="Ratios" src="figures/ratios.svg" />'
    )


def test_links_and_special_files_are_not_published(tmp_path: Path) -> None:
    """Only regular files are linked into the site: a symbolic link in a figures folder is left out."""
    docs, site = tmp_path / "docs", tmp_path / "site"
    folder = docs / "generated" / "audits" / "m" / "1" / "a" / "figures"
    folder.mkdir(parents=True)
    (folder / "groups.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (folder / "leak.svg").symlink_to(tmp_path / "secret.txt")
    assert audit_figures.link_figures(docs, site) == 1
    published = site / "generated" / "audits" / "m" / "1" / "a" / "figures"
    assert sorted(path.name for path in published.iterdir()) == ["groups.svg"]


def test_a_model_version_and_audit_called_figures_keep_their_page(workspace_factory: Any) -> None:
    """Figures are told by their place (``audits/MODEL/VERSION/AUDIT/figures/NAME``), not by the word alone: an
    audit of model ``figures`` version ``figures`` with the id ``figures`` keeps its page, and only its figures go
    beside MkDocs (its page source is not published as a figure)."""
    from governance.site import build_site
    from governance.workspace import find_workspace
    from tests.site.conftest import make_audit

    root = workspace_factory(make_audit("figures", "figures", "figures"))
    build_site(find_workspace(root), allow_unverified=True)
    site = root / "site" / "generated" / "audits"
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("index.html"))
    assert pages == ["figures/figures/figures/index.html"]
    folder = site / "figures" / "figures" / "figures"
    assert not (folder / "index.md").exists()
    shown = SRC.findall((folder / "index.html").read_text(encoding="utf-8"))
    figures = [source for source in shown if source.startswith("figures/")]
    assert figures and all((folder / source).is_file() for source in figures)


def test_only_the_figures_folder_of_an_audit_counts() -> None:
    assert audit_figures.is_audit_figure("generated/audits/m/1/a/figures/groups.svg")
    assert audit_figures.is_audit_figure("generated/audits/figures/figures/figures/figures/groups.svg")
    assert not audit_figures.is_audit_figure("generated/audits/figures/figures/figures/index.md")
    assert not audit_figures.is_audit_figure("generated/audits/m/figures/a/index.md")
    assert not audit_figures.is_audit_figure("generated/models/figures/ratios.svg")
    assert not audit_figures.is_audit_figure("generated/audits/m/1/a/figures/")
