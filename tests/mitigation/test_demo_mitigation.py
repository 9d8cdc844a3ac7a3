"""The demo's mitigation part, end to end: 1.0.0 gets candidates with their lineage, the best one is approved by a
second person with the choice on record, and the model's site page shows the comparison (checked in Chromium)."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.demo import demo_workspace, run_demo
from governance.demo.run import DATA_SCIENTIST, MODEL_NAME, RISK_OFFICER
from governance.register import Register
from governance.workspace import Workspace

CHROMIUM = Path("/usr/bin/chromium")
CANDIDATES = {"1.0.0-drop-sensitive", "1.0.0-exponentiated-gradient", "1.0.0-threshold"}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("demo-mitigation")
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("GOVERNANCE_") and "_TEST_" not in name]:
            patch.delenv(name)  # module-scoped: the suite-wide per-test fixture has not run yet
        space, _ = demo_workspace(root)  # governance init, as the command does
        run_demo(space, echo=lambda _: None)
        yield root


def test_candidates_have_lineage_and_the_best_is_approved_with_the_choice(demo_root: Path) -> None:
    with Register.for_workspace(Workspace(root=demo_root)) as register:
        detail = register.show(MODEL_NAME)
        assert register.verify(demo_root).ok
    versions = {v.version: v for v in detail.versions}
    assert set(versions) >= CANDIDATES
    for name in CANDIDATES:
        lineage = (versions[name].source or {})["lineage"]
        assert lineage["mitigated_from"] == f"{MODEL_NAME}@1.0.0" and name.endswith(lineage["method"])
        assert versions[name].created_by == DATA_SCIENTIST
    chosen = [a for a in detail.approvals if a.chosen_from]
    assert len(chosen) == 1
    approval = chosen[0]
    assert approval.version == "1.0.0-drop-sensitive" and approval.actor == RISK_OFFICER != DATA_SCIENTIST
    assert approval.risk_acceptance and "300 holdout cases" in approval.risk_acceptance
    assert versions[approval.version].state == "approved"
    verdicts = {a.version: a.verdict for a in detail.audits}
    assert approval.chosen_from is not None
    assert approval.chosen_from["alternatives"] == [
        {"version": "1.0.0", "method": "original", "verdict": "failed"},
        *(
            {"version": f"1.0.0-{m}", "method": m, "verdict": verdicts[f"1.0.0-{m}"]}
            for m in ("exponentiated-gradient", "threshold")
        ),
    ]
    shown = CliRunner().invoke(cli, ["register", "show", MODEL_NAME, "--workspace", str(demo_root)]).output
    assert "over: 1.0.0 (original, failed), 1.0.0-exponentiated-gradient (exponentiated-gradient," in shown


def test_the_model_page_shows_the_comparison_and_the_choice(demo_root: Path) -> None:
    page = html.unescape((demo_root / "docs" / "generated" / "models" / "credit-risk.md").read_text("utf-8"))
    section = page[page.index("## Mitigation candidates") :]
    for name in CANDIDATES:
        assert f"| {name} |" in section
    assert "2000e-2(l)" in section and "**Chosen:** 1.0.0-drop-sensitive" in section
    assert "FAILED" in section and "INCONCLUSIVE" in section
    built = (demo_root / "site" / "generated" / "models" / "credit-risk.html").read_text("utf-8")
    assert "Mitigation candidates" in built and "mitigation-" in built


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_the_comparison_figure_loads_in_a_browser(demo_root: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    page_path = demo_root / "site" / "generated" / "models" / "credit-risk.html"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
        )
        page = browser.new_page()
        page.goto(page_path.as_uri())
        heading = page.locator("h2", has_text="Mitigation candidates")
        assert heading.count() == 1
        figure = page.locator("article img[src*='mitigation-']").first
        figure.scroll_into_view_if_needed()
        assert figure.evaluate("img => img.complete && img.naturalWidth > 0")
        assert page.locator("td", has_text="1.0.0-drop-sensitive").count() >= 1
        browser.close()
