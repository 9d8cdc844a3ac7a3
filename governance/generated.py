"""Data files the package ships that are made by code (look-alike letters, skops' trusted types).

Each maker module prints its file, or rewrites it with ``--write``; a test compares the shipped file with what the
code makes now, so a stale file is caught.
"""

from __future__ import annotations

import sys
from pathlib import Path


def print_or_write(path: Path, text: str, argv: list[str] | None = None) -> None:
    """Print ``text``, or write it to ``path`` when the arguments (``sys.argv`` by default) include ``--write``."""
    arguments = sys.argv[1:] if argv is None else argv
    if "--write" in arguments:
        path.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
