"""The chain head kept outside the database: the checkpoint file and ``verify --expect-head``.

Someone who can write to the database can delete the newest events and rewind the head; signatures stop them
only if they do not also keep an old, validly signed head (a backup). A head kept where they cannot rewrite it
(a file committed to git, a reviewer's notes) catches that: ``verify`` requires it to be an event of the chain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from governance import provenance
from governance.atomic import write_atomically
from governance.errors import FieldError, InputError, RegisterError
from governance.register.actions import advice

CHECKPOINT_NAME = "register-head.json"
CHECKPOINT_FORMAT = "governance-register-head"
_HASH = re.compile(r"^[0-9a-f]{64}$")


class BrokenHistoryError(RegisterError):
    """The register failed ``verify``, so nothing was anchored to it."""

    exit_code: ClassVar[int] = 1


@dataclass(frozen=True)
class Checkpoint:
    """The head at one moment: the newest event's number and hash."""

    seq: int
    hash: str
    written_at: str


def parse_head(text: str) -> str:
    """A chain head hash as the user typed it (64 hexadecimal characters; case and spaces do not matter)."""
    value = (text or "").strip().lower()
    if not _HASH.match(value):
        raise FieldError(
            "expect_head",
            "{field} must be a chain head hash: 64 hexadecimal characters, as the register's verification "
            f"and export print it, not {text!r}.",
        )
    return value


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint in ``path``; a file that is not one is an input error (it is not silently skipped)."""
    fix = "restore it from git, or write it again with {checkpoint} after verifying"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"The checkpoint {path} cannot be read ({type(exc).__name__}); {fix}.", **advice("checkpoint")
        ) from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path} is not a register checkpoint; {fix}.", **advice("checkpoint"))
    digest, seq = data.get("hash"), data.get("seq")
    if (
        not isinstance(digest, str)
        or not _HASH.match(digest)
        or not isinstance(seq, int)
        or isinstance(seq, bool)
    ):
        raise InputError(
            f"The checkpoint {path} has no valid event number and hash; {fix}.", **advice("checkpoint")
        )
    return Checkpoint(seq=seq, hash=digest, written_at=str(data.get("written_at", "")))


def write_checkpoint(path: Path, seq: int, digest: str) -> Checkpoint:
    """Write the head to ``path`` whole or not at all (a temporary file renamed into place)."""
    checkpoint = Checkpoint(seq=seq, hash=digest, written_at=provenance.isoformat(provenance.now()))
    document = {
        "format": CHECKPOINT_FORMAT,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "written_at": checkpoint.written_at,
        "note": "The register's chain head when this file was written. Commit it to git; verifying the register "
        "then fails if a later register does not contain this event.",
    }
    write_atomically(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    return checkpoint
