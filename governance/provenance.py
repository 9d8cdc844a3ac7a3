"""Hashes, library versions, the clock and the actor: what every record says about where it came from.

The clock is injectable (``GOVERNANCE_NOW`` or :func:`set_clock`) so that reports and golden files are
reproducible; everything that stamps a time calls :func:`now`.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20
_clock: Callable[[], datetime] | None = None

TRACKED_LIBRARIES = (
    "governance",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "shap",
    "skops",
    "pyarrow",
    "sqlalchemy",
    "mkdocs",
    "mkdocs-material",
)


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, streamed so that large files cost no memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of bytes in memory."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form that hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_json(value: Any) -> str:
    """SHA-256 of the canonical JSON of a value."""
    return sha256_bytes(canonical_json(value).encode("utf-8"))


_read_ahead: dict[tuple[str, ...], dict[str, str]] = {}  # read while the engine counted, for the next call


def read_library_versions_ahead(names: tuple[str, ...] = TRACKED_LIBRARIES) -> None:
    """Read the versions now for the next :func:`library_versions` call: an audit waiting for the engine's
    answer does it meanwhile (reading eleven packages' metadata took 0.02 s after the answer, benchmarks/engine)."""
    _read_ahead[names] = library_versions(names)


def forget_library_versions_ahead() -> None:
    """Drop versions read ahead and not used (an audit that failed after reading them): the next audit reads
    its own, in case a package changed in between."""
    _read_ahead.clear()


def library_versions(names: tuple[str, ...] = TRACKED_LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries whose behaviour shapes a result, plus Python's.

    Read afresh at each call, except once after :func:`read_library_versions_ahead` (the same command)."""
    ahead = _read_ahead.pop(names, None)
    if ahead is not None:
        return ahead
    from importlib import metadata  # with the email parser it reads packages' metadata: not needed at start

    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, golden files); ``None`` restores the real one."""
    global _clock
    _clock = clock


def now() -> datetime:
    """The current time in UTC, from the injected clock, ``GOVERNANCE_NOW`` (ISO 8601), or the system."""
    if _clock is not None:
        return _clock()
    fixed = os.environ.get("GOVERNANCE_NOW")
    if fixed:
        parsed = datetime.fromisoformat(fixed)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """A UTC timestamp with second precision, e.g. ``2026-11-23T10:00:00Z``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def resolve_actor(explicit: str | None = None) -> str:
    """Who is acting: ``--actor``, then ``GOVERNANCE_ACTOR``, then git's user.email, then the OS user."""
    if explicit:
        return explicit.strip()
    from_env = os.environ.get("GOVERNANCE_ACTOR")
    if from_env:
        return from_env.strip()
    try:
        completed = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=5, check=False
        )
        if completed.returncode == 0 and completed.stdout.strip():
            return completed.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database at all
        return "unknown"
