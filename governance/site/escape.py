"""The one escaping helper for every user-supplied string that reaches a generated page.

Model names, owners, group names and free text come from users; a model called
``<script>alert(1)</script>`` or ``[click](javascript:...)`` must show up as text, never as HTML or a link.
Every character that is not a letter, a digit, a space, a comma or a hyphen becomes a numeric character
reference (``&#60;``), which both Markdown and HTML show literally and neither interprets. Control characters
and bidirectional overrides are first written out (``\\u202e``): as a reference the browser would obey them.
"""

from __future__ import annotations

from governance.results.terminal import terminal_safe

_PLAIN = frozenset(" ,-")


def escape(value: object) -> str:
    """``value`` as text that Markdown and HTML display literally, on one line (safe in table cells)."""
    text = "" if value is None else str(value)
    text = terminal_safe(" ".join(text.split()))  # bidirectional overrides shown, not obeyed (a reference is)
    return "".join(
        char if (char.isalnum() and char.isprintable()) or char in _PLAIN else f"&#{ord(char)};"
        for char in text
    )


def escape_multiline(value: object) -> str:
    """Like :func:`escape`, keeping paragraph breaks (blank lines) of longer free text."""
    text = "" if value is None else str(value)
    paragraphs = [part for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return "\n\n".join(escape(part) for part in paragraphs)


def nav_title(value: object) -> str:
    """A title for the MkDocs nav and the browser tab.

    The theme writes nav titles into the page as HTML and into ``<title>`` after ``striptags``, which turns
    character references back into characters; so angle brackets become look-alike quotes first, and no
    ``</title>`` can ever be formed.
    """
    text = "" if value is None else str(value)
    return escape(text.replace("<", "‹").replace(">", "›"))


def page_slug(name: object) -> str:
    """A file name for a generated page (:func:`governance.paths.slugify`, which never starts with a dot)."""
    from governance.paths import slugify

    return slugify(str(name))
