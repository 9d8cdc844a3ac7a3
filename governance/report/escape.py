"""Escaping user-supplied text (model, group and column names) for Markdown that MkDocs turns into HTML."""

from __future__ import annotations

import html

_MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]{}()#+!|~"})


def md(text: object) -> str:
    """Safe inline Markdown: HTML-escaped (no tags survive) and Markdown specials backslash-escaped."""
    flat = " ".join(str(text).split())
    return html.escape(flat, quote=True).translate(_MARKDOWN_SPECIALS)
