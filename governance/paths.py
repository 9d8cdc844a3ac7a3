"""Safe file names and paths for user-supplied names (models, versions, groups).

A model called ``../../etc/passwd`` or ``<script>`` must never become a path outside the workspace:
names are turned into slugs, and every joined path is checked to stay under its base.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from governance.errors import InputError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slugify(name: str, *, max_length: int = 80) -> str:
    """A file-name-safe version of ``name``: ASCII letters, digits, ``.``, ``_`` and ``-`` only.

    Leading dots are removed so that no slug is ``.`` or ``..`` or a hidden file.
    """
    normalised = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", normalised).lstrip(".-").rstrip("-")[:max_length]
    return slug or "unnamed"


def safe_join(base: str | Path, *parts: str) -> Path:
    """Join slugified ``parts`` under ``base`` and prove the result stays inside ``base``."""
    root = Path(base).resolve()
    candidate = root.joinpath(*(slugify(part) for part in parts)).resolve()
    if candidate != root and root not in candidate.parents:
        raise InputError(f"The name {'/'.join(parts)!r} would leave the folder {root}; choose a plain name.")
    return candidate


def package_root() -> Path:
    """The folder of the installed ``governance`` package."""
    return Path(__file__).resolve().parent


def bundled_policies() -> Path:
    """The shipped ``policies/`` folder: inside the wheel, or the repository's own in a checkout."""
    inside_wheel = package_root() / "_bundled" / "policies"
    if inside_wheel.is_dir():
        return inside_wheel
    return package_root().parent / "policies"


def demo_data() -> Path:
    """The bundled German credit CSV (DbCL v1.0; attribution beside it)."""
    return package_root() / "data" / "german_credit.csv"


def page_slug(name: object) -> str:
    """A file name for a generated page: :func:`slugify`, which never starts with a dot."""
    return slugify(str(name))
