"""Links to a generated page's headings are checked as MkDocs checks them, though the site build keeps each
generated page's anchors on disk rather than in memory (governance.site.lean): with ``validation: links:
anchors: warn`` in mkdocs.yml a strict build fails on an anchor that is not there, and passes on one that is."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli
from tests.site.conftest import WorkspaceFactory, make_audit


def _build(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(root)])
    return result.exit_code, result.output


def _anchored_workspace(workspace_factory: WorkspaceFactory) -> tuple[Path, str]:
    """A workspace whose mkdocs.yml warns on broken anchors, and one heading anchor of the model's page."""
    root = workspace_factory(make_audit("credit-risk", "1.0.0", "20261101T000000Z-aaaa0001"))
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + "validation:\n  links:\n    anchors: warn\n", "utf-8"
    )
    code, output = _build(root)
    assert code == 0, output
    page = (root / "site" / "generated" / "models" / "credit-risk.html").read_text(encoding="utf-8")
    anchors = re.findall(r'<h2 id="([^"]+)"', page)
    assert anchors, "the model page has headings"
    return root, anchors[0]


def _link_from_a_page_of_ours(root: Path, anchor: str) -> None:
    (root / "docs" / "notes.md").write_text(
        f"# Notes\n\nSee [the model](generated/models/credit-risk.md#{anchor}).\n", encoding="utf-8"
    )


def test_a_link_to_a_generated_pages_heading_passes(workspace_factory: WorkspaceFactory) -> None:
    root, anchor = _anchored_workspace(workspace_factory)
    _link_from_a_page_of_ours(root, anchor)
    code, output = _build(root)
    assert code == 0, output


def test_a_link_to_a_missing_heading_of_a_generated_page_fails_the_build(
    workspace_factory: WorkspaceFactory,
) -> None:
    root, _anchor = _anchored_workspace(workspace_factory)
    _link_from_a_page_of_ours(root, "no-such-heading")
    shutil.rmtree(root / "site")  # a full build: an incremental one does not render the model's page again
    code, output = _build(root)
    assert code == 2, output
    assert "no-such-heading" in output and "Traceback" not in output
