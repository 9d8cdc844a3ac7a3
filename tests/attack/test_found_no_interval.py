"""Attack tests: rules on metrics without an interval (n_boot = 0) are judged on the bare point value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from governance.audit.fairness import compute_fairness
from governance.rules.evaluate import evaluate_policy
from governance.rules.load import parse_policy


def _regression(n_boot: int):
    rng = np.random.default_rng(0)
    n = 60
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n)})
    y_true = rng.normal(100, 10, n)
    y_pred = y_true + rng.normal(0, 5, n)
    return compute_fairness(
        y_pred=y_pred, y_true=y_true, sensitive=sensitive, n_boot=n_boot, min_group_size=5
    )


def _policy(rules: list[dict]) -> object:
    text = yaml.safe_dump({"name": "t", "min_group_size": 5, "n_boot": 0, "rules": rules})
    return parse_policy(text, source="t.yaml")


def _rule(rule_id: str, metric: str, comparison: str, bound: str) -> dict:
    return {"id": rule_id, "description": rule_id, "metric": metric, "comparison": comparison, "bound": bound}


def test_value_rule_does_not_pass_without_an_interval():
    """With n_boot: 0 a blocking MAE 'value' rule PASSES on the point value of 26-34 rows, with no interval at all."""
    policy = _policy([_rule("v", "mae", "value", "<= 4.5")])
    verdict = evaluate_policy(policy, _regression(0), policy_path="t.yaml", policy_sha256="0" * 64)
    assert verdict.rules[0].status != "pass", verdict.rules[0].findings
    assert verdict.verdict != "passed"


def test_overall_rule_does_not_pass_without_an_interval():
    """With n_boot: 0 an 'overall' RMSE rule passes on the bare point value (no uncertainty considered)."""
    policy = _policy([_rule("o", "rmse", "overall", "<= 6")])
    verdict = evaluate_policy(policy, _regression(0), policy_path="t.yaml", policy_sha256="0" * 64)
    assert verdict.rules[0].status != "pass"


def test_spread_rule_without_interval_gives_the_true_reason():
    """With n_boot: 0 a between-groups MAE rule says 'a regression audit has no mean absolute error', which is false."""
    policy = _policy([_rule("d", "mae", "ratio_between_groups", ">= 0.8")])
    verdict = evaluate_policy(policy, _regression(0), policy_path="t.yaml", policy_sha256="0" * 64)
    outcome = verdict.rules[0]
    assert "has no mean absolute error" not in outcome.summary, outcome.summary
