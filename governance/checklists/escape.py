"""Escaping user-supplied text for Markdown that MkDocs turns into HTML.

Every value from ``governance.yaml``, the register or an answer passes through :func:`escape_markdown`
before it reaches a page: HTML's special characters become entities (so ``<script>`` is shown, not run) and
Markdown's punctuation is backslash-escaped (so a name cannot open a link, a table cell, an attribute list
or a snippet include). Line breaks become spaces, so a value cannot start a new block.
"""

from __future__ import annotations

import re

from governance.results.terminal import terminal_safe

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Python-Markdown's escapable characters (plus ``|`` from the tables extension), minus ``>``, ``-`` and ``.``,
# which are handled separately: ``>`` becomes an entity; ``-`` and ``.`` only matter at the start of a line.
_MARKDOWN = set("\\`*_{}[]()#+!|")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_LEADING_LIST = re.compile(r"^(\d+)\.")


def escape_markdown(value: object) -> str:
    """``value`` as inert Markdown text: shown literally, never interpreted as HTML or Markdown syntax."""
    text = _CONTROL.sub(" ", "" if value is None else str(value)).strip()
    text = terminal_safe(text)  # bidirectional overrides shown as \u202e, not obeyed
    escaped = "".join(_HTML.get(char) or (f"\\{char}" if char in _MARKDOWN else char) for char in text)
    if escaped.startswith(("-", "=")):
        escaped = "\\" + escaped if escaped.startswith("-") else "&#61;" + escaped[1:]
    return _LEADING_LIST.sub(r"\1\\.", escaped)
