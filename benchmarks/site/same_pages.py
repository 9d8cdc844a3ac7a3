"""Check that a change to the site build leaves its pages byte for byte the same.

Builds the site of each workspace given twice, from scratch, on copies: once with the code of a base revision
(checked out into a temporary git worktree) and once with this checkout's code, both with the same clock
(``GOVERNANCE_NOW``) and publishing what the register does not vouch for (marked so, the same in both), then
compares every file of ``docs/generated/`` and of ``site/``, except the sitemap (MkDocs dates it) and the hidden
files that record what each page was made from (code included). Prints the files that differ; exits 1 if any do.

Run: ``.venv/bin/python benchmarks/site/same_pages.py --base main WORKSPACE [WORKSPACE ...]``
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
SKIPPED = ("site/sitemap.xml", "site/sitemap.xml.gz", "site/.governance-build.json")
BOOKKEEPING = ".inputs"  # what each page was made from, code included: it changes with the code, by design
LEFT_OUT = {".venv", ".git", "site", "docs/generated", "benchmarks/_data", ".mypy_cache", ".ruff_cache"}
BUILD = (
    "from governance.site import build_site; from governance.workspace import find_workspace; import sys; "
    "build_site(find_workspace(sys.argv[1]), allow_unverified=True)"
)


def build(code: Path, workspace: Path, target: Path) -> Path:
    """A copy of ``workspace`` at ``target``, its site built from scratch by the code at ``code``."""

    def left_out(folder: str, names: list[str]) -> set[str]:
        inside = Path(folder).relative_to(workspace)
        return {name for name in names if (inside / name).as_posix() in LEFT_OUT}

    shutil.copytree(workspace, target, symlinks=True, ignore=left_out)
    (target / ".governance" / "site-slim-audits.jsonl").unlink(missing_ok=True)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")},
        "PYTHONPATH": str(code), "GOVERNANCE_NOW": "2026-11-29T12:00:00Z", "NO_MKDOCS_2_WARNING": "1",
    }  # fmt: skip
    subprocess.run([sys.executable, "-P", "-c", BUILD, str(target)], cwd=target, env=env, check=True)
    return target


def files(root: Path) -> set[str]:
    found = set()
    for folder in ("docs/generated", "site"):
        found |= {p.relative_to(root).as_posix() for p in (root / folder).rglob("*") if p.is_file()}
    return {name for name in found - set(SKIPPED) if not name.endswith(BOOKKEEPING)}


def compare(before: Path, after: Path) -> list[str]:
    """The files that differ, or are in one build only."""
    old, new = files(before), files(after)
    differ = sorted(old ^ new)
    differ += sorted(
        name for name in old & new if not filecmp.cmp(before / name, after / name, shallow=False)
    )
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the revision to compare with (default: main)")
    parser.add_argument("workspaces", nargs="+", type=Path)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="same-pages-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--detach", str(base), args.base], check=True
        )
        try:
            for index, workspace in enumerate(args.workspaces):
                before = build(base, workspace.resolve(), Path(scratch) / f"before-{index}")
                after = build(HERE, workspace.resolve(), Path(scratch) / f"after-{index}")
                differ = compare(before, after)
                print(f"{workspace}: {len(files(after))} files, {len(differ)} differ")
                for name in differ[:20]:
                    print(f"  {name}")
                failed = failed or bool(differ)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(base)], check=False)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
