"""One escaping boundary, one function per output context, each tested against a corpus of hostile names.

Before, three Markdown/HTML escapers with three different rules lived in report/, checklists/ and site/, plus a
fourth for the terminal; each context now has one function in ``governance.escaping``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
import pytest

from governance.escaping import markdown_text, markup_text, nav_title, spreadsheet_cell, terminal_text

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[click](javascript:alert(1))",
    "![x](http://evil/x.png)",
    "{: onclick=alert(1) }",
    "| a | b |",
    "`code` and ``more``",
    "*em* _em_ **strong** ~~strike~~",
    "# heading",
    "1. a list",
    "- an item",
    "+ another",
    "> quote",
    "=cmd|' /C calc'!A0",
    "--8<-- /etc/passwd",
    '" onmouseover="alert(3)',
    "&lt;already escaped&gt; &amp;",
    "../../etc/passwd",
    "line one\nline two",
    "tab\there",
    "\x1b[2J\x1b]0;owned\x07",
    "bidi \u202eevil\u202c text",
    "<!-- comment -->",
    "[^1] footnote",
    "back\\slash \\* star",
    "Female × Native Hawaiian or Pacific Islander",
]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(source: str) -> _Text:
    parsed = _Text()
    parsed.feed(
        markdown.markdown(source, extensions=["tables", "attr_list", "admonition", "toc", "footnotes"])
    )
    return parsed


def _flat(value: str) -> str:
    return " ".join(
        re.sub(
            "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]", " ", value
        ).split()
    )


@pytest.mark.parametrize("escaper", [markdown_text, markup_text], ids=["markdown_text", "markup_text"])
@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_shows_the_value_literally_in_text_and_in_a_cell(escaper, value: str) -> None:  # type: ignore[no-untyped-def]
    paragraph = _render(f"Name: {escaper(value)}")
    assert paragraph.tags == ["p"], paragraph.tags
    assert "".join(paragraph.text) == f"Name: {_flat(value)}"
    cell = _render(f"| Name | Other |\n|---|---|\n| {escaper(value)} | x |\n")
    assert cell.tags.count("td") == 2 and not set(cell.tags) - {"table", "thead", "tbody", "tr", "th", "td"}
    assert _flat(value) in "".join(cell.text)


@pytest.mark.parametrize("value", HOSTILE)
def test_markup_is_safe_in_an_html_attribute(value: str) -> None:
    parsed = _Text()
    parsed.feed(f'<a title="{markup_text(value)}">x</a>')
    assert parsed.tags == ["a"] and parsed.attributes == [("title", _flat(value))]


@pytest.mark.parametrize("value", HOSTILE)
def test_nav_titles_never_form_a_tag(value: str) -> None:
    title = nav_title(value)
    assert "<" not in title and ">" not in title


@pytest.mark.parametrize("value", HOSTILE)
def test_the_terminal_shows_control_characters_instead_of_obeying_them(value: str) -> None:
    shown = terminal_text(value)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
    assert terminal_text(shown) == shown


@pytest.mark.parametrize("value", [*HOSTILE, "=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "-0.25", "12"])
def test_spreadsheet_cells_never_start_a_formula(value: str) -> None:
    cell = spreadsheet_cell(value)
    if re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", value):
        assert cell == value  # a plain number stays a number
    else:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
