"""``--ll144-rate scoring``: every LL144 output speaks of scoring rates and the highest-scoring category."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.results.audit import AuditResult
from governance.site.ll144_page import render_ll144_page
from governance.site.sources import AuditRecord, ModelEntry

SELECTION_WORDS = re.compile(r"selection rate|most-selected|most selected|are selected", re.IGNORECASE)


def _audit(tmp_path: Path, rate: str) -> tuple[str, str, AuditResult, Path]:
    rng = np.random.default_rng(4)
    n = 900
    sex = rng.choice(["F", "M"], size=n)
    score = rng.random(n) * np.where(sex == "F", 0.8, 1.0)
    frame = pd.DataFrame({"sex": sex, "score": score, "advanced": (score > 0.5).astype(int)})
    data = tmp_path / "log.csv"
    frame.to_csv(data, index=False)
    args = [
        "audit",
        "screen@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--data",
        str(data),
        "--predictions",
        "advanced",
        "--scores",
        "score",
        "--sensitive",
        "sex",
        "--policy",
        "nyc-ll144",
        "--ll144-rate",
        rate,
        "--n-boot",
        "100",
        "--no-figures",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "audits" / "screen" / "1").iterdir())
    audit = AuditResult.model_validate_json((folder / "audit.json").read_text(encoding="utf-8"))
    return result.output, (folder / "report.md").read_text(encoding="utf-8"), audit, folder


def _ll144_section(report: str) -> str:
    start = report.index("#### Impact ratios (NYC Local Law 144 format)")
    return report[start : report.index("####", start + 5)]


def _site_page(audit: AuditResult, folder: Path) -> str:
    model = ModelEntry(name="screen", audits=[AuditRecord(result=audit, folder=folder)])
    return render_ll144_page(model, audit_link=None, min_cell_size=10)


def test_scoring_rate_audit_never_says_selection_in_its_ll144_outputs(tmp_path: Path) -> None:
    terminal, report, audit, folder = _audit(tmp_path, "scoring")
    # The fairness notes (governance/audit/fairness/compute.py) are about the whole audit, not the LL144 table.
    impact_lines = [
        line
        for line in terminal.splitlines()
        if "impact" in line.lower() and not line.strip().startswith("Note:")
    ]
    assert impact_lines and not [line for line in impact_lines if SELECTION_WORDS.search(line)], impact_lines
    assert "Impact ratios (scoring rate / the highest-scoring group's)" in terminal
    section = _ll144_section(report)
    assert not SELECTION_WORDS.search(section), section
    assert "Highest-scoring category: **M**" in section
    rule = next(line for line in report.splitlines() if line.startswith("- **impact-ratio-screen**"))
    assert "scoring rate" in rule and not SELECTION_WORDS.search(rule), rule
    page = _site_page(audit, folder)
    assert not SELECTION_WORDS.search(page), page
    assert "the rate of the highest-scoring category (M)" in page


@pytest.mark.parametrize("rate", ["selection"])
def test_selection_rate_audit_keeps_selection_words(tmp_path: Path, rate: str) -> None:
    terminal, report, audit, folder = _audit(tmp_path, rate)
    assert "Impact ratios (selection rate / the most-selected group's)" in terminal
    assert "Most-selected category: **M**" in _ll144_section(report)
    assert "the rate of the most-selected category (M)" in _site_page(audit, folder)
