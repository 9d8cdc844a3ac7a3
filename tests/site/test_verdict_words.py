"""A reported audit (a policy without a pass mark) is never shown as passed, nor coloured as a success."""

from __future__ import annotations

from governance.site import build_site
from governance.site.audit_page import verdict_box
from governance.workspace import find_workspace
from tests.site.conftest import WorkspaceFactory, make_audit


def test_the_verdict_box_of_a_reported_audit_is_neutral() -> None:
    box = verdict_box(make_audit("m", "1", "r1", verdict="reported"))
    assert box.startswith('!!! note "Verdict: Reported"')
    assert "success" not in box and "Passed" not in box
    assert "sets no pass mark" in box


def test_a_reported_audit_is_not_shown_as_passed_on_any_page(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory(make_audit("screen", "2.0", "r1", verdict="reported"))
    build_site(find_workspace(root))
    generated = root / "docs" / "generated"
    row = next(
        line
        for line in (generated / "index.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| [screen]")
    )
    assert "[Reported](audits/screen/2.0/r1/index.md)" in row
    model = (generated / "models" / "screen.md").read_text(encoding="utf-8")
    assert "- **Its verdict:** [Reported](" in model
    page = (generated / "audits" / "screen" / "2.0" / "r1" / "index.md").read_text(encoding="utf-8")
    lines = [line for line in page.splitlines() if line.strip()]
    assert lines[1] == '!!! note "Verdict: Reported"'
    for text in (row, model, page):
        assert "Passed" not in text
