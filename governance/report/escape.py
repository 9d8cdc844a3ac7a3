"""Escaping user-supplied text (model, group and column names) for Markdown that MkDocs turns into HTML."""

from __future__ import annotations

import html

from governance.results.terminal import terminal_safe

# Characters that start emphasis, code, links, tables or attribute lists ({: onclick=...}) in Python-Markdown.
_MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]{}|~"})


def md(text: object) -> str:
    """Safe inline Markdown: ``<``, ``>`` and ``&`` HTML-escaped (no tag survives) and Markdown specials backslash-escaped."""
    flat = terminal_safe(" ".join(str(text).split()))  # a bidirectional override is shown, not obeyed
    return html.escape(flat, quote=False).translate(_MARKDOWN_SPECIALS)
