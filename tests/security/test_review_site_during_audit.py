"""Issue-10 review: ``site build`` while an audit is between writing its folder and being recorded.

The audit is held by the test-only pause hook with its folder in place and no register row yet (the window a
concurrent build can hit). The build must succeed without publishing it; once the audit is recorded, the next
build publishes it as verified; if it is killed instead, it stays off the site.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.security.test_audit_writes import AUDIT, _paused, _start, governance, register_url, workspace

__all__ = ["register_url", "workspace"]  # the fixtures, from the audit-writes tests


def generated(root: Path) -> str:
    folder = root / "docs" / "generated"
    return (
        "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.md")))
        if folder.is_dir()
        else ""
    )


def audit_pages(root: Path) -> list[str]:
    """The audit pages the build wrote (docs/generated/audits/MODEL/VERSION/AUDIT/index.md)."""
    folder = root / "docs" / "generated" / "audits"
    return sorted(p.parent.name for p in folder.rglob("index.md")) if folder.is_dir() else []


@pytest.mark.parametrize("then", ["recorded", "killed"])
def test_a_site_built_during_an_audit_never_publishes_it_before_it_is_recorded(
    workspace: Path, register_url: str, tmp_path: Path, then: str
) -> None:
    (workspace / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    paused = tmp_path / "paused"
    process = _start(workspace, register_url, "audit", "m@1", *AUDIT, "--no-figures",
                     GOVERNANCE_TEST_PAUSE_AT="before-commit", GOVERNANCE_TEST_PAUSE_FILE=str(paused))  # fmt: skip
    _paused(process, paused)
    [audit_id] = [p.name for p in (workspace / "audits" / "m" / "1").iterdir() if not p.name.startswith(".")]
    during = governance(workspace, register_url, "site", "build", "--no-mkdocs")
    assert during.returncode == 0, during.stdout + during.stderr
    assert audit_pages(workspace) == []
    if then == "killed":
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
    else:
        paused.unlink()
        assert process.wait(300) in (0, 1, 3), process.communicate()
    after = governance(workspace, register_url, "site", "build", "--no-mkdocs")
    if then == "killed":
        assert after.returncode == 0 and audit_pages(workspace) == []
    else:
        assert after.returncode == 0, after.stdout + after.stderr
        assert audit_pages(workspace) == [audit_id] and "Not verified" not in generated(workspace)
