"""Escaping everything user-supplied for the context it lands in: the one boundary for every output.

Model names, owners, purposes, group values, column names and free text are typed by someone else. Each output
context has its own function here, and only here:

- :func:`markdown_text`: Markdown that people also read raw (``report.md``, checklist pages): HTML's special
  characters become entities and Markdown's punctuation is backslash-escaped, so a value cannot open a link, a
  table cell, an attribute list or a block; line breaks become spaces. Safe in a Markdown table cell.
- :func:`markup_text`: Markdown that MkDocs turns into the site: every character that is not a letter, digit,
  space, comma or hyphen becomes a numeric character reference, which Markdown and HTML (text and attribute
  values) both show literally. :func:`markup_multiline` keeps paragraphs; :func:`nav_title` is for the nav and
  the browser tab.
- :func:`terminal_text`: the command line: control characters, C1 controls and bidirectional overrides are
  shown as visible escapes (ESC becomes ``\\x1b``), never obeyed.
- :func:`spreadsheet_cell`: CSV cells: one that starts like a formula gets a leading ``'`` (the OWASP rule).
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- Markdown read raw (reports, checklists)

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters that open emphasis, code, links, images, tables or attribute lists ({: onclick=...}) anywhere in a
# line; the rest of Markdown's syntax (headings, lists, quotes) only works at the start of a line.
_MARKDOWN = set("\\`*_[]{}|")
# Controls, line and paragraph separators, and the bidirectional overrides that reorder what is displayed: a value
# cannot break a line, hide text or make a name read backwards on a page; they become spaces.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
_LINE_START = re.compile(r"^(?:[-+](?=\s)|#|=|\d+(?=\.\s))")


def markdown_text(value: object) -> str:
    """``value`` as inert Markdown on one line: shown literally, never read as HTML or Markdown syntax, and still
    readable in the raw file (only what could start syntax is escaped)."""
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    escaped = "".join(_HTML.get(char) or (f"\\{char}" if char in _MARKDOWN else char) for char in text)
    return _LINE_START.sub(_guard, escaped)


def _guard(match: re.Match[str]) -> str:
    """A value that starts like a list item, a heading or a heading underline starts as plain text instead."""
    found = match.group(0)
    if found == "=":
        return "&#61;"  # not escapable with a backslash in Python-Markdown
    return found + "\\" if found[0].isdigit() else "\\" + found


# ---------------------------------------------------------------- the site (Markdown rendered to HTML)

_PLAIN = frozenset(" ,-")


def markup_text(value: object) -> str:
    """``value`` as text that Markdown and HTML display literally, on one line (safe in cells and attributes)."""
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    return "".join(
        char if (char.isalnum() and char.isprintable()) or char in _PLAIN else f"&#{ord(char)};"
        for char in text
    )


def markup_multiline(value: object) -> str:
    """Like :func:`markup_text`, keeping the paragraph breaks (blank lines) of longer free text."""
    text = "" if value is None else str(value)
    paragraphs = [part for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return "\n\n".join(markup_text(part) for part in paragraphs)


def nav_title(value: object) -> str:
    """A title for the MkDocs nav and the browser tab.

    The theme writes nav titles into the page as HTML and into ``<title>`` after ``striptags``, which turns
    character references back into characters; so angle brackets become look-alike quotes first, and no
    ``</title>`` can ever be formed.
    """
    text = "" if value is None else str(value)
    return markup_text(text.replace("<", "‹").replace(">", "›"))


# ---------------------------------------------------------------- the terminal and spreadsheets

# C0 controls (tab included: it can hide text in a column), DEL, C1 controls (0x9b is a one-byte CSI on some
# terminals), and the bidirectional overrides and isolates that reorder the characters displayed.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_OR_NEWLINE = re.compile(f"{_UNSAFE.pattern[:-1]}\n]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def terminal_text(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as a visible escape (ESC becomes ``\\x1b``).

    Newlines are escaped too, so that a value cannot forge an extra line; ``keep_newlines`` keeps them, for
    multi-line text the toolkit laid out itself. Applying it twice changes nothing more.
    """
    pattern = _UNSAFE if keep_newlines else _UNSAFE_OR_NEWLINE
    return pattern.sub(_visible, str(text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def spreadsheet_cell(cell: object) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a leading ``'`` (OWASP).

    Plain numbers such as ``-0.25`` are left alone: a spreadsheet reads them as the number they are.
    """
    text = "" if cell is None else str(cell)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
