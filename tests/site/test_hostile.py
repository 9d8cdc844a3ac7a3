"""Hostile names: escaped everywhere they reach a page, and no file written outside the generated folder."""

from __future__ import annotations

import os
from pathlib import Path

import markdown
import pytest

from governance.escaping import markup_text, nav_title
from governance.site import build_site
from governance.site.slim_cache import CACHE_NAME
from governance.workspace import find_workspace
from tests.site.conftest import WorkspaceFactory, make_audit

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[click](javascript:alert(3))",
    "**bold** _em_ `code` | pipe | # heading",
    "</title><script>alert(4)</script>",
    "line one\n\n# injected heading\n<div>",
    "{: onclick=alert(5) }",
    "&lt;script&gt;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_itself(text: str) -> None:
    html = markdown.markdown(f"Name: {markup_text(text)}", extensions=["tables", "attr_list", "admonition"])
    assert html.count("<") == 2, html  # only the <p> and </p> of the paragraph itself
    assert ("href" not in html and "onerror" not in html.replace("onerror=alert", "")) or "&" in html
    import html as html_module

    assert html_module.unescape(html.removeprefix("<p>Name: ").removesuffix("</p>")) == " ".join(text.split())


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_stays_in_its_table_cell(text: str) -> None:
    html = markdown.markdown(f"| a | b |\n|---|---|\n| {markup_text(text)} | x |\n", extensions=["tables"])
    assert html.count("<td>") == 2


def test_nav_title_cannot_close_the_title_element() -> None:
    import markupsafe

    title = nav_title("</title><script>alert(4)</script>")
    assert "<" not in markupsafe.Markup(title).striptags()  # what the theme writes into <title>


def _files(root: Path) -> set[Path]:
    return {Path(folder, name) for folder, _, names in os.walk(root) for name in names}


def test_hostile_names_write_nothing_outside_the_site(
    workspace_factory: WorkspaceFactory, tmp_path: Path
) -> None:
    audit = make_audit("../../etc/passwd", "../../../escape", "../../audit")
    root = workspace_factory(
        audit,
        make_audit("<script>alert(1)</script>", "1", "a1"),
        name="ws",
        models={"../../etc/passwd": {"is_aedt": True}, "<script>alert(1)</script>": {"is_aedt": True}},
    )
    before = _files(tmp_path)
    report = build_site(find_workspace(root))
    created = _files(tmp_path) - before
    allowed = (root / "docs" / "generated", root / "site")
    cache = root / ".governance" / CACHE_NAME  # the build's one private file, by a fixed name
    outside = [
        path for path in created if path != cache and not any(folder in path.parents for folder in allowed)
    ]
    assert outside == []
    assert all(".." not in page for page in report.pages)
    assert "models/etc-passwd.md" in report.pages
    assert "ll144/etc-passwd.md" in report.pages
    for page in report.pages:  # every page of the generated part, the register's links included
        text = (root / "docs" / "generated" / page).read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text, page


def test_built_html_has_no_injected_markup(built_demo: Path) -> None:
    site = built_demo / "site"
    pages = list(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html, page
        assert "<img src=x" not in html, page
        assert "alert(1)</title>" not in html, page
    card = (site / "generated/models/script-alert-1-script.html").read_text(encoding="utf-8")
    assert "Model card: &#60;script&#62;alert&#40;1&#41;&#60;&#47;script&#62;" in card
    assert "&#60;img src&#61;x onerror&#61;alert&#40;2&#41;&#62;" in card  # the owner, shown as text
