"""The slim copies of audits made by the previous build, by the SHA-256 of the ``audit.json`` they came from.

Making a slim copy (:func:`governance.site.sources.slim`) means parsing the whole audit, about a megabyte of
results: for a thousand audits that is most of a rebuild. Every audit is still read and checked against the
register's hashes on every build; only the parsing is skipped when the checked bytes are those the cached copy was
made from, by the same code (its first line is a hash of that code). The cache is one text file in the workspace's private ``.governance/`` folder (a line per audit: its digest,
its key ratios and its slim copy, both JSON), written whole at the
end of each build with only the audits it saw (so it never grows beyond the audits on disk); a workspace without
that folder (no register) gets no cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from governance.atomic import replacing
from governance.results.audit import AuditResult

CACHE_NAME = "site-slim-audits.jsonl"
VERSION = 2  # each line: digest, key ratios (JSON), a tab, the slim copy (JSON)


@lru_cache(maxsize=1)
def code_key() -> str:
    """The code a slim copy is made with (the results' models and the slimming): other code, other copies."""
    from governance import results
    from governance.version import __version__

    digest = hashlib.sha256(f"{VERSION} {__version__}".encode())
    slimming = Path(__file__).with_name("sources.py")  # by name: that module imports this one
    for path in [*sorted(Path(str(results.__file__)).parent.glob("*.py")), slimming]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class SlimCache:
    """Previous slim copies (raw lines, parsed only when used) and the ones of this build."""

    path: Path | None
    previous: dict[str, str] = field(default_factory=dict)  # digest -> its JSON line
    current: dict[str, str] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def open(cls, path: Path | None) -> SlimCache:
        """The cache at ``path`` (``None``: no cache, as for callers other than the site build)."""
        cache = cls(path=path)
        if path is None:
            return cache
        try:
            handle = path.open(encoding="utf-8")
        except OSError:
            return cache
        with handle:
            if handle.readline().rstrip("\n") != code_key():  # made by other code: parsed again, rewritten
                return cache
            for line in handle:
                digest, _, rest = line.partition(" ")
                if len(digest) == 64 and rest:
                    cache.previous[digest] = rest.rstrip("\n")
        return cache

    def get(self, digest: str) -> tuple[AuditResult, bytes, tuple[Any, ...]] | None:
        """The slim result (parsed, and its JSON) and key ratios made from the bytes with this digest, if a previous
        build made them."""
        line = self.previous.pop(digest, None)
        if line is None:
            return None
        ratios_text, _, result_text = line.partition("\t")
        try:
            stored = result_text.encode()
            result = AuditResult.model_validate_json(stored)
            ratios = tuple(tuple(ratio) for ratio in json.loads(ratios_text))
        except (ValueError, TypeError):
            return None
        self.current[digest] = line
        return result, stored, ratios

    def put(self, digest: str, result: bytes, ratios: tuple[Any, ...]) -> None:
        """Keep the slim copy's JSON and its key ratios for the next build."""
        self.current[digest] = json.dumps(ratios, separators=(",", ":")) + "\t" + result.decode()
        self.changed = True

    def save(self) -> None:
        """Write this build's copies (only those), replacing the file whole; a cache that cannot be written is
        skipped (the next build parses the audits again)."""
        changed, self.previous = self.changed or bool(self.previous), {}  # left over: audits gone since
        if self.path is None or not changed or not self.path.parent.is_dir():
            return  # unchanged, or no private folder (no register): nothing is created for a cache
        try:
            with replacing(self.path) as staged, staged.open("w", encoding="utf-8") as out:
                out.write(code_key() + "\n")
                for digest, line in self.current.items():
                    out.write(f"{digest} {line}\n")
        except OSError:
            pass  # removed by ``replacing``; the next build parses the audits again
        finally:
            self.current = {}
