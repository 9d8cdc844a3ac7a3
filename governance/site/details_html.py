"""HTML for an audit's details file, straight from the report's Markdown, in one pass over its lines.

Python-Markdown spends most of a large site's build on the inline patterns of big tables; the details file holds
only what the report writes (headings, tables, paragraphs, lists, images, bold, italics, code, escapes), so this
converter handles that subset and nothing else. The report escapes every user-supplied text (``&``, ``<`` and
``>`` as HTML entities, Markdown specials with backslashes) before it reaches here, so no tag can come from a name;
attribute values written here are escaped once more.
"""

from __future__ import annotations

import html
import re

_ESCAPED = re.compile(r"\\([\\`*_\[\]{}|~#+\-.!()>=])")
_CODE = re.compile(r"`([^`]+)`")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])[*_](?![\s*_])(.+?)(?<![\s*_])[*_](?![\w*])")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def inline(text: str) -> str:
    """Bold, italics, code, images and links of one line; escaped characters stay literal."""
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\x00{len(kept) - 1}\x00"

    text = _ESCAPED.sub(lambda match: keep(match.group(1)), text)
    text = _CODE.sub(lambda match: keep(f"<code>{match.group(1)}</code>"), text)
    text = _IMAGE.sub(
        lambda match: keep(f'<img alt="{_attribute(match.group(1))}" src="{_attribute(match.group(2))}">'),
        text,
    )
    text = _LINK.sub(lambda match: keep(f'<a href="{_attribute(match.group(2))}">{match.group(1)}</a>'), text)
    text = _STRONG.sub(r"<strong>\1</strong>", text)
    text = _EMPHASIS.sub(r"<em>\1</em>", text)
    while "\x00" in text:
        text = _PLACEHOLDER.sub(lambda match: kept[int(match.group(1))], text)
    return text


def _attribute(value: str) -> str:
    """An attribute value: the report's entities kept, quotes and any stray tag character escaped."""
    return html.escape(html.unescape(value), quote=True)


def _cells(line: str) -> list[str]:
    """The cells of a table row, split on ``|`` that are not escaped."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", body)]


def _table(lines: list[str]) -> str:
    head = _cells(lines[0])
    marks = _cells(lines[1]) if len(lines) > 1 else []
    right = [mark.endswith(":") for mark in marks]

    def row(cells: list[str], tag: str) -> str:
        parts = []
        for index, cell in enumerate(cells):
            align = ' style="text-align:right"' if index < len(right) and right[index] else ""
            parts.append(f"<{tag}{align}>{inline(cell)}</{tag}>")
        return "<tr>" + "".join(parts) + "</tr>"

    body = "".join(row(_cells(line), "td") for line in lines[2:])
    return f"<table><thead>{row(head, 'th')}</thead><tbody>{body}</tbody></table>"


class _Anchors:
    """Heading ids, unique within the page, so that a search result opens at its section."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def make(self, heading: str) -> str:
        text = html.unescape(_ESCAPED.sub(r"\1", heading))
        base = "-".join(re.findall(r"\w+", text.lower())) or "section"
        anchor, counter = base, 2
        while anchor in self.taken:
            anchor, counter = f"{base}_{counter}", counter + 1
        self.taken.add(anchor)
        return anchor


def body_of(page: str) -> tuple[str, str]:
    """The content of a details page written by ``render_details_html`` (from its ``<h1>``) and its title."""
    start = page.find("<h1")
    end = page.rfind("</body>")
    body = page[start if start >= 0 else 0 : end if end >= 0 else len(page)]
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    return body, found.group(1) if found else "Full tables"  # escaped, as the page has it


class _Blocks:
    """Markdown lines gathered into the open block (a paragraph, a table or a list) and written out as HTML."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.paragraph: list[str] = []
        self.table: list[str] = []
        self.items: list[str] = []
        self.anchors = _Anchors()

    def flush(self) -> None:
        """Close the open block."""
        if self.paragraph:
            self.out.append(f"<p>{inline(' '.join(self.paragraph))}</p>")
            self.paragraph.clear()
        if self.table:
            self.out.append(_table(self.table))
            self.table.clear()
        if self.items:
            self.out.append("<ul>" + "".join(f"<li>{inline(item)}</li>" for item in self.items) + "</ul>")
            self.items.clear()

    def table_row(self, line: str) -> None:
        if not self.table:
            self.flush()
        self.table.append(line)

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.out.append(f'<h{level} id="{self.anchors.make(text)}">{inline(text)}</h{level}>')

    def item(self, text: str) -> None:
        if self.paragraph:
            self.flush()
        self.items.append(text)

    def text(self, raw: str, line: str) -> None:
        """A list item's indented continuation, or a line of a paragraph."""
        if self.items and raw.startswith("  "):
            self.items[-1] += " " + line.strip()
            return
        if self.items:
            self.flush()
        self.paragraph.append(line.strip())

    def line(self, raw: str) -> None:
        line = raw.rstrip()
        if line.startswith("|"):
            self.table_row(line)
            return
        if self.table:
            self.flush()
        heading = re.match(r"(#{1,6}) (.*)", line)
        if not line.strip():
            self.flush()
        elif heading:
            self.heading(len(heading.group(1)), heading.group(2))
        elif line.startswith(("- ", "* ")):
            self.item(line[2:])
        else:
            self.text(raw, line)


def to_html(markdown: str) -> str:
    """The Markdown subset the report writes, as HTML."""
    blocks = _Blocks()
    for raw in markdown.splitlines():
        blocks.line(raw)
    blocks.flush()
    return "\n".join(blocks.out)
