"""Strict builds of fixture workspaces: the pages, the nav, the register's data, atomic rewrites, the command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.checklists import item_anchor, load_checklists
from governance.cli.main import cli
from governance.documents import load_policy_templates
from governance.errors import SiteError
from governance.register import Register
from governance.site import build_site
from governance.workspace import find_workspace
from tests.site.conftest import WorkspaceFactory, make_audit


def _html(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def test_demo_site_has_every_page(built_demo: Path) -> None:
    site = built_demo / "site"
    generated = built_demo / "docs" / "generated"
    for page in (
        "index.md",
        "models/credit-risk.md",
        "models/hiring-screen.md",
        "audits/credit-risk/1.0.0/a1/index.md",
        "audits/credit-risk/1.1.0/a2/index.md",
        "audits/hiring-screen/2.0/h1/index.md",
        "ll144/hiring-screen.md",
        "checklists/index.md",
        "checklists/model-credit-risk.md",
        "policies/index.md",
    ):
        assert (generated / page).is_file(), page
        assert (site / "generated" / page.replace(".md", ".html")).is_file(), page
    assert not (generated / "ll144" / "credit-risk.md").exists()  # only AEDTs get the LL144 page
    for figure in ("groups-sex.svg", "groups-sex.png", "impact-sex.svg"):
        assert (site / "generated/audits/credit-risk/1.1.0/a2/figures" / figure).is_file()
    assert (site / "generated/models/figures/credit-risk-ratios.svg").is_file()
    assert (site / "generated/models/figures/credit-risk-ratios.png").is_file()


def test_register_index_shows_status_verdict_and_next_audit(built_demo: Path) -> None:
    text = (built_demo / "docs/generated/index.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| [credit-risk]"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # model, live version, approval, evidence, newest version, next audit due (365 days after 2026-11-20);
    # without a register there is no live version or approval to show
    assert cells[1:] == [
        "not in the register",
        "—",
        "[Passed](audits/credit-risk/1.1.0/a2/index.md), 2026-11-20",
        "1&#46;1&#46;0",
        "2027-11-20",
    ]


def test_nav_reaches_the_generated_pages(built_demo: Path) -> None:
    """The nav lists the models (it is on every page, so it must not grow with the audits); each model's card
    links every audit of it."""
    home = _html(built_demo / "site", "index.html")
    for target in ("generated/index.html", "generated/models/credit-risk.html"):
        assert f'href="{target}"' in home, target
    outside_the_page = re.sub(r"<article\b.*?</article>", "", home, flags=re.S)  # the home page's own text
    assert "generated/audits/" not in outside_the_page  # links the live versions' audits: one per model
    card = _html(built_demo / "site", "generated/models/credit-risk.html")
    for audit in ("1.0.0/a1", "1.1.0/a2"):
        assert f'href="../audits/credit-risk/{audit}/index.html"' in card, audit


def test_audit_page_starts_with_the_verdict(built_demo: Path) -> None:
    text = (built_demo / "docs/generated/audits/credit-risk/1.0.0/a1/index.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0].startswith("# Audit of credit-risk")
    assert lines[1] == '!!! warning "Verdict: Inconclusive"'


def test_every_checklist_item_and_policy_is_rendered(built_demo: Path) -> None:
    workspace = find_workspace(built_demo)
    checklists = load_checklists(workspace.policies_dir / "checklists")
    assert checklists, "the scaffold ships the checklists"
    site = built_demo / "site" / "generated" / "checklists"
    for checklist in checklists:
        page = _html(site, f"framework-{checklist.framework}.html")
        for item in checklist.items:
            assert f'id="{item_anchor(item.id)}"' in page, item.id
    templates = load_policy_templates(workspace.policies_dir / "templates")
    assert templates
    index = (built_demo / "docs/generated/policies/index.md").read_text(encoding="utf-8")
    for template in templates:
        slug = Path(template.path or template.id).stem
        page = built_demo / "site" / "generated" / "policies" / f"{slug}.html"
        assert page.is_file(), slug
        assert f"({slug}.md)" in index
        assert "Acme Lending" in page.read_text(encoding="utf-8")  # filled in from governance.yaml


def test_policies_link_to_checklist_items(built_demo: Path) -> None:
    pages = list((built_demo / "site/generated/policies").glob("*.html"))
    links = [
        link
        for page in pages
        for link in re.findall(r'href="(\.\./checklists/framework-[^"#]+#[^"]+)"', page.read_text())
    ]
    assert links
    for link in links:
        target, _, anchor = link.partition("#")
        html = (built_demo / "site/generated/policies" / target).resolve().read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html, link


def test_model_card_has_the_card_fields(built_demo: Path) -> None:
    text = (built_demo / "docs/generated/models/credit-risk.md").read_text(encoding="utf-8")
    for heading in (
        "## Model details", "## Intended use", "## Out-of-scope uses and restrictions", "## Training data",
        "## Evaluation data", "## Metrics", "## Results per group", "## Fairness ratios across versions",
        "### Limitations", "### Trade-offs", "### Risks and mitigations", "### Ethical considerations",
        "## Lifecycle", "## Approvals",
    ):  # fmt: skip
        assert heading in text, heading
    assert "Rank credit applications for review" in text
    assert "0&#46;78 &#40;0&#46;73 to 0&#46;83&#41;" not in text  # numbers are not escaped
    assert "0.78 (0.73 to 0.83)" in text  # the 1.0.0 selection-rate ratio with its interval


def test_ll144_page_has_the_required_fields(built_demo: Path) -> None:
    text = (built_demo / "docs/generated/ll144/hiring-screen.md").read_text(encoding="utf-8")
    assert "Date of the most recent bias audit:** [2026-11-20]" in text
    assert "Source of the data:** Historical data" in text
    assert "Distribution date of the tool:** 2026-01-15" in text
    assert "Number of people whose category is unknown: 0." in text
    # nonbinary has 6 people: masked, and the next smallest category with it
    assert "| nonbinary | fewer than 10 | hidden | hidden | no |" in text
    assert "| female | hidden to protect a small group | hidden | hidden | no |" in text
    assert "2 of 3 groups hidden in this table" in text
    # the most-selected category (nonbinary) is masked, so the ratios to it would give its rate away
    assert "| male | 150 | 0.350 | hidden | no |" in text
    assert "the impact ratios are hidden too" in text


def test_rebuild_removes_pages_of_deleted_audits(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory(make_audit("m", "1", "x1"), make_audit("gone", "1", "y1"))
    workspace = find_workspace(root)
    build_site(workspace, run_mkdocs=False)
    assert (root / "docs/generated/models/gone.md").is_file()
    import shutil

    shutil.rmtree(root / "audits" / "gone")
    report = build_site(workspace, run_mkdocs=False)
    assert not (root / "docs/generated/models/gone.md").exists()
    assert "models/m.md" in report.pages
    assert [path.name for path in (root / "docs").iterdir() if path.name.startswith(".")] == []


def test_register_status_and_approvals_reach_the_model_page(
    workspace_factory: WorkspaceFactory, tmp_path: Path
) -> None:
    audit = make_audit("scorer", "1.0", "s1")
    root = workspace_factory(audit)
    artefact = tmp_path / "model.skops"
    artefact.write_bytes(b"not really a model")
    workspace = find_workspace(root)
    folder = root / "audits" / "scorer" / "1.0" / "s1"
    with Register.for_workspace(workspace) as register:
        register.add_model("scorer", owner="ana@example.com", purpose="Score leads", actor="ana@example.com")
        register.add_version("scorer", "1.0", artifact_path=artefact, actor="ana@example.com")
        register.record_audit(
            "scorer", "1.0", audit_id="s1", audit_json_path=folder / "audit.json", verdict="passed",
            policy_name="default", policy_sha256="ef" * 32, data_sha256="cd" * 32,
            artifact_sha256=register.resolve_version("scorer", "1.0").sha256, tool_versions={}, actor="ana@example.com",
            max_age_days=365,
        )  # fmt: skip
        register.approve("scorer", "1.0", role="risk-officer", actor="ravi@example.com", comment="Looks fine")
    build_site(workspace)
    text = (root / "docs/generated/models/scorer.md").read_text(encoding="utf-8")
    assert "**Status in the register:** approved" in text
    assert "| risk-officer | approve | ravi&#64;example&#46;com | — | Looks fine |" in text
    assert "Score leads" in text
    assert text.count("\n| 20") >= 4  # lifecycle rows from the register's events


def test_missing_mkdocs_yml_is_one_clear_error(tmp_path: Path) -> None:
    workspace = find_workspace(tmp_path)
    with pytest.raises(SiteError, match="governance init"):
        build_site(workspace)


def test_strict_build_fails_on_a_broken_link_and_no_strict_builds(
    workspace_factory: WorkspaceFactory,
) -> None:
    root = workspace_factory()
    (root / "docs" / "index.md").write_text("# Home\n\n[broken](nowhere.md)\n", encoding="utf-8")
    runner = CliRunner()
    failed = runner.invoke(cli, ["site", "build", "--workspace", str(root)])
    assert failed.exit_code == 2
    assert failed.output.startswith("Error: MkDocs refused to build the site")
    built = runner.invoke(cli, ["site", "build", "--workspace", str(root), "--no-strict"])
    assert built.exit_code == 0, built.output
    assert "nowhere.md" in built.output  # the warning is shown


def test_command_reports_where_to_open_the_site(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory(make_audit("m", "1", "x1"))
    result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(root)])
    assert result.exit_code == 0, result.output
    assert f"open {root / 'site' / 'index.html'} in a browser" in result.output
    only = CliRunner().invoke(cli, ["site", "build", "--workspace", str(root), "--no-mkdocs"])
    assert only.exit_code == 0
    assert only.output.startswith("Wrote ") and "Built the site" not in only.output


def test_model_names_that_match_section_pages_do_not_clash(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory(make_audit("index", "1", "i1"), make_audit("framework-eu-ai-act", "1", "f1"))
    report = build_site(find_workspace(root), run_mkdocs=False)
    assert len(report.pages) == len(set(report.pages))
    index = (root / "docs/generated/checklists/index.md").read_text(encoding="utf-8")
    assert index.startswith("# Compliance checklists")
    assert (
        (root / "docs/generated/checklists/framework-eu-ai-act.md")
        .read_text(encoding="utf-8")
        .startswith("# EU AI Act")
    )


def test_rebuilding_an_unchanged_workspace_gives_the_same_files(workspace_factory: WorkspaceFactory) -> None:
    from datetime import UTC, datetime

    from governance.provenance import set_clock

    root = workspace_factory(
        make_audit("m", "1", "x1"), make_audit("m", "2", "x2", created_at="2026-11-21T10:00:00Z")
    )
    workspace = find_workspace(root)

    def snapshot() -> dict[str, bytes]:
        generated = root / "docs" / "generated"
        return {
            path.relative_to(generated).as_posix(): path.read_bytes()
            for path in generated.rglob("*")
            if path.is_file()
        }

    set_clock(lambda: datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    try:
        build_site(workspace, run_mkdocs=False)
        first = snapshot()
        build_site(workspace, run_mkdocs=False)
        assert snapshot() == first
    finally:
        set_clock(None)
    assert "models/figures/m-ratios.svg" in first


def test_published_figures_leave_out_masked_groups(built_demo: Path) -> None:
    figures = built_demo / "site/generated/audits/hiring-screen/2.0/h1/figures"
    drawn = (figures / "groups-sex.svg").read_text(encoding="utf-8")
    assert "male" in drawn  # redrawn by the report module (the fixture's own copy is a plain rectangle)
    assert "nonbinary" not in drawn and "female" not in drawn  # 6 people, and its complement
    assert (figures / "groups-sex.png").is_file()
    original = built_demo / "audits/hiring-screen/2.0/h1/figures/groups-sex.svg"
    assert "male" not in original.read_text(encoding="utf-8")  # the audit folder itself is untouched
