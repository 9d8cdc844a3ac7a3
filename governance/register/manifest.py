"""The manifest of an audit folder: the SHA-256 of every file in it, taken when the audit is recorded.

``audit.json`` alone is not what people read: managers read ``report.md`` and the figures. Recording a hash for
every file lets ``verify`` and the site notice any of them being changed, removed, added or swapped for a link.

Files are read without following symbolic links (a link could point at any readable file on the machine), so a
link inside an audit folder is always reported, never read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from governance.errors import InputError
from governance.provenance import sha256_bytes

AUDIT_FILE = "audit.json"
ProblemKind = Literal["changed", "missing", "extra", "link", "linked-folder"]


@dataclass(frozen=True)
class FileProblem:
    """One file of an audit folder that is not as recorded; ``name`` is relative to the folder (POSIX form)."""

    name: str
    kind: ProblemKind


@dataclass
class FolderCheck:
    """What reading an audit folder against its manifest found: the vouched file contents, and the problems."""

    contents: dict[str, bytes]
    problems: list[FileProblem]
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def read_regular(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file; ``None`` for a link (never followed) or anything else."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read()


def walk(folder: Path) -> tuple[list[str], list[str]]:
    """Every regular file under ``folder`` and every symbolic link (links to folders are not entered)."""
    files: list[str] = []
    links: list[str] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                name = Path(entry.path).relative_to(folder).as_posix()
                if entry.is_symlink():
                    links.append(name)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    files.append(name)
    return sorted(files), sorted(links)


def linked_folder(audit_file: Path, workspace_root: Path | None) -> str | None:
    """The first folder on the way to an audit inside the workspace that is a symbolic link, or ``None``.

    The folder that holds every audit (``audits/``) may be a link: verify and the site both read through it alike.
    Below it, a link is never followed (the site does not enter it, so an audit behind one would vanish from the
    site while verify read it): a model, version or audit folder replaced by a link is reported instead.
    """
    if workspace_root is None:
        return None
    try:
        parts = audit_file.parent.relative_to(workspace_root).parts
    except ValueError:
        return None  # kept outside the workspace: read as given
    for depth in range(2, len(parts) + 1):
        if (Path(workspace_root).joinpath(*parts[:depth])).is_symlink():
            return Path(*parts[:depth]).as_posix()
    return None


def covers_folder(audit_file: Path, workspace_root: Path | None = None) -> bool:
    """An ``audit.json`` stands for its whole folder (the audit command's layout); another file only for itself.

    So does an ``audit.json`` lying in the workspace folder itself: the workspace is not an audit folder.
    """
    if audit_file.name != AUDIT_FILE:
        return False
    return workspace_root is None or audit_file.parent.resolve() != Path(workspace_root).resolve()


def take(audit_file: Path, workspace_root: Path | None = None) -> dict[str, str]:
    """The manifest to record: ``{name: sha256}`` for every file of the audit's folder, or of ``audit_file`` alone.

    A symbolic link in the folder is refused: the audit command writes each audit into its own folder of plain
    files.
    """
    if not covers_folder(audit_file, workspace_root):
        data = read_regular(audit_file)
        if data is None:
            raise InputError(
                f"The audit file {audit_file} is not a plain file; record the file the audit wrote."
            )
        return {audit_file.name: sha256_bytes(data)}
    folder = audit_file.parent
    files, links = walk(folder)
    if links:
        raise InputError(
            f"The audit folder {folder} holds a symbolic link ({links[0]}); an audit folder may hold only the "
            "files the audit wrote, so remove the link and record the audit again."
        )
    manifest = {}
    for name in files:
        data = read_regular(folder / name)
        if data is None:
            raise InputError(f"{folder / name} could not be read as a plain file; record the audit again.")
        manifest[name] = sha256_bytes(data)
    return manifest


def check(audit_file: Path, manifest: dict[str, str], workspace_root: Path | None = None) -> FolderCheck:
    """Read the recorded files of an audit and compare each with its hash; also list files nobody recorded.

    ``contents`` holds the bytes read (hashed and compared in one read, so what is checked is what is used),
    including those of changed files: the caller decides whether to use them.
    """
    folder = audit_file.parent
    result = FolderCheck(contents={}, problems=[])
    if linked_folder(audit_file, workspace_root) is not None:  # never read through it
        result.problems.append(FileProblem(".", "linked-folder"))
        result.files_checked = len(manifest)
        return result
    if covers_folder(audit_file, workspace_root) and folder.is_dir():
        files, links = walk(folder)
        result.problems += [FileProblem(name, "link") for name in links]
        result.problems += [FileProblem(name, "extra") for name in files if name not in manifest]
    for name, expected in sorted(manifest.items()):
        result.files_checked += 1
        path = folder / name
        data = read_regular(path)
        if data is None:
            kind: ProblemKind = "link" if path.is_symlink() else "missing"
            if kind == "link" and name in {problem.name for problem in result.problems}:
                continue
            result.problems.append(FileProblem(name, kind))
            continue
        result.contents[name] = data
        if sha256_bytes(data) != expected:
            result.problems.append(FileProblem(name, "changed"))
    result.problems.sort(key=lambda problem: (problem.name != AUDIT_FILE, problem.name))
    return result


def describe(problem: FileProblem, shown: str, audit_id: str) -> str:
    """One sentence for a problem: what is wrong with the file, and what to do."""
    if problem.kind == "linked-folder":
        return (
            f"The audit folder of audit {audit_id} ({shown.removesuffix('/.')}) is reached through a symbolic link, "
            "which is never followed (it could point at any folder); put the audit's own folder back in its place."
        )
    what = f"The audit file {shown} (audit {audit_id})"
    if problem.kind == "changed":
        return f"{what} was changed after it was recorded; restore the original, or run the audit again."
    if problem.kind == "missing":
        return f"{what} is missing; restore it from a backup or the audit's folder."
    if problem.kind == "link":
        return (
            f"{what} is a symbolic link, which is never followed (it could point at any file on this machine); "
            "remove it, or restore the file the audit wrote."
        )
    return (
        f"{what} was not there when the audit was recorded, so nobody vouches for it; remove it, or run the "
        "audit again."
    )
