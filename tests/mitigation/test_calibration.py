"""Calibration by group: reliability curves equal sklearn's calibration_curve on each group's rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve

from governance.audit.fairness.calibration import compute_calibration
from governance.errors import InputError


def _data(n: int = 4000) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(3)
    group = rng.choice(["a", "b"], size=n)
    scores = np.round(rng.uniform(0, 1, size=n), 2)
    # group b's outcomes are rarer than its scores say: miscalibrated for b only
    y = (rng.uniform(size=n) < np.where(group == "a", scores, scores * 0.6)).astype(int)
    return scores, y, pd.DataFrame({"group": group})


def test_reliability_curves_equal_sklearn_per_group() -> None:
    scores, y, sensitive = _data()
    result = compute_calibration(scores=scores, y_true=y, sensitive=sensitive, n_bins=10)
    for group in result.attributes[0].groups:
        mask = sensitive["group"].to_numpy() == group.group
        true, predicted = calibration_curve(y[mask], scores[mask], n_bins=10, strategy="uniform")
        filled = [b for b in group.bins if b.n > 0]
        assert [b.observed.value for b in filled] == pytest.approx(list(true), abs=1e-12)
        assert [b.mean_score for b in filled] == pytest.approx(list(predicted), abs=1e-12)
        expected_ece = sum(b.n * abs(b.observed.value - b.mean_score) for b in filled) / mask.sum()
        assert group.calibration_error.value == pytest.approx(expected_ece, abs=1e-12)
        assert group.calibration_error.low <= group.calibration_error.high


def test_the_miscalibrated_group_shows_a_gap_whose_interval_excludes_zero() -> None:
    scores, y, sensitive = _data()
    result = compute_calibration(scores=scores, y_true=y, sensitive=sensitive)
    a, b = result.attributes[0].groups
    assert b.calibration_error.value > a.calibration_error.value
    assert result.attributes[0].gap.low > 0


def test_scores_that_are_not_probabilities_are_refused() -> None:
    scores, y, sensitive = _data(100)
    with pytest.raises(InputError, match="probabilities from 0 to 1"):
        compute_calibration(scores=scores * 3 - 1, y_true=y, sensitive=sensitive)


CALIBRATION_POLICY = """\
name: calibration
rules:
  - id: calibration-gap
    description: A score means the same chance of a good outcome in every group.
    check: calibration_gap
    bound: "<= 0.05"
    severity: block
"""


def _audit_with(case: dict, policy: Path, *extra: str) -> tuple[int, dict]:
    from click.testing import CliRunner

    from governance.cli.main import cli

    root = case["root"]
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--no-register",
            "--no-explain",
            "--n-boot",
            "50",
            "--quiet",
            "--model",
            str(case["model"]),
            "--data",
            str(case["holdout"]),
            "--sensitive",
            "sex",
            "--policy",
            str(policy),
            *extra,
        ],
    )
    folder = next((root / "audits" / "m" / "1").iterdir())
    return result.exit_code, json.loads((folder / "audit.json").read_text())


def test_a_calibration_rule_is_judged_on_the_gap_with_its_interval(
    biased_credit: dict, tmp_path: Path
) -> None:
    policy = tmp_path / "calibration.yaml"
    policy.write_text(CALIBRATION_POLICY, encoding="utf-8")
    code, document = _audit_with(biased_credit, policy, "--target", "label")
    outcome = document["policy"]["rules"][0]
    assert outcome["rule_id"] == "calibration-gap" and outcome["metric"] == "calibration_error"
    finding = outcome["findings"][0]
    gap = document["calibration"]["attributes"][0]["gap"]
    assert finding["estimate"] == gap and finding["attribute"] == "sex"
    assert outcome["status"] in ("pass", "inconclusive", "fail")
    assert code == {"pass": 0, "fail": 1, "inconclusive": 3}[outcome["status"]]


def test_a_calibration_rule_without_labels_is_inconclusive_and_says_why(
    biased_credit: dict, tmp_path: Path
) -> None:
    policy = tmp_path / "calibration.yaml"
    policy.write_text(CALIBRATION_POLICY, encoding="utf-8")
    code, document = _audit_with(biased_credit, policy)
    outcome = document["policy"]["rules"][0]
    assert code == 3 and outcome["status"] == "inconclusive"
    assert "no calibration by group" in outcome["not_checked_because"]


def test_a_misspelt_calibration_rule_is_refused() -> None:
    import pydantic

    from governance.rules.schema import Policy

    with pytest.raises(pydantic.ValidationError, match="bound"):
        Policy.model_validate(
            {
                "name": "x",
                "rules": [{"id": "c", "description": "d", "check": "calibration_gap", "bound": "<< 2"}],
            }
        )
