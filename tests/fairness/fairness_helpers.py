"""Shared data makers and oracles for the fairness tests (plain numpy and sklearn, no mocks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.results.fairness import AttributeResult, FairnessResult


def binary_data(n: int = 600, seed: int = 0, *, missing: bool = False) -> dict[str, object]:
    """Binary labels and predictions with group-dependent rates, two sensitive columns and scores."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n, p=[0.4, 0.6])
    age = rng.choice(["18-24", "25-44", "45+"], n, p=[0.2, 0.5, 0.3])
    base = 0.3 + 0.2 * (sex == "male") + 0.1 * (age == "45+")
    y_true = (rng.random(n) < base).astype(int)
    scores = np.clip(0.5 * y_true + 0.15 * (sex == "male") + rng.normal(0.2, 0.2, n), 0, 1)
    y_pred = (scores > 0.5).astype(int)
    weights = rng.uniform(0.5, 2.0, n)
    sensitive = pd.DataFrame({"sex": sex, "age_band": age})
    if missing:
        sensitive.loc[rng.random(n) < 0.05, "age_band"] = None
    return {"y_true": y_true, "y_pred": y_pred, "scores": scores, "weights": weights, "sensitive": sensitive}


def attribute(result: FairnessResult, name: str, positive_class: str | None = None) -> AttributeResult:
    for item in result.attributes:
        if item.attribute == name and item.positive_class == positive_class:
            return item
    raise KeyError(name)


def group_values(item: AttributeResult, metric: str) -> dict[str, float | None]:
    return {g.group: g.metrics[metric].value for g in item.groups if not g.is_unknown}


def resample_rows(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Row-resampling multiplicities (n_boot, n): the textbook bootstrap, for checking ours."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, n))
    for b in range(n_boot):
        out[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return out


def quantile_tolerance(replicates: np.ndarray, q: float, n_a: int, n_b: int, k: float = 4.5) -> float:
    """Allowed gap between two bootstrap q-quantiles from n_a and n_b resamples.

    The standard error of a sample q-quantile is sqrt(q(1-q)/B) / f(x_q); with a near-normal bootstrap
    distribution of sd s, f(x_q) = phi(z_q) / s. Two independent estimates differ by at most k standard
    errors of their difference (k = 4.5: a false alarm about once in 150,000 comparisons).
    """
    from scipy import stats

    s = float(np.nanstd(replicates))
    z = stats.norm.ppf(q)
    se_one = np.sqrt(q * (1 - q)) / stats.norm.pdf(z) * s
    return float(k * se_one * np.sqrt(1 / n_a + 1 / n_b)) + 1e-12
