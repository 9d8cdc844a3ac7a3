"""Attack tests on the report's wording of intervals."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli
from governance.results.common import Estimate
from governance.rules.evaluate import describe_estimate

POLICY = """\
name: strict-level
confidence_level: 0.999
min_group_size: 5
rules:
  - id: ff
    description: four-fifths
    metric: selection_rate
    comparison: impact_ratio
    bound: ">= 0.8"
"""


def test_a_999_level_is_not_called_a_100_percent_interval():
    """confidence_level 0.999 is printed as a '100 % interval' (round(99.9)), which reads as certainty."""
    text = describe_estimate(Estimate(value=0.8, low=0.6, high=0.95), 0.999)
    assert "100 %" not in text, text


def _audit(tmp_path: Path, *extra: str) -> str:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    rows = [f"{'f' if i % 2 else 'm'},{(i // 2) % 3 == 0:d}" for i in range(400)]
    (tmp_path / "d.csv").write_text("sex,pred\n" + "\n".join(rows) + "\n")
    (tmp_path / "p.yaml").write_text(POLICY)
    result = runner.invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(tmp_path),
            "--no-register",
            "--no-figures",
            "-q",
            "--data",
            str(tmp_path / "d.csv"),
            "--predictions",
            "pred",
            "--sensitive",
            "sex",
            "--policy",
            str(tmp_path / "p.yaml"),
            *extra,
        ],
    )
    assert result.exit_code in (0, 1, 3), result.output
    return next((tmp_path / "audits").rglob("report.md")).read_text()


def test_report_does_not_print_a_100_percent_interval(tmp_path: Path):
    """A policy at confidence_level 0.999 gives a report full of '100 % interval' wording."""
    report = _audit(tmp_path)
    assert "100 % interval" not in report


def test_report_does_not_call_score_intervals_bootstrap(tmp_path: Path):
    """Selection-rate intervals are Wilson score intervals, but the report calls them 'bootstrap interval (N resamples)'."""
    report = _audit(tmp_path)
    assert "bootstrap interval in brackets" not in report
