"""Attack tests on the interval engine (governance.intervals) and the intervals it hands to audit.json."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness import compute_fairness
from governance.intervals import score_ratio, z_for

Z = z_for(0.95)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "true_high"),
    [(0, 1, 1, 50, 106.7), (0, 1, 1, 10, 21.2), (0, 10, 1, 50, 17.8)],
)
def test_score_ratio_upper_end_not_capped_when_numerator_is_zero(k1, n1, k2, n2, true_high):
    """score_ratio's upper end is capped at exp(log(1e-12) + 30) = 10.69 when k1 = 0 (bisection bracket too short)."""
    # Reference values: the Miettinen-Nurminen score interval found by brute force (grid over theta with the
    # restricted MLE maximised numerically); statsmodels' 'score' ratio interval agrees (21.26, 106.9, 17.79).
    _, high = score_ratio(k1, n1, k2, n2, Z)
    assert float(high) == pytest.approx(true_high, rel=0.02)


def test_score_ratio_lower_end_not_floored_when_reference_is_zero():
    """score_ratio's lower end is floored at exp(log(1e12) - 30) = 0.0936 when k2 = 0, though it should be ~0.0094."""
    low, _ = score_ratio(1, 50, 0, 1, Z)
    assert float(low) == pytest.approx(0.00935, rel=0.05)


def test_undefined_impact_ratio_has_no_interval():
    """When every group's selection rate is 0 the LL144 impact ratio is n/a but its interval is printed as [1, 1]."""
    n = 100
    sensitive = pd.DataFrame({"sex": ["f", "m"] * (n // 2)})
    result = compute_fairness(y_pred=np.zeros(n, dtype=int), sensitive=sensitive, n_boot=0)
    rows = result.attributes[0].ll144.rows
    for row in rows:
        if row.impact_ratio is None:
            assert row.impact_ratio_low is None and row.impact_ratio_high is None, row


def _weighted_log() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n)})
    y_pred = (rng.random(n) < np.where(sensitive.sex == "f", 0.3, 0.5)).astype(int)
    return sensitive, y_pred, rng.exponential(1, n)


@pytest.mark.parametrize("scale", [1e-200, 1e160])
def test_weights_too_extreme_to_square_are_refused_in_a_sentence(scale):
    """Weights x 1e-200 or x 1e160 under/overflow w^2, so intervals vanished and a ratio read [1, 1]; now refused."""
    from governance.errors import InputError

    sensitive, y_pred, weights = _weighted_log()
    with pytest.raises(InputError, match=r"too far from 1 to compute with .* rescale them"):
        compute_fairness(y_pred=y_pred, sensitive=sensitive, sample_weight=weights * scale, n_boot=0)


@pytest.mark.parametrize("scale", [1e-40, 1e40])
def test_rescaled_weights_give_the_same_intervals(scale):
    """Kish counts are scale-free: weights scaled by 1e-40 or 1e40 give the same ratios and intervals."""
    sensitive, y_pred, weights = _weighted_log()
    plain = compute_fairness(y_pred=y_pred, sensitive=sensitive, sample_weight=weights, n_boot=0)
    scaled = compute_fairness(y_pred=y_pred, sensitive=sensitive, sample_weight=weights * scale, n_boot=0)
    a, b = plain.attributes[0].ll144.rows[0], scaled.attributes[0].ll144.rows[0]
    assert b.impact_ratio == pytest.approx(a.impact_ratio)
    assert b.impact_ratio_low == pytest.approx(a.impact_ratio_low)
    assert b.impact_ratio_high == pytest.approx(a.impact_ratio_high)
