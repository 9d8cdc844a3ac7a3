"""Published reports mask small groups everywhere: group tables, LL144 tables, explanations and figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.report.figures import write_figures
from governance.report.markdown import hidden_groups, render_report
from governance.results.audit import AuditResult

DEMO = Path(__file__).resolve().parents[2] / "audits" / "credit-risk" / "1.0.0"


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return AuditResult.model_validate_json(next(DEMO.rglob("audit.json")).read_text(encoding="utf-8"))


def test_small_groups_and_their_complements_are_masked(result: AuditResult) -> None:
    hidden = hidden_groups(result, 14)
    assert {"female × 35-49", "female × 50 and over"} <= hidden["sex × age_band"]  # 13 and 11 rows
    intersection = next(a for a in result.fairness.attributes if a.attribute == "sex × age_band")
    # no row or column of the intersection has exactly one masked group
    for column in intersection.columns:
        lines: dict[str, list[str]] = {}
        for group in intersection.groups:
            if not group.is_unknown:
                lines.setdefault(group.levels[column], []).append(group.group)
        assert all(sum(name in hidden["sex × age_band"] for name in line) != 1 for line in lines.values())
    assert hidden["sex"] == set()


def test_published_markdown_hides_masked_groups_everywhere(result: AuditResult) -> None:
    text = render_report(result, published=True, min_cell_size=14)
    assert "| female × 50 and over | fewer than 14 | hidden |" in text
    assert "| female × 35-49 | fewer than 14 | hidden |" in text
    findings = text.split("## Rules checked")[0]
    assert "female × 35-49 vs" not in findings and "(sex × age_band, 13 rows)" not in findings
    assert "finding(s) about groups too small to publish are left out here" in findings
    assert "| female × 35-49 | selection rate |" not in text  # no comparison rows for masked groups
    unpublished = render_report(result, published=False)
    assert "| female × 50 and over | 11 |" in unpublished


def test_published_figures_leave_masked_groups_out(result: AuditResult, tmp_path: Path) -> None:
    hidden = hidden_groups(result, 14)
    written = write_figures(result, tmp_path, hidden=hidden)
    intersection_svg = (tmp_path / written["groups-sex-age_band"]).read_text(encoding="utf-8")
    assert "female × 50 and over" not in intersection_svg and "female × 25-34" in intersection_svg
    assert (
        "impact-sex-age_band" not in written
    )  # its reference category is masked: the ratios would reveal it
