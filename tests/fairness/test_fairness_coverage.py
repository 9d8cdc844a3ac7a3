"""Slow: do the 95 % intervals of a selection-rate ratio cover the true ratio 93-97 % of the time?"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness import compute_fairness

REPETITIONS = 1000
TRUE_RATE = {"female": 0.24, "male": 0.30}  # true ratio 0.8: the four-fifths line


def coverage(repetitions: int = REPETITIONS, n: int = 1000, seed: int = 0) -> float:
    """Share of repetitions whose interval for female / male selection rate holds the true 0.8."""
    rng = np.random.default_rng(seed)
    truth = TRUE_RATE["female"] / TRUE_RATE["male"]
    covered = 0
    for repetition in range(repetitions):
        sex = rng.choice(["female", "male"], n, p=[0.4, 0.6])
        rate = np.where(sex == "female", TRUE_RATE["female"], TRUE_RATE["male"])
        y_pred = (rng.random(n) < rate).astype(int)
        result = compute_fairness(
            y_pred=y_pred,
            sensitive=pd.DataFrame({"sex": sex}),
            n_boot=1000,
            seed=repetition,
            reference="named",
            reference_groups={"sex": "male"},
        )
        ratio = next(c.ratio for c in result.attributes[0].to_reference if c.metric == "selection_rate")
        assert ratio.low is not None and ratio.high is not None
        covered += ratio.low <= truth <= ratio.high
    return covered / repetitions


@pytest.mark.slow
def test_selection_rate_ratio_interval_covers_the_truth(request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a slow statistical check: run it with -m slow")
    share = coverage()
    assert 0.93 <= share <= 0.97, share


if __name__ == "__main__":
    print(f"coverage of 95 % intervals over {REPETITIONS} repetitions: {coverage():.3f}")
