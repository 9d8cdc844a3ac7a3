"""Replacing a folder whole: build the new one beside it, then swap with two renames.

A reader (or a web server) sees the old folder or the new one, never half of either. A build killed with -9 can
leave hidden ``.NAME-new-*`` or ``.NAME-old-*`` folders beside it; :func:`clear_debris` removes them on the next
build, and puts the old folder back if the build died between its two renames.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def staging_folder(target: Path) -> Path:
    """A new hidden, empty folder beside ``target`` to build its replacement in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))


def swap_in(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with two renames, removing the old folder afterwards."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{new.name.rsplit('-', 1)[-1]}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def clear_debris(target: Path) -> None:
    """Remove what a killed build left beside ``target`` (runs under the build lock, so none is in use).

    If a build died between its two renames, ``target`` is missing and its previous version is put back.
    """
    if not target.parent.is_dir():
        return
    olds = sorted(target.parent.glob(f".{target.name}-old-*"))
    if not target.exists() and olds:
        olds.pop().rename(target)
    for leftover in [*olds, *target.parent.glob(f".{target.name}-new-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
