"""Attack tests on how the reference group of a comparison is chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.audit.fairness import compute_fairness


def test_highest_reference_for_bootstrap_metrics_respects_min_group_size():
    """reference='highest' picks a 5-row group as the MAE reference (min_group_size ignored for non-count metrics)."""
    rng = np.random.default_rng(0)
    n = 1000
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.495, 0.005])
    y_true = rng.normal(100, 10, n)
    y_pred = y_true + rng.normal(0, 5, n) * np.where(group == "c", 3, 1)
    result = compute_fairness(
        y_pred=y_pred,
        y_true=y_true,
        sensitive=pd.DataFrame({"g": group}),
        n_boot=200,
        reference="highest",
        min_group_size=30,
    )
    sizes = {g.group: g.n for g in result.attributes[0].groups}
    assert sizes["c"] < 30
    references = {c.reference for c in result.attributes[0].to_reference if c.metric == "mae"}
    assert "c" not in references, references


def test_verdict_does_not_depend_on_group_names_when_sizes_tie():
    """Two equal-size groups: 'largest' reference is the first name, so renaming the groups flips PASSED to FAILED."""
    import yaml

    from governance.rules.evaluate import evaluate_policy
    from governance.rules.load import parse_policy

    rule = {
        "id": "r",
        "description": "r",
        "metric": "selection_rate",
        "comparison": "ratio_to_reference",
        "bound": ">= 0.8",
    }
    policy = parse_policy(yaml.safe_dump({"name": "t", "rules": [rule]}), source="t.yaml")
    y_pred = np.r_[np.tile([1, 0, 0, 0, 0], 20), np.tile([1, 1, 1, 0, 0], 20)]  # 20 % then 60 % selected
    verdicts = []
    for names in (["a", "b"], ["b", "a"]):
        sensitive = pd.DataFrame({"g": np.repeat(names, 100)})
        fairness = compute_fairness(y_pred=y_pred, sensitive=sensitive, n_boot=0)
        verdicts.append(evaluate_policy(policy, fairness, policy_path="t", policy_sha256="0" * 64).verdict)
    assert verdicts[0] == verdicts[1], verdicts
