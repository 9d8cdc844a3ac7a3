"""Proxy screen: how much each feature, on its own, reveals each sensitive attribute.

Two measures per (feature, attribute): Cramér's V of their cross-table (numeric features cut into ten
quantile bands), and the cross-validated AUC of guessing the attribute from the feature alone, using
each band's or level's share of every group in the other folds. The screen's "strength" rescales that
AUC to 0..1 (2 x AUC - 1, floored at 0; the Gini coefficient): 0 means the feature says nothing about
the attribute, 1 that it gives it away, 0.5 that it tells two people of different groups apart three
times in four. Cross-validation keeps a many-valued feature (a postcode) from looking revealing just
because it has many levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from governance.audit.explain.importance import UNKNOWN, group_labels
from governance.results.explain import ExplanationResult, ProxyHit, ProxyScore

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PROXY_THRESHOLD = 0.5  # AUC 0.75: tells two people of different groups apart three times in four
N_BANDS = 10
N_FOLDS = 5
MAX_ROWS = 50_000


def feature_codes(series: pd.Series) -> np.ndarray:
    """Integer codes: quantile bands for numbers with many values, levels otherwise; missing is a level."""
    import pandas as pd

    if (
        pd.api.types.is_numeric_dtype(series)
        and not pd.api.types.is_bool_dtype(series)
        and series.nunique() > N_BANDS
    ):
        numbers = series.to_numpy(dtype=float, na_value=np.nan)
        edges = np.unique(np.nanquantile(numbers, np.linspace(0, 1, N_BANDS + 1))[1:-1])
        codes = np.searchsorted(edges, numbers, side="right")
        codes[np.isnan(numbers)] = len(edges) + 1
        return codes.astype(int)
    return np.asarray(pd.factorize(series.astype(object), use_na_sentinel=False)[0], dtype=int)


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V of two code arrays (no bias correction, as ``scipy.stats.contingency.association``)."""
    _, a_codes = np.unique(a, return_inverse=True)
    _, b_codes = np.unique(b, return_inverse=True)
    rows, cols = a_codes.max() + 1, b_codes.max() + 1
    if rows < 2 or cols < 2:
        return 0.0
    table = np.zeros((rows, cols))
    np.add.at(table, (a_codes, b_codes), 1)
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / (n * (min(rows, cols) - 1))))


def cross_validated_auc(codes: np.ndarray, target: np.ndarray, *, seed: int, folds: int = N_FOLDS) -> float:
    """Out-of-fold AUC of guessing ``target`` from ``codes`` by each code's group shares (macro one-vs-rest)."""
    from sklearn.metrics import roc_auc_score

    levels, y = np.unique(target, return_inverse=True)
    if len(levels) < 2:
        return 0.5
    n_codes = int(codes.max()) + 1
    prior = np.bincount(y, minlength=len(levels)) / len(y)
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(y)) % folds
    proba = np.empty((len(y), len(levels)))
    for fold in range(folds):
        test = fold_of == fold
        train = ~test
        table = np.zeros((n_codes, len(levels)))
        np.add.at(table, (codes[train], y[train]), 1)
        # One pseudo-row spread by the prior: unseen levels get the prior, rare ones are pulled towards it.
        smoothed = (table + prior) / (table.sum(axis=1, keepdims=True) + 1)
        proba[test] = smoothed[codes[test]]
    if len(levels) == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    present = [k for k in range(len(levels)) if 0 < (y == k).sum() < len(y)]
    scores = [roc_auc_score(y == k, proba[:, k]) for k in present]
    return float(np.mean(scores)) if scores else 0.5


def proxy_screen(
    X: pd.DataFrame,
    sensitive: pd.DataFrame,
    *,
    threshold: float = DEFAULT_PROXY_THRESHOLD,
    seed: int = 0,
) -> list[ProxyScore]:
    """Every feature against every sensitive attribute (the attribute itself is skipped)."""
    if len(X) > MAX_ROWS:
        picks = np.sort(np.random.default_rng(seed).choice(len(X), size=MAX_ROWS, replace=False))
        X, sensitive = X.iloc[picks], sensitive.iloc[picks]
    scores = []
    codes = {str(c): feature_codes(X[c]) for c in X.columns}
    for attribute in sensitive.columns:
        labels, _ = group_labels(sensitive[attribute])
        known = labels != UNKNOWN
        for feature, feature_code in codes.items():
            if feature == str(attribute):
                continue
            a, b = feature_code[known], labels[known].astype(str)
            v = cramers_v(a, b) if len(a) else 0.0
            auc = cross_validated_auc(a, b, seed=seed) if len(a) >= 2 * N_FOLDS else 0.5
            strength = max(0.0, 2 * auc - 1)
            scores.append(
                ProxyScore(
                    feature=feature,
                    attribute=str(attribute),
                    cramers_v=v,
                    auc=auc,
                    strength=strength,
                    likely_proxy=strength >= threshold,
                )
            )
    return scores


def likely_proxies(scores: Sequence[ProxyScore]) -> list[ProxyHit]:
    """The flagged pairs, strongest first."""
    hits = [
        ProxyHit(feature=s.feature, attribute=s.attribute, strength=s.strength)
        for s in scores
        if s.likely_proxy
    ]
    return sorted(hits, key=lambda h: (-h.strength, h.feature, h.attribute))


def sensitive_in_top_k(result: ExplanationResult, k: int) -> list[str]:
    """Sensitive attributes the model takes as input that rank among its ``k`` most important features."""
    return result.sensitive_in_top(k)


def proxies_in_top_k(result: ExplanationResult, k: int, threshold: float) -> list[ProxyHit]:
    """Features among the ``k`` most important whose proxy strength for some attribute is at least ``threshold``."""
    return result.proxies_in_top(k, threshold)
