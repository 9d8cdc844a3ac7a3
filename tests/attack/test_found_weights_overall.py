"""Attack tests: group-vs-overall intervals with sample weights (Kish counts are not additive)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from governance.audit.fairness import compute_fairness
from governance.rules.evaluate import evaluate_policy
from governance.rules.load import parse_policy


def _weighted():
    rng = np.random.default_rng(0)
    n = 400
    group = np.repeat(["a", "b"], 200)
    weights = np.where(group == "a", 1.0, rng.lognormal(0, 2.0, n))
    y_pred = (rng.random(n) < np.where(group == "a", 0.3, 0.5)).astype(int)
    return compute_fairness(
        y_pred=y_pred, sensitive=pd.DataFrame({"g": group}), sample_weight=weights, n_boot=0
    )


def test_weighted_difference_to_overall_has_an_interval():
    """With weights, group a's share = Kish n / overall Kish n is 21 (> 1): its to-overall interval is lost (None)."""
    fairness = _weighted()
    for row in fairness.attributes[0].to_overall:
        for estimate in (row.difference, row.ratio):
            assert estimate.low is not None and estimate.high is not None, (row.group, estimate)
            assert estimate.low <= estimate.value <= estimate.high, (row.group, estimate)


def test_weighted_difference_to_overall_rule_does_not_pass_on_the_point_alone():
    """The intervalless weighted to-overall estimate is judged on its point: a blocking rule PASSES with no uncertainty."""
    rule = {
        "id": "r",
        "description": "r",
        "metric": "selection_rate",
        "comparison": "difference_to_overall",
        "bound": "between -0.3 and 0.3",
        "min_group_size": 5,
    }
    policy = parse_policy(yaml.safe_dump({"name": "t", "rules": [rule]}), source="t.yaml")
    verdict = evaluate_policy(policy, _weighted(), policy_path="t", policy_sha256="0" * 64)
    finding = next(f for f in verdict.rules[0].findings if f.group == "a")
    assert not (finding.status == "pass" and not finding.estimate.has_interval), finding


def test_weighted_group_vs_overall_interval_covers():
    """Stratified weights (1 vs 5): the group-vs-overall 95 % interval covers the truth ~53 % of the time (share = Kish n)."""
    rng = np.random.default_rng(1)
    n = 2000
    group = np.repeat(["a", "b"], n // 2)
    weights = np.where(group == "a", 1.0, 5.0)
    overall = (1 / 6) * 0.3 + (5 / 6) * 0.5
    covered, reps = 0, 200
    for _ in range(reps):
        y_pred = (rng.random(n) < np.where(group == "a", 0.3, 0.5)).astype(int)
        fairness = compute_fairness(
            y_pred=y_pred,
            sensitive=pd.DataFrame({"g": group}),
            sample_weight=weights,
            n_boot=0,
            intersections="none",
        )
        row = next(r for r in fairness.attributes[0].to_overall if r.group == "a")
        covered += row.difference.low <= 0.3 - overall <= row.difference.high
    assert covered / reps >= 0.90, covered / reps
