"""Percentile intervals, group-vs-reference significance tests and the Holm correction."""

from __future__ import annotations

import numpy as np


def percentile_interval(replicates: np.ndarray, confidence_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval per column of ``replicates`` (shape (B, ...)), as fairlearn does.

    The quantiles are ``np.quantile``'s default (linear interpolation, fairlearn's choice), computed here in
    one sort so that hundreds of small calls stay cheap. Replicates where the statistic is undefined (NaN,
    e.g. a group drawn empty) are left out; a column with no defined replicate gets NaN.
    """
    alpha = (1.0 - confidence_level) / 2.0
    flat = replicates.reshape(replicates.shape[0], -1)
    ordered = np.sort(flat, axis=0)  # NaN sort last
    valid = flat.shape[0] - np.isnan(flat).sum(axis=0)
    bounds = []
    for q in (alpha, 1.0 - alpha):
        position = q * np.maximum(valid - 1, 0)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(valid - 1, 0))
        t = position - below
        a = np.take_along_axis(ordered, below[None, :], axis=0)[0]
        b = np.take_along_axis(ordered, above[None, :], axis=0)[0]
        with np.errstate(invalid="ignore"):
            value = np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)
        value = np.where(valid > 0, value, np.nan)
        bounds.append(value.reshape(replicates.shape[1:]))
    return bounds[0], bounds[1]


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value of [[a, b], [c, d]], as ``scipy.stats.fisher_exact``.

    Sums the hypergeometric probabilities no larger than the observed one (relative tolerance 1e-7, as
    scipy). Written out because scipy's general version costs milliseconds per table, and an audit with
    many small groups runs thousands of them.
    """
    from scipy.special import gammaln

    r1, c1, n = a + b, a + c, a + b + c + d
    low, high = max(0, r1 + c1 - n), min(r1, c1)
    x = np.arange(low, high + 1, dtype=np.float64)
    log_p = (
        gammaln(c1 + 1)
        - gammaln(x + 1)
        - gammaln(c1 - x + 1)
        + gammaln(n - c1 + 1)
        - gammaln(r1 - x + 1)
        - gammaln(n - c1 - r1 + x + 1)
        - gammaln(n + 1)
        + gammaln(r1 + 1)
        + gammaln(n - r1 + 1)
    )
    p = np.exp(log_p)
    observed = p[a - low]
    return float(min(1.0, p[p <= observed * (1 + 1e-7)].sum()))


def two_by_two_p_value(a: int, b: int, c: int, d: int) -> float | None:
    """p-value of [[a, b], [c, d]] (group: yes/no; reference: yes/no), two-sided.

    Fisher's exact test when any expected count is under 5, otherwise Pearson's chi-square without the
    continuity correction (scipy ``chi2_contingency(..., correction=False)``). None when a row or column
    is empty (nothing to test).
    """
    rows = (a + b, c + d)
    columns = (a + c, b + d)
    total = a + b + c + d
    if total == 0 or 0 in rows or 0 in columns:
        return None
    expected = [r * k / total for r in rows for k in columns]
    if min(expected) < 5:
        return fisher_exact_p(a, b, c, d)
    observed = (a, b, c, d)
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    from scipy.special import chdtrc

    return float(chdtrc(1, statistic))  # chi-square survival function, one degree of freedom (as scipy)


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
