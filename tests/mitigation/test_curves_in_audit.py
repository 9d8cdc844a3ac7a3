"""``governance audit --curves``: the trade-off and calibration land in audit.json, report.md and figures/."""

from __future__ import annotations

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


def test_without_curves_audit_json_has_no_curve_keys(biased_credit: dict[str, Path]) -> None:
    code, output = _audit(biased_credit, "--target", "label")
    assert code in (0, 1, 3), output
    folder = next((biased_credit["root"] / "audits" / "m" / "1").iterdir())
    document = json.loads((folder / "audit.json").read_text())
    assert "tradeoff" not in document and "calibration" not in document


def test_curves_without_labels_is_one_sentence_and_exit_2(biased_credit: dict[str, Path]) -> None:
    code, output = _audit(biased_credit, "--curves")
    assert code == 2
    assert "--curves needs" in output and "Traceback" not in output
    assert not (biased_credit["root"] / "audits").exists()
