"""Found attacking the site build's memory changes (the slim copies waiting in a temporary file).

The build began to write every audit's slim copy to an unnamed file in the temporary folder (``TMPDIR``). When that
folder had a little room but not enough (a small ``/tmp``, another program filling it), a build that needed no
temporary folder before stopped with exit 2 and ``cannot write or read (No space left on device); check the path``,
naming no path and leaving no pages. Now the copies wait in memory once the file cannot take them: the same pages.

A slim cache line whose key ratios were edited (four values, an unknown ratio, text for a number) was trusted and
gave a traceback while the model page was written; now such a line is not used and its audit is parsed again.
A cache replaced by a link to ``/dev/zero`` ran the build out of memory, a named pipe made it wait for ever, and a
link to another file was read through (and kept): only a plain file is read now, never through a link.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mounts import small_filesystem
from tests.site.conftest import WorkspaceFactory, make_audit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_tmp(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system with 8 KiB left: room for a test file, not for sixty slim copies."""
    with small_filesystem(tmp_path / "tmp", "64k") as mount:
        (mount / "filler").write_bytes(bytes(56 * 1024))
        yield mount


def _build(root: Path, tmpdir: Path | None, memory: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")}
    env.update(PYTHONPATH=str(ROOT), GOVERNANCE_NOW="2026-11-29T12:00:00Z")
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    command = "from governance.cli.main import main; main()"
    if memory is not None:  # a runaway read ends as a MemoryError, not the machine's memory
        command = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory})); {command}"
    return subprocess.run(
        [sys.executable, "-c", command, "site", "build", "--no-mkdocs", "--allow-unverified"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,  # a hang guard, not a speed check
    )  # fmt: skip


def test_a_nearly_full_temporary_folder_still_builds_the_same_pages(
    workspace_factory: WorkspaceFactory, small_tmp: Path
) -> None:
    audits = [
        make_audit(
            f"model{m}", "1.0", f"20261120T{n:06d}Z-model{m}", created_at=f"2026-11-{n + 1:02d}T10:00:00Z"
        )
        for m in range(3)
        for n in range(20)
    ]
    root = workspace_factory(*audits)
    plain = root.parent / "plain"
    shutil.copytree(root, plain)

    squeezed = _build(root, small_tmp)
    assert squeezed.returncode == 0, squeezed.stderr
    assert _build(plain, None).returncode == 0
    compared = filecmp.dircmp(root / "docs" / "generated", plain / "docs" / "generated")
    assert _differing(compared) == []
    assert len(list((root / "docs" / "generated" / "audits").rglob("*.md"))) >= 60


def _differing(compared: filecmp.dircmp[str]) -> list[str]:
    found = [*compared.left_only, *compared.right_only, *compared.diff_files]
    for sub in compared.subdirs.values():
        found += _differing(sub)
    return found


@pytest.mark.parametrize(
    "ratios",
    [
        b'[["sex","demographic_parity_ratio",0.5,0.1]]',
        b'[["sex","x",0.5,0.4,0.6]]',
        b'[["sex","equalized_odds_ratio","a",0,1]]',
        b"[7]",
    ],
    ids=["four-values", "unknown-ratio", "text-value", "not-a-list"],
)
def test_a_slim_cache_line_whose_key_ratios_were_edited_is_parsed_again(
    workspace_factory: WorkspaceFactory, ratios: bytes
) -> None:
    """Was a ``ValueError``/``KeyError`` traceback while the model page was written (the line was trusted)."""
    audits = [
        make_audit("credit", "1.0", f"20261120T{n:06d}Z-credit", created_at=f"2026-11-{n + 1:02d}T10:00:00Z")
        for n in range(3)
    ]
    root = workspace_factory(*audits)
    assert _build(root, None).returncode == 0
    before = {path: path.read_bytes() for path in (root / "docs" / "generated").rglob("*.md")}
    cache = root / ".governance" / "site-slim-audits.jsonl"
    lines = cache.read_bytes().split(b"\n")
    edited = [
        digest + b" " + ratios + b"\t" + rest.partition(b"\t")[2] if b"\t" in rest else digest + b" " + rest
        for digest, _, rest in (line.partition(b" ") for line in lines[1:])
    ]
    cache.write_bytes(b"\n".join([lines[0], *edited]))
    shutil.rmtree(root / "docs" / "generated")

    rebuilt = _build(root, None)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert {path: path.read_bytes() for path in (root / "docs" / "generated").rglob("*.md")} == before
    assert ratios not in cache.read_bytes()  # rewritten from the audits


@pytest.mark.parametrize("kind", ["link-to-dev-zero", "named-pipe", "link-to-a-cache"])
def test_a_slim_cache_that_is_not_a_plain_file_is_left_alone(
    workspace_factory: WorkspaceFactory, kind: str
) -> None:
    """A link to ``/dev/zero`` in its place was read as one endless line (a ``MemoryError`` traceback, or all the
    machine's memory); a named pipe made the build wait for ever. Now only a plain file is read as the cache."""
    root = workspace_factory(make_audit("credit", "1.0", "20261120T000000Z-credit"))
    assert _build(root, None).returncode == 0
    cache = root / ".governance" / "site-slim-audits.jsonl"
    elsewhere = root.parent / "elsewhere.jsonl"
    cache.rename(elsewhere)
    if kind == "link-to-dev-zero":
        cache.symlink_to("/dev/zero")
    elif kind == "named-pipe":
        os.mkfifo(cache)
    else:
        cache.symlink_to(elsewhere)
    shutil.rmtree(root / "docs" / "generated")

    rebuilt = _build(root, None, memory=1 << 30)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (root / "docs" / "generated" / "index.md").is_file()
    if kind == "link-to-a-cache":
        assert cache.is_file() and not cache.is_symlink()  # replaced by a plain file, not written through
        assert elsewhere.read_bytes().count(b"\n") == 2
