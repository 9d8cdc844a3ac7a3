"""Attack tests on the regression metrics and the regression preset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.audit.fairness import compute_fairness
from governance.rules.evaluate import evaluate_policy
from governance.rules.load import load_policy


def _negative_mean():
    rng = np.random.default_rng(0)
    n = 600
    group = rng.choice(["a", "b"], n)
    y_true = np.where(group == "a", -1.0, 3.0) + rng.normal(0, 3, n)
    y_pred = y_true + rng.normal(0, 1, n)
    return compute_fairness(y_pred=y_pred, y_true=y_true, sensitive=pd.DataFrame({"g": group}), n_boot=300)


def test_min_over_max_ratio_is_not_negative():
    """Mean predictions -1.35 and 3.2: audit.json reports min/max = -0.42 (a 'ratio' outside [0, 1]) with no interval."""
    spread = next(b for b in _negative_mean().attributes[0].between_groups if b.metric == "mean_prediction")
    assert spread.ratio.value is None or 0.0 <= spread.ratio.value <= 1.0, spread.ratio


def test_regression_preset_does_not_judge_a_meaningless_ratio_without_interval():
    """The regression preset's mean-prediction-ratio rule FAILS on the bare point -0.42 (no interval) for signed amounts."""
    verdict = evaluate_policy(
        load_policy("regression").policy, _negative_mean(), policy_path="p", policy_sha256="0" * 64
    )
    outcome = next(r for r in verdict.rules if r.rule_id == "mean-prediction-ratio")
    for finding in outcome.findings:
        assert not (finding.status in ("pass", "fail") and not finding.estimate.has_interval), finding
