"""Percentile intervals, group-vs-reference significance tests and the Holm correction."""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.special import chi2_sf_1, chi2_sf_1_array


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
    r1, c1, n = a + b, a + c, a + b + c + d
    if n > _LARGE_TABLE:
        return _fisher_by_ratios(a, r1, c1, n)
    low, high = max(0, r1 + c1 - n), min(r1, c1)
    x = np.arange(low, high + 1, dtype=np.float64)
    p = np.exp(_hypergeometric_log_p(x, r1, c1, n))
    observed = p[a - low]
    return float(min(1.0, p[p <= observed * (1 + 1e-7)].sum()))


_LARGE_TABLE = (
    2**22
)  # above 4 million rows, log-gamma differences lose the 1e-7 the p-value's sum compares at


def _fisher_by_ratios(a: int, r1: int, c1: int, n: int) -> float:
    """``fisher_exact_p`` of a table with millions of rows: each hypergeometric probability from the one before
    (their ratio is exact to a few bits), so nothing is lost subtracting log-gammas near 1e10."""
    low, high = max(0, r1 + c1 - n), min(r1, c1)
    x = np.arange(low, high, dtype=np.float64)
    ratios = (r1 - x) * (c1 - x) / ((x + 1) * (n - r1 - c1 + x + 1))
    log_p = np.concatenate(([0.0], np.cumsum(np.log(ratios))))
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
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
    return chi2_sf_1(statistic)  # chi-square survival function, one degree of freedom (scipy's, bit for bit)


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


_FISHER_CELLS = 2_000_000  # hypergeometric terms held at once when many Fisher tests run together


def two_by_two_p_values(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``two_by_two_p_value`` for many tables at once (NaN where nothing is tested), to the same last bit.

    The expected counts, the choice of test and the p-values are array arithmetic; only the chi-square
    statistic's squares are Python's (``x ** 2`` there is the C library's ``pow``, which numpy's squaring need
    not match in the last bit) and each Fisher table's final sum runs over its own terms.
    """
    a, b, c, d = (np.asarray(x, dtype=np.int64).reshape(-1) for x in (a, b, c, d))
    r1, r2, c1, c2 = a + b, c + d, a + c, b + d
    total = r1 + r2
    defined = (total > 0) & (r1 > 0) & (r2 > 0) & (c1 > 0) & (c2 > 0)
    p = np.full(a.shape[0], np.nan)
    if not defined.any():
        return p
    safe = np.where(defined, total, 1)
    expected = [_expected(r, k, safe) for r in (r1, r2) for k in (c1, c2)]
    fisher = defined & (np.minimum.reduce(expected) < 5)
    chi = np.flatnonzero(defined & ~fisher)
    if chi.shape[0]:
        statistic = np.zeros(chi.shape[0])  # sum((o - e) ** 2 / e), term by term from the left as sum() adds
        for observed, wanted in zip((a, b, c, d), expected, strict=True):
            e = wanted[chi]
            gap = (
                observed[chi].astype(np.float64) - e
            )  # Python's int - float: the int rounded to a float first
            statistic += np.array([x**2 for x in gap.tolist()], dtype=np.float64) / e
        p[chi] = chi2_sf_1_array(statistic.tolist())
    chosen = np.flatnonzero(fisher)
    if chosen.shape[0]:
        p[chosen] = _fisher_many(a[chosen], r1[chosen], c1[chosen], total[chosen])
    return p


_EXACT = 2**26  # margins up to this: their product is exact in int64 and in float64


def _expected(row: np.ndarray, column: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``row * column / total`` per table, rounded once as Python's integers would be: products of margins
    over 2**26 (more than 67 million rows) overflow int64 and are not exact in float64, so those few are
    computed with Python integers."""
    small = np.minimum(row, _EXACT) * np.minimum(column, _EXACT)  # the large ones are replaced below
    out: np.ndarray = small.astype(np.float64) / total.astype(np.float64)
    for i in np.flatnonzero((row > _EXACT) | (column > _EXACT)).tolist():
        out[i] = int(row[i]) * int(column[i]) / int(total[i])
    return out


def _hypergeometric_log_p(x: Any, r1: Any, c1: Any, n: Any) -> Any:
    """Log-probability of ``x`` in the top-left cell given the margins: one formula for one table and for many."""
    from scipy.special import gammaln  # only for Fisher's test: math.lgamma is not the same float

    return (
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


def _fisher_many(a: np.ndarray, r1: np.ndarray, c1: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``fisher_exact_p`` of many tables: the log-probabilities in padded blocks, the same terms per table."""
    low = np.maximum(0, r1 + c1 - n)
    size = np.minimum(r1, c1) - low + 1
    out = np.empty(a.shape[0])
    large = n > _LARGE_TABLE
    for row in np.flatnonzero(large).tolist():
        out[row] = _fisher_by_ratios(int(a[row]), int(r1[row]), int(c1[row]), int(n[row]))
    order = np.flatnonzero(~large)[np.argsort(size[~large], kind="stable")]
    start = 0
    while start < order.shape[0]:
        stop = start + 1  # sizes ascend: the block is as wide as its last table
        while stop < order.shape[0] and int(size[order[stop]]) * (stop + 1 - start) <= _FISHER_CELLS:
            stop += 1
        rows = order[start:stop]
        x = (low[rows, None] + np.arange(int(size[rows[-1]]))[None, :]).astype(np.float64)
        r, k, m = r1[rows, None], c1[rows, None], n[rows, None]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # padding past a table's support
            probabilities = np.exp(_hypergeometric_log_p(x, r, k, m))
        for i, row in enumerate(rows.tolist()):
            terms = probabilities[i, : int(size[row])]
            observed = terms[int(a[row] - low[row])]
            out[row] = min(1.0, float(terms[terms <= observed * (1 + 1e-7)].sum()))
        start = stop
    return out


def holm_array(p_values: np.ndarray) -> np.ndarray:
    """``holm`` on an array (NaN for an untested group), to the same last bit."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape[0], np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.shape[0]
    if m == 0:
        return adjusted
    order = tested[np.argsort(p[tested], kind="stable")]
    steps = np.minimum(1.0, (m - np.arange(m)).astype(np.float64) * p[order])
    adjusted[order] = np.maximum.accumulate(np.maximum(steps, 0.0))
    return adjusted
