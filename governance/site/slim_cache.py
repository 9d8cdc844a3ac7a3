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
import io
import json
import os
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from governance.atomic import replacing
from governance.results.audit import AuditResult

CACHE_NAME = "site-slim-audits.jsonl"
KEY_SUMMARIES = ("demographic_parity_ratio", "equalized_odds_ratio")  # the model page's ratio figure
VERSION = 2  # each line: digest, key ratios (JSON), a tab, the slim copy (JSON)


@lru_cache(maxsize=1)
def code_key() -> str:
    """The code a slim copy is made with (the results' models and the slimming): other code, other copies."""
    from governance import results
    from governance.version import __version__

    digest = hashlib.sha256(f"{VERSION} {__version__}".encode())
    slimming = Path(__file__).with_name("sources.py")  # by name: that module imports this one
    here = Path(__file__)  # the key ratios' names (KEY_SUMMARIES) and the lines' layout
    made_by = [*sorted(Path(str(results.__file__)).parent.glob("*.py")), slimming, here]
    for path in made_by:
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SlimSpill:
    """An unnamed temporary file the build's slim copies wait in (the records keep where, not the bytes): held in
    memory they took about 2 kB per audit for the whole build. The file goes when its last record does.

    A temporary folder that is full (or missing, or read-only) must not stop a build that never needed it: the
    copies then wait in memory, as they did before, and the build takes more memory instead of failing.
    """

    def __init__(self) -> None:
        self._end = 0
        self._lock = threading.Lock()
        self._file: BinaryIO
        try:  # unbuffered: a full disk fails the write that does not fit, with every earlier byte on disk
            self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115  # closed with this object
        except OSError:
            self._file = io.BytesIO()

    def add(self, data: bytes) -> Spilled:
        with self._lock:
            self._write(data)
            start, self._end = self._end, self._end + len(data)
        return Spilled(self, start, len(data))

    def _write(self, data: bytes) -> None:
        """``data`` at the end; in memory from now on if the temporary file cannot take it."""
        try:
            self._file.seek(self._end)
            if self._file.write(data) == len(data):
                return
        except OSError:
            pass
        self._file.seek(0)
        kept = io.BytesIO(self._file.read(self._end))
        self._file.close()
        self._file = kept
        self._file.seek(self._end)
        self._file.write(data)

    def read(self, start: int, length: int) -> bytes:
        with self._lock:
            self._file.seek(start)
            return self._file.read(length)


class Spilled:
    """Where one slim copy's JSON waits in a :class:`SlimSpill` (a few dozen bytes instead of its 2 kB)."""

    __slots__ = ("length", "spill", "start")

    def __init__(self, spill: SlimSpill, start: int, length: int) -> None:
        self.spill, self.start, self.length = spill, start, length

    def data(self) -> bytes:
        return self.spill.read(self.start, self.length)


@dataclass
class SlimCache:
    """Previous slim copies (where each line is in the previous file, parsed only when used) and the ones of this
    build (where each line is in the spill, see :class:`SlimSpill`): no line is held in memory."""

    path: Path | None
    spill: SlimSpill = field(default_factory=SlimSpill)
    previous: dict[str, tuple[int, int]] = field(
        default_factory=dict
    )  # digest -> its line's rest in the file
    current: dict[str, Spilled] = field(default_factory=dict)  # digest -> its line's rest in the spill
    changed: bool = False
    _old: BinaryIO | None = None  # the previous file, open while the audits are read

    @classmethod
    def open(cls, path: Path | None) -> SlimCache:
        """The cache at ``path`` (``None``: no cache, as for callers other than the site build)."""
        cache = cls(path=path)
        if path is None:
            return cache
        handle = _open_regular(path)
        if handle is None:
            return cache
        first = handle.readline(len(code_key()) + 2)  # bounded: whatever is there, a line this long decides
        if first.rstrip(b"\r\n") != code_key().encode():  # made by other code: parsed again, rewritten
            handle.close()
            return cache
        offset = len(first)
        for line in handle:
            digest, _, rest = line.partition(b" ")
            rest = rest.rstrip(b"\r\n")
            if len(digest) == 64 and rest:
                cache.previous[digest.decode("ascii", "replace")] = (offset + 65, len(rest))
            offset += len(line)
        cache._old = handle
        return cache

    def get(self, digest: str) -> tuple[AuditResult, Spilled, tuple[Any, ...]] | None:
        """The slim result (parsed, and where its JSON waits) and key ratios made from the bytes with this digest,
        if a previous build made them."""
        where = self.previous.pop(digest, None)
        if where is None or self._old is None:
            return None
        try:
            self._old.seek(where[0])
            rest = self._old.read(where[1])
            ratios_text, _, stored = rest.partition(b"\t")
            result = AuditResult.model_validate_json(stored)
            ratios = _ratios(json.loads(ratios_text))
        except (OSError, ValueError, TypeError):
            return None
        line = self.spill.add(rest)
        self.current[digest] = line
        return result, Spilled(self.spill, line.start + len(ratios_text) + 1, len(stored)), ratios

    def put(self, digest: str, result: bytes, ratios: tuple[Any, ...]) -> Spilled:
        """Keep the slim copy's JSON and its key ratios for the next build; returns where the JSON waits."""
        ratios_text = json.dumps(ratios, separators=(",", ":")).encode()
        line = self.spill.add(ratios_text + b"\t" + result)
        self.current[digest] = line
        self.changed = True
        return Spilled(self.spill, line.start + len(ratios_text) + 1, len(result))

    def save(self) -> None:
        """Write this build's copies (only those), replacing the file whole; a cache that cannot be written is
        skipped (the next build parses the audits again)."""
        changed, self.previous = self.changed or bool(self.previous), {}  # left over: audits gone since
        if self._old is not None:
            self._old.close()
            self._old = None
        if self.path is None or not changed or not self.path.parent.is_dir():
            self.current = {}
            return  # unchanged, or no private folder (no register): nothing is created for a cache
        try:
            with replacing(self.path) as staged, staged.open("wb") as out:
                out.write(code_key().encode() + b"\n")
                for digest, line in self.current.items():
                    out.write(digest.encode() + b" " + line.data() + b"\n")
        except OSError:
            pass  # removed by ``replacing``; the next build parses the audits again
        finally:
            self.current = {}


def _open_regular(path: Path) -> BinaryIO | None:
    """The cache file open for reading if it is a plain file; ``None`` for a link, a device, a pipe, a folder
    (a link to ``/dev/zero`` was read until memory ran out, a named pipe waited for ever) or none at all."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def _ratios(loaded: Any) -> tuple[tuple[Any, ...], ...]:
    """The key ratios read from a cache line, as :func:`governance.site.sources.key_ratios` makes them; a line
    edited by hand into anything else is a ``ValueError`` (its audit is parsed again), not a traceback later."""

    def number(value: Any, empty: bool) -> bool:
        return (value is None and empty) or (isinstance(value, int | float) and not isinstance(value, bool))

    ratios = tuple(tuple(ratio) for ratio in loaded)
    for ratio in ratios:
        if not (
            len(ratio) == 5
            and isinstance(ratio[0], str)
            and ratio[1] in KEY_SUMMARIES
            and number(ratio[2], False)
            and number(ratio[3], True)
            and number(ratio[4], True)
        ):
            raise ValueError(f"not a key ratio: {ratio!r}")
    return ratios
