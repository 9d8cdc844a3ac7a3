"""Attack tests: renaming the groups must not change any number."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.audit.fairness import compute_fairness


def test_bootstrap_intervals_do_not_depend_on_group_names():
    """Renaming f/m to zz/aa changes the AUC bootstrap intervals (resample streams follow the name order)."""
    rng = np.random.default_rng(0)
    n = 500
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n)})
    y_true = rng.integers(0, 2, n)
    scores = rng.random(n)
    y_pred = (scores > 0.5).astype(int)
    first = compute_fairness(y_pred=y_pred, y_true=y_true, scores=scores, sensitive=sensitive, n_boot=200)
    renamed = compute_fairness(
        y_pred=y_pred,
        y_true=y_true,
        scores=scores,
        n_boot=200,
        sensitive=sensitive.replace({"f": "zz", "m": "aa"}),
    )
    before = {g.group: g.metrics["auc"] for g in first.attributes[0].groups}
    after = {g.group: g.metrics["auc"] for g in renamed.attributes[0].groups}
    assert after["zz"] == before["f"] and after["aa"] == before["m"], (before, after)
