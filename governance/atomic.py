"""Writing files and folders whole: everything is made beside its target, then renamed into place.

A reader (or a web server) sees the old file or folder or the new one, never half of either, and a failure
removes what it had made. A process killed with -9 can leave hidden ``.NAME...`` files or folders beside the
target; :func:`clear_debris` removes a folder's on the next run, and puts the old folder back if the run died
between the two renames of :func:`swap_in`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomically(path: str | Path, data: str | bytes, *, named: bool = False) -> None:
    """Write ``data`` (text as UTF-8, byte for byte) to ``path`` whole; ``named``: see :func:`replacing`."""
    with replacing(Path(path), named=named) as temporary, temporary.open("wb") as stream:
        stream.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def replacing(target: Path, *, named: bool = False) -> Iterator[Path]:
    """A hidden temporary path beside ``target`` for the caller to write; renamed over ``target`` when the block
    succeeds, removed when it fails (for writers that stream or that only take a path, such as skops). The file
    keeps its permissions, and a new one gets the usual ones (the umask's), not the temporary file's owner-only ones.

    ``named``: the user named this path (an output option such as ``--json FILE``), so it is treated as a shell's
    redirection would: a symbolic link stays one (the file it points to is replaced), and a pipe or a device
    (``/dev/stdout``), which cannot be replaced, gets the bytes written into it once they are complete. A file of
    the workspace (``named`` false) never leads elsewhere: a link or a pipe planted in its place is itself replaced
    (a cloned repository's ``register-head.json`` linked to ``/dev/sda`` or ``~/.bashrc`` must not be written
    through)."""
    if named and _written_into(target):
        with tempfile.TemporaryDirectory(prefix=".governance-") as folder:
            yield Path(folder) / target.name
            with open(target, "wb") as out, open(Path(folder) / target.name, "rb") as made:
                shutil.copyfileobj(made, out)
        return
    target = Path(os.path.realpath(target)) if named and target.is_symlink() else target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        os.chmod(temporary, _mode_for(target))
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _written_into(target: Path) -> bool:
    """Whether ``target`` is a pipe, a device or a terminal (or a link into /proc or /dev, as /dev/stdout is)."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        return True
    path = os.path.abspath(target)  # /dev/stdout redirected to a file: that file is open, not to be replaced
    for _hop in range(40):
        if path.startswith(("/proc/", "/dev/")):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return False


def _mode_for(target: Path) -> int:
    """The permissions of the file replaced, or of a new file under the process's umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        pass
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask: Linux shows it in /proc; elsewhere set and put back at once (the only other way)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


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
