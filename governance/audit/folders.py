"""Audit folders on disk: a name no other audit can take, a write nobody sees half-done, and leftovers found.

An audit is written to ``audits/<model>/<version>/<audit-id>/`` in four steps:

1. reserve the id: create ``.<audit-id>.lock`` exclusively (a second audit drawing the same id draws again) and
   hold an operating-system lock on it until the audit is recorded or given up, so that a scan can tell an audit
   being written from one whose process died (the lock goes with the process, even after ``kill -9``);
2. write everything into the hidden staging folder ``.<audit-id>.partial/``;
3. rename it to ``<audit-id>/``, refusing if that name exists: a process never replaces or deletes a folder it
   did not create;
4. (with the register) record the audit, then remove the lock file.

A crash leaves a staging folder, or a folder the register does not know, with a free lock: an orphan that
``governance register verify`` reports and ``governance register clean-orphans`` removes. Hidden folders are
never audits: readers list audits with :func:`audit_json_files`.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from governance.errors import FieldError, GovernanceError, InputError

try:  # POSIX; elsewhere a lock file alone marks an audit in progress
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

STAGING_SUFFIX = ".partial"
LOCK_SUFFIX = ".lock"
_STAGING = re.compile(r"^\.(?P<id>[^/]+)\.partial$")
_LOCK = re.compile(r"^\.(?P<id>[^/]+)\.lock$")
_ATTEMPTS = 8


class FolderTakenError(GovernanceError):
    """The final name of an audit folder is taken by a folder this process did not create."""

    exit_code = 2


def compact_stamp(timestamp: str) -> str:
    """``2026-11-23T10:00:00Z`` -> ``20261123T100000Z``: the readable start of an audit id."""
    return timestamp.replace("-", "").replace(":", "")


def new_audit_id(stamp: str, suffix: str | None = None) -> str:
    """An audit id: the UTC second, then a random suffix (or ``suffix``, for reproducible demo folders)."""
    return f"{stamp}-{suffix or secrets.token_hex(4)}"


def _try_lock(handle: int, *, wait: bool = False) -> bool:
    """Take the lock on an open lock file (without waiting, unless ``wait``); False when another process holds it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def _same_file(handle: int, path: Path) -> bool:
    try:
        return os.fstat(handle).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


