"""``governance audit --curves``: the trade-off and calibration land in audit.json, report.md and figures/."""

from __future__ import annotations

import html
import json
from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli

FAST = ["--no-register", "--n-boot", "50", "--no-explain", "--quiet"]


def _audit(case: dict[str, Path], *args: str) -> tuple[int, str]:
    root = case["root"]
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            *FAST,
            "--model",
            str(case["model"]),
            "--data",
            str(case["holdout"]),
            "--sensitive",
            "sex",
            *args,
        ],
    )
    return result.exit_code, result.output


def test_curves_are_written_with_figures_and_alt_text(biased_credit: dict[str, Path]) -> None:
    code, output = _audit(biased_credit, "--target", "label", "--curves")
    assert code in (0, 1, 3), output
    folder = next((biased_credit["root"] / "audits" / "m" / "1").iterdir())
    document = json.loads((folder / "audit.json").read_text())
    tradeoff = document["tradeoff"]
    assert len(tradeoff["thresholds"]) == 101 and tradeoff["current_threshold"] == 0.5
    assert {r["rule_id"] for r in tradeoff["attributes"][0]["ratios"]} == {
        "four-fifths-selection",
        "equal-opportunity",
        "false-positive-gap",
    }
    assert document["calibration"]["attributes"][0]["attribute"] == "sex"
    report = (folder / "report.md").read_text()
    assert "## What another threshold would do" in report and "## Calibration by group" in report
    assert "![sex: accuracy against four-fifths-selection" in report
    assert (folder / "figures" / "frontier-sex.svg").read_text().startswith("<?xml")
    assert (folder / "figures" / "calibration-sex.png").exists()


def test_curves_are_in_every_audit_with_scores_by_default(biased_credit: dict[str, Path]) -> None:
    """Point 1 of the issue: every audit with a model's scores and labels has the curves, unless --no-curves."""
    code, output = _audit(biased_credit, "--target", "label")
    assert code in (0, 1, 3), output
    folder = next((biased_credit["root"] / "audits" / "m" / "1").iterdir())
    document = json.loads((folder / "audit.json").read_text())
    assert document["tradeoff"]["current_threshold"] == 0.5 and document["calibration"] is not None
    report = (folder / "report.md").read_text()
    assert "## What another threshold would do" in report
    assert (folder / "figures" / "curve-rule-four-fifths-selection-sex.svg").exists()


def test_curves_without_labels_are_left_out_by_default(biased_credit: dict[str, Path]) -> None:
    code, output = _audit(biased_credit)
    assert code in (0, 1, 3), output
    folder = next((biased_credit["root"] / "audits" / "m" / "1").iterdir())
    assert "tradeoff" not in json.loads((folder / "audit.json").read_text())


def test_without_curves_audit_json_has_no_curve_keys(biased_credit: dict[str, Path]) -> None:
    code, output = _audit(biased_credit, "--target", "label", "--no-curves")
    assert code in (0, 1, 3), output
    folder = next((biased_credit["root"] / "audits" / "m" / "1").iterdir())
    document = json.loads((folder / "audit.json").read_text())
    assert "tradeoff" not in document and "calibration" not in document


def test_curves_without_labels_is_one_sentence_and_exit_2(biased_credit: dict[str, Path]) -> None:
    code, output = _audit(biased_credit, "--curves")
    assert code == 2
    assert "--curves needs" in output and "Traceback" not in output
    assert not (biased_credit["root"] / "audits").exists()


def test_the_published_page_shows_the_curves_unless_a_group_is_masked(biased_credit: dict[str, Path]) -> None:
    """The site's audit page (the published report) draws the curves, with today's threshold and the policy's
    bound; an attribute with a masked group keeps its curves off the page (they would give its counts back)."""
    from governance.report.markdown import render_report
    from governance.results.audit import AuditResult

    code, output = _audit(biased_credit, "--target", "label")
    assert code in (0, 1, 3), output
    folder = next((biased_credit["root"] / "audits" / "m" / "1").iterdir())
    result = AuditResult.model_validate_json((folder / "audit.json").read_text())
    names = {path.stem: path.name for path in (folder / "figures").iterdir()}
    page = render_report(result, figures=names, published=True, min_cell_size=10)
    assert "## What another threshold would do" in page and "today's threshold is 0.5" in page
    assert "](figures/curve-rule-four-fifths-selection-sex.svg)" in page
    svg = html.unescape((folder / "figures" / "curve-rule-four-fifths-selection-sex.svg").read_text())
    assert "today's threshold 0.5" in svg and "policy bound >= 0.8" in svg
    masked = render_report(result, figures=names, published=True, min_cell_size=5000)
    assert "curve-rule-four-fifths-selection-sex" not in masked
    assert "The curves of sex are left out of this page" in masked
