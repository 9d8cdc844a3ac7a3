"""Orphans: audit folders under the workspace's ``audits/`` that the register does not know.

An audit is written first and recorded second; a crash or ``kill -9`` in between (or during the write) leaves
a folder with no register row, or a hidden staging folder. A one-off ``governance audit --no-register`` in a
workspace with a register, or a folder copied in by hand, looks the same. None of them is vouched for, so
``verify`` and ``status`` report them, the site never publishes them, and ``clean_orphans`` removes them. An
audit still being written is not an orphan: its process holds a lock (see :mod:`governance.audit.folders`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from governance.audit.folders import Leftover, find_leftovers, remove_leftover
from governance.register import database
from governance.register import schema as t
from governance.register.actions import step

if TYPE_CHECKING:
    from governance.register.api import Register

CLEAN = step("clean_orphans")
"""The next step every orphan's message names: remove it (the command line says ``register clean-orphans``)."""


def audits_dir(register: Register, workspace_root: Path | None = None) -> Path | None:
    """The workspace's ``audits/`` folder, or ``None`` when the register was opened without a workspace."""
    root = workspace_root or register.workspace_root
    return Path(root) / "audits" if root is not None else None


def recorded_audit_files(register: Register, workspace_root: Path | None = None) -> set[Path]:
    """Every ``audit.json`` the register has recorded, as its resolved folder plus its name.

    The file itself is not resolved: an ``audit.json`` that is a link to a recorded one does not make its folder
    a recorded audit.
    """
    with database.read_transaction(register.engine) as conn:
        stored = conn.execute(sa.select(t.audits.c.audit_json_path)).scalars().all()
    located = [register.locate(str(path), workspace_root) for path in stored]
    return {path.parent.resolve() / path.name for path in located}


def find_orphans(
    register: Register, workspace_root: Path | None = None, *, locks: bool = False
) -> list[Leftover]:
    """Unrecorded audit folders and unfinished staging folders whose writer is gone (``locks``: stray locks too)."""
    folder = audits_dir(register, workspace_root)
    if folder is None:
        return []
    return find_leftovers(folder, recorded_audit_files(register, workspace_root), locks=locks)


def shown(leftover: Leftover, root: Path | None) -> str:
    """A leftover's path relative to the workspace when it lies inside it."""
    try:
        return leftover.path.relative_to(root).as_posix() if root is not None else str(leftover.path)
    except ValueError:
        return str(leftover.path)


def orphan_message(leftover: Leftover, root: Path | None) -> str:
    """One sentence: what the leftover is, that it is never published, and how to remove it."""
    where = shown(leftover, root)
    if leftover.kind == "unfinished":
        return (
            f"The folder {where} is an unfinished audit, not recorded in the register: its process stopped "
            f"while writing it (a crash or a kill); it is never published, remove it with {CLEAN.said}."
        )
    if leftover.kind == "lock":
        return f"The file {where} is a lock left by an audit that stopped; remove it with {CLEAN.said}."
    return (
        f"The audit folder {where} is not recorded in the register: an audit stopped before it was recorded, "
        "or it was run without the register or copied in by hand; it is not published, so look at it and remove "
        f"it with {CLEAN.said}, or move it out of audits/."
    )


def clean_orphans(
    register: Register, workspace_root: Path | None = None, *, delete: bool = False
) -> list[Leftover]:
    """The orphans (and stray lock files) found; with ``delete``, only those actually removed.

    Each one is checked again under its lock against a fresh read of the register, so an audit recorded at that
    moment is never removed.
    """
    found = find_orphans(register, workspace_root, locks=True)
    if not delete:
        return found

    def still_orphaned(leftover: Leftover) -> bool:
        if leftover.kind != "unrecorded":
            return True
        return leftover.path.resolve() / "audit.json" not in recorded_audit_files(register, workspace_root)

    return [leftover for leftover in found if remove_leftover(leftover, still_orphaned)]