class AuditFolder:
    """This process's claim on one audit folder name, from reservation to release.

    Use :meth:`reserve`, then :meth:`publish`; call :meth:`discard` if the audit is given up (it removes only what
    this claim created) and always :meth:`release` at the end (after the register has recorded the audit).
    """

    def __init__(self, parent: Path, audit_id: str, lock_handle: int | None) -> None:
        self.parent = parent
        self.audit_id = audit_id
        self._lock_handle = lock_handle
        self._published = False

    @property
    def target(self) -> Path:
        return self.parent / self.audit_id

    @property
    def staging(self) -> Path:
        return self.parent / f".{self.audit_id}{STAGING_SUFFIX}"

    @property
    def lock_path(self) -> Path:
        return self.parent / f".{self.audit_id}{LOCK_SUFFIX}"

    @classmethod
    def reserve(cls, parent: Path, stamp: str, *, suffix: str | None = None) -> AuditFolder:
        """Claim a fresh id under ``parent`` (``stamp`` plus a random suffix, or the fixed ``suffix``)."""
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FieldError(
                "output_root",
                f"The audit folder {parent} could not be created ({error.strerror or error}); "
                "check the path given with {field} and its permissions.",
            ) from error
        for _ in range(1 if suffix else _ATTEMPTS):
            claim = cls._try_reserve(parent, new_audit_id(stamp, suffix))
            if claim is not None:
                return claim
        raise FolderTakenError(
            f"An audit folder named {new_audit_id(stamp, suffix)} already exists in {parent}; remove the old demo "
            "audits first, or run the audit again."
            if suffix
            else f"No free audit id could be found in {parent}; run the audit again."
        )

    @classmethod
    def _try_reserve(cls, parent: Path, audit_id: str) -> AuditFolder | None:
        claim = cls(parent, audit_id, None)
        try:
            handle = os.open(claim.lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        except FileExistsError:
            return None
        # Ours since O_EXCL; a scan may hold it for an instant, a cleaner may have removed it: then draw again.
        if not _try_lock(handle, wait=True) or not _same_file(handle, claim.lock_path):
            os.close(handle)
            return None
        claim._lock_handle = handle
        if os.path.lexists(claim.target):
            claim.release()
            return None
        try:
            claim.staging.mkdir()
        except FileExistsError:
            claim.release()
            return None
        return claim

    def publish(self, fill: Callable[[Path], None]) -> Path:
        """Write the folder with ``fill(staging)``, then move it into place in one rename; return its path."""
        from governance.testhooks import pause_at

        try:
            fill(self.staging)
            pause_at("before-rename")
            if os.path.lexists(self.target):
                raise FolderTakenError(
                    f"The audit folder {self.target} already exists and was not made by this audit; it was left "
                    "untouched. Run the audit again."
                )
            _rename_no_replace(self.staging, self.target)
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise
        self._published = True
        return self.target

    def discard(self) -> None:
        """Remove what this claim wrote (the staging folder, or the published folder): nothing else."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._published:
            shutil.rmtree(self.target, ignore_errors=True)
            self._published = False

    def release(self) -> None:
        """Remove the lock file and let go of the lock (safe to call twice)."""
        if self._lock_handle is None:
            return
        try:
            self.lock_path.unlink(missing_ok=True)
        finally:
            os.close(self._lock_handle)
            self._lock_handle = None


def _rename_no_replace(source: Path, target: Path) -> None:
    """Rename a folder, failing instead of replacing anything at ``target`` (even an empty folder).

    Plain ``rename`` replaces an empty folder on Linux and macOS, so Linux's ``renameat2(RENAME_NOREPLACE)`` is
    used where it exists; elsewhere the existence check in :meth:`AuditFolder.publish` guards it.
    """
    try:
        if not _rename_exclusive(source, target):
            os.rename(source, target)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR):
            raise FolderTakenError(
                f"The audit folder {target} already exists and was not made by this audit; it was left untouched. "
                "Run the audit again."
            ) from error
        raise InputError(
            f"The audit folder {target} could not be written ({error.strerror or error}); "
            "check the free space and permissions of the audits folder."
        ) from error


def _rename_exclusive(source: Path, target: Path) -> bool:
    """``renameat2(..., RENAME_NOREPLACE)`` on Linux: True when done, False when the system does not offer it."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_noreplace = -100, 1
    if call(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_noreplace) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # an old kernel or a file system without it
    raise OSError(code, os.strerror(code), str(target))


# ---------------------------------------------------------------------- reading and scanning


def _walk(audits_dir: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` that never enters hidden folders nor follows links; yields (folder, hidden dirs, file names)."""
    for folder, dirs, files in os.walk(audits_dir):
        hidden = [name for name in dirs if name.startswith(".")]
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        yield Path(folder), hidden, files


def audit_json_files(audits_dir: Path) -> list[Path]:
    """Every ``audit.json`` under ``audits_dir`` outside hidden folders (staging folders are never audits)."""
    if not audits_dir.is_dir():
        return []
    return sorted(
        folder / "audit.json" for folder, _hidden, files in _walk(audits_dir) if "audit.json" in files
    )


def writer_alive(parent: Path, audit_id: str) -> bool:
    """True while the process writing this audit still holds its lock (its lock file alone says nothing)."""
    lock = parent / f".{audit_id}{LOCK_SUFFIX}"
    try:
        handle = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        return fcntl is None or not _try_lock(handle)
    finally:
        os.close(handle)  # closing drops a lock taken just now


LeftoverKind = Literal["unfinished", "unrecorded", "lock"]


@dataclass(frozen=True)
class Leftover:
    """Something an interrupted audit left under ``audits/``: a staging folder, an unrecorded folder, a lock file."""

    path: Path
    kind: LeftoverKind
    audit_id: str


def find_leftovers(audits_dir: Path, recorded: set[Path], *, locks: bool = False) -> list[Leftover]:
    """Staging folders and folders with an ``audit.json`` not in ``recorded`` (resolved folder plus ``audit.json``),
    whose writer is gone.

    With ``locks``, stray lock files whose writer is gone are listed too (harmless, but ``clean`` removes them).
    """
    found: list[Leftover] = []
    if not audits_dir.is_dir():
        return found
    for folder, hidden, files in _walk(audits_dir):
        for name in hidden:
            match = _STAGING.match(name)
            if match and not writer_alive(folder, match["id"]):
                found.append(Leftover(folder / name, "unfinished", match["id"]))
        unrecorded = "audit.json" in files and folder.resolve() / "audit.json" not in recorded
        if unrecorded and folder != audits_dir and not writer_alive(folder.parent, folder.name):
            found.append(Leftover(folder, "unrecorded", folder.name))
        if locks:
            for name in files:
                match = _LOCK.match(name)
                if (
                    match
                    and not os.path.lexists(folder / f".{match['id']}{STAGING_SUFFIX}")
                    and not writer_alive(folder, match["id"])
                ):
                    found.append(Leftover(folder / name, "lock", match["id"]))
    return sorted(found, key=lambda item: str(item.path))


def remove_leftover(leftover: Leftover, still_orphaned: Callable[[Leftover], bool]) -> bool:
    """Remove one leftover if its writer is gone and ``still_orphaned`` (asked under the lock) agrees.

    Holding the lock while asking closes the race with an audit that is recorded at that moment: its process
    keeps the lock until the register has committed.
    """
    parent = leftover.path.parent
    lock = parent / f".{leftover.audit_id}{LOCK_SUFFIX}"
    handle: int | None = None
    try:
        handle = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        handle = None
    try:
        if handle is not None and not _try_lock(handle):
            return False
        if not still_orphaned(leftover):
            return False
        if leftover.path.is_symlink() or leftover.path.is_file():
            leftover.path.unlink(missing_ok=True)
        elif leftover.path.exists():
            shutil.rmtree(leftover.path)
        if handle is not None and not os.path.lexists(parent / f".{leftover.audit_id}{STAGING_SUFFIX}"):
            lock.unlink(missing_ok=True)
        return True
    finally:
        if handle is not None:
            os.close(handle)
