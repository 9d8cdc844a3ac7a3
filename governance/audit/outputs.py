"""Output paths of an audit, checked before the audit runs and written only after it is recorded.

A ``--json`` path in a missing folder used to fail after the register had recorded the audit, so CI saw a failure
for an audit that was on the record. Now a path that cannot be written stops the command (exit 2) before anything
is computed or recorded, and the copy is written whole (a temporary file renamed into place) or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from governance.errors import InputError


def check_output_file(path: str | Path, option: str) -> None:
    """Refuse a file path that cannot be written: a folder, a missing or read-only folder, a read-only file."""
    target = Path(path)
    if target.is_dir():
        raise InputError(
            f"{option} {path} is a folder; give a file name in it, for example {target / 'audit.json'}."
        )
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InputError(
            f"The folder of {option} {path} ({folder}) {what}; create the folder first or give another path."
        )
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InputError(f"{option} {path} cannot be written (no permission); give a path you can write to.")


def check_output_folder(path: str | Path, option: str) -> None:
    """Refuse a folder path that is a file, lies under a file, or lies in a folder that cannot be written."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(
            f"{option} {path} is a file, not a folder; give a folder (it is created if missing)."
        )
    existing = next((parent for parent in (target, *target.parents) if parent.exists()), Path("."))
    if not existing.is_dir():
        raise InputError(f"{option} {path} lies under the file {existing}; give a folder path.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"{option} {path} cannot be written in (no permission on {existing}); give a folder you can write to."
        )
