"""Text for a terminal or a spreadsheet that cannot attack whoever reads it.

Owners, purposes, group values, column names and file names are typed by someone else. Printed as they are,
an ESC sequence can clear the screen, retitle the window or recolour a verdict, a carriage return can overwrite
the start of a line with something else, and a bidirectional override can reverse what is shown. Opened in a
spreadsheet, a CSV cell starting with ``=``, ``+``, ``-`` or ``@`` is a formula that can fetch URLs or run commands.

Every line the command line prints goes through :func:`terminal_safe`, and every CSV cell the toolkit writes
through :func:`spreadsheet_safe`. Markdown and HTML have their own escaping (``report.escape``, ``site.escape``).
"""

from __future__ import annotations

import re

# C0 controls (tab included: it can hide text in a column), DEL, C1 controls (0x9b is a one-byte CSI on some
# terminals), and the bidirectional overrides and isolates that reorder the characters displayed.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_OR_NEWLINE = re.compile(f"{_UNSAFE.pattern[:-1]}\n]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def terminal_safe(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as a visible escape (ESC becomes ``\\x1b``).

    Newlines are escaped too, so that a value cannot forge an extra line; ``keep_newlines`` keeps them, for
    multi-line text the toolkit laid out itself. Applying it twice changes nothing more.
    """
    pattern = _UNSAFE if keep_newlines else _UNSAFE_OR_NEWLINE
    return pattern.sub(_visible, str(text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def spreadsheet_safe(cell: object) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a leading ``'`` (OWASP).

    Plain numbers such as ``-0.25`` are left alone: a spreadsheet reads them as the number they are.
    """
    text = "" if cell is None else str(cell)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
