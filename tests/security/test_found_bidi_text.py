"""Found by the issue-10 review: bidirectional overrides in names reached the published pages and report.md.

The terminal shows them as ``\\u202e``; the site turned them into ``&#8238;``, which a browser obeys just the same,
and ``report.md`` kept them raw. A model or group name holding U+202E (right-to-left override) reverses the text
after it on the page: in a sentence, the words that follow it, verdicts included. They must never be obeyed.
Fixed on main in parallel (one escaping boundary, ``governance.escaping``, turns them into spaces); these tests
stay as regression tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.escaping import markdown_text, markup_text, nav_title
from governance.scaffold import init_workspace
from governance.site import build_site
from governance.workspace import find_workspace
from tests.site.conftest import make_audit, write_audit

OVERRIDES = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u061c", "\x9b"]


@pytest.mark.parametrize("char", OVERRIDES, ids=[f"U+{ord(c):04X}" for c in OVERRIDES])
def test_escaping_shows_bidirectional_controls_instead_of_obeying_them(char: str) -> None:
    for shown in (markup_text(f"ab{char}cd"), nav_title(f"ab{char}cd"), markdown_text(f"ab{char}cd")):
        assert char not in shown
        assert f"&#{ord(char)};" not in shown  # a character reference is obeyed by the browser too
        assert "ab" in shown and "cd" in shown


def test_a_site_with_reversing_names_shows_them_as_text(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme \u202eLending")
    audit = make_audit(
        "scorer\u202edeliaf", "1.0", "s1", sizes={"fe\u202emale": 310, "male": 690},
        rates={"fe\u202emale": 0.62, "male": 0.71},
    )  # fmt: skip
    write_audit(root, audit)
    build_site(find_workspace(root), run_mkdocs=False)
    for page in (root / "docs" / "generated").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "\u202e" not in text and "&#8238;" not in text, page
