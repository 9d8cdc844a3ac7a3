"""Percentile intervals, group-vs-reference significance tests and the Holm correction."""

from __future__ import annotations

import numpy as np


def percentile_interval(replicates: np.ndarray, confidence_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval per column of ``replicates`` (shape (B, ...)), as fairlearn does.

    ``np.quantile`` with linear interpolation (fairlearn's choice). Replicates where the statistic is
    undefined (NaN, e.g. a group drawn empty) are left out; a column with no defined replicate gets NaN.
    """
    alpha = (1.0 - confidence_level) / 2.0
    quantiles = [alpha, 1.0 - alpha]
    flat = replicates.reshape(replicates.shape[0], -1)
    if flat.shape[1] == 0:
        empty = np.empty(replicates.shape[1:])
        return empty, empty
    nan_columns = np.isnan(flat).any(axis=0)
    low = np.full(flat.shape[1], np.nan)
    high = np.full(flat.shape[1], np.nan)
    clean = ~nan_columns
    if clean.any():
        result = np.quantile(flat[:, clean], quantiles, axis=0)
        low[clean], high[clean] = result[0], result[1]
    for column in np.flatnonzero(nan_columns):
        values = flat[:, column]
        values = values[~np.isnan(values)]
        if values.shape[0]:
            low[column], high[column] = np.quantile(values, quantiles)
    return low.reshape(replicates.shape[1:]), high.reshape(replicates.shape[1:])


def two_by_two_p_value(a: int, b: int, c: int, d: int) -> float | None:
    """p-value of [[a, b], [c, d]] (group: yes/no; reference: yes/no), two-sided.

    Fisher's exact test when any expected count is under 5, otherwise Pearson's chi-square without the
    continuity correction (scipy ``chi2_contingency(..., correction=False)``). None when a row or column
    is empty (nothing to test).
    """
    from scipy import stats

    table = np.array([[a, b], [c, d]], dtype=np.float64)
    rows = table.sum(axis=1)
    columns = table.sum(axis=0)
    total = table.sum()
    if total == 0 or (rows == 0).any() or (columns == 0).any():
        return None
    expected = np.outer(rows, columns) / total
    if (expected < 5).any():
        return float(stats.fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)
    statistic = float(((table - expected) ** 2 / expected).sum())
    return float(stats.chi2.sf(statistic, 1))


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (family-wise error) of the defined p-values; None stays None."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(indexed)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
