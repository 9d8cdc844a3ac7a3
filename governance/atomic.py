"""Writing files and folders whole: everything is made beside its target, then renamed into place.

A reader (or a web server) sees the old file or folder or the new one, never half of either, and a failure
removes what it had made. A process killed with -9 can leave hidden ``.NAME...`` files or folders beside the
target; :func:`clear_debris` removes a folder's on the next run, and puts the old folder back if the run died
between the two renames of :func:`swap_in`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, byte for byte) to ``path`` whole."""
    with replacing(Path(path)) as temporary, temporary.open("wb") as stream:
        stream.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``target`` for the caller to write; renamed over ``target`` when the block
    succeeds, removed when it fails (for writers that stream or that only take a path, such as skops)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def new_folder(final: Path) -> Iterator[Path]:
    """A hidden empty folder beside ``final`` for the caller to fill; renamed to ``final`` (which must not exist)
    when the block succeeds, removed when it fails."""
    staging = staging_folder(final)
    try:
        yield staging
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextmanager
def files_into(target: Path) -> Iterator[Path]:
    """A hidden folder beside ``target`` for the caller to write files in; when the block succeeds each file is
    renamed into ``target`` (made if needed, other files kept); the hidden folder is removed either way."""
    staging = staging_folder(target)
    try:
        yield staging
        names = sorted(path.name for path in staging.iterdir())
        if names:
            target.mkdir(exist_ok=True)
        for name in names:
            os.replace(staging / name, target / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def staging_folder(target: Path) -> Path:
    """A new hidden, empty folder beside ``target`` to build its replacement in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))


def swap_in(new: Path, target: Path) -> None:
    """Replace the folder ``target`` by ``new`` with two renames, removing the old folder afterwards."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{new.name.rsplit('-', 1)[-1]}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def clear_debris(target: Path) -> None:
    """Remove what a killed run left beside the folder ``target`` (call it under a lock, so none is in use).

    If a run died between the two renames of :func:`swap_in`, ``target`` is missing and its previous version is
    put back.
    """
    if not target.parent.is_dir():
        return
    olds = sorted(target.parent.glob(f".{target.name}-old-*"))
    if not target.exists() and olds:
        olds.pop().rename(target)
    for leftover in [*olds, *target.parent.glob(f".{target.name}-new-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
