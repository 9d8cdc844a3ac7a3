"""The site's audit diff pages (issue 15, point 1): what changed between consecutive audits of the live version,
and between the approved audit and the newest one, as pages linked from both audits' pages."""

from __future__ import annotations

import re
from pathlib import Path

from monitoring_support import audit, decisions, make_workspace, run

from governance.register import Register
from governance.scaffold import init_workspace
from tests.register.register_support import People


def _live_model(tmp_path: Path, register_url: str) -> tuple[Path, list[str]]:
    """m@1 audited, approved and deployed, then audited twice more; the last audit fails the four-fifths rule."""
    root = tmp_path / "ws"
    init_workspace(root, organisation="Test Co")
    make_workspace(root, register_url, versions=("1",))
    first = audit(root, register_url, "1", decisions(3000, rate_a=0.5, rate_b=0.5, seed=1), name="jan")
    with People(register_url, root) as people:  # on PostgreSQL the approver logs in as their own role
        people.register("risk").approve(
            "m",
            "1",
            role="risk-officer",
            actor="risk@example.com",
            risk_acceptance="Audited on saved predictions.",
        )
    with Register(register_url, workspace_root=root) as register:
        register.deploy("m", "1", actor="ops@example.com")
    second = audit(root, register_url, "1", decisions(3000, rate_a=0.5, rate_b=0.48, seed=2), name="jun")
    third = audit(root, register_url, "1", decisions(3000, rate_a=0.5, rate_b=0.3, seed=3), name="nov")
    return root, [first, second, third]


def test_diff_pages_between_consecutive_audits_and_since_approval_are_linked_from_both_audits(
    tmp_path: Path, register_url: str
) -> None:
    root, (first, second, third) = _live_model(tmp_path, register_url)
    result = run(root, register_url, "site", "build", "--strict")
    assert result.exit_code == 0, result.output
    generated = root / "docs" / "generated"
    pages = sorted(p.relative_to(generated).as_posix() for p in (generated / "diffs").rglob("*.md"))
    assert len(pages) == 3, (
        pages
    )  # first->second, second->third, and the approved audit (first) -> newest (third)
    since_approval = next(p for p in pages if first in p and third in p)
    text = (generated / since_approval).read_text(encoding="utf-8")
    assert "approved" in text.lower()
    assert "pass" in text and "fail" in text  # the four-fifths rule moved
    assert re.search(r"group = B.*impact ratio", text)
    audit_pages = {p.parent.name: p for p in (generated / "audits").rglob("index.md")}
    for audit_id, expected in ((first, 2), (second, 2), (third, 2)):
        page = audit_pages[audit_id]
        body = page.read_text(encoding="utf-8")
        assert "Compared with other audits" in body
        links = re.findall(r"\]\(([^)]*diffs/[^)]*)\)", body)
        assert len(links) == expected, (audit_id, links)
        for link in links:
            assert (page.parent / link).resolve().is_file(), link
    built = sorted((root / "site" / "generated" / "diffs").rglob("*.html"))
    assert len(built) == 3 and "What changed" in built[0].read_text(encoding="utf-8")


def test_a_model_with_one_audit_has_no_diff_page(tmp_path: Path, register_url: str) -> None:
    root = tmp_path / "ws"
    init_workspace(root, organisation="Test Co")
    make_workspace(root, register_url, versions=("1",))
    audit(root, register_url, "1", decisions(1000, seed=1))
    result = run(root, register_url, "site", "build", "--no-mkdocs")
    assert result.exit_code == 0, result.output
    assert not (root / "docs" / "generated" / "diffs").exists()
