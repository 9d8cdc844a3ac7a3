"""Count metrics as array arithmetic on (weighted) confusion counts; works on any leading axes.

Undefined rates (a zero denominator, e.g. TPR of a group with no positives) are NaN and reported as
``None``; sklearn would return 0 with a warning, which reads as a real value in a report.
"""

from __future__ import annotations

import numpy as np

from governance.audit.fairness.rates import confusion_fractions

LABEL_METRICS = ("selection_rate", "base_rate", "tpr", "fpr", "fnr", "tnr", "precision", "npv", "accuracy")
NO_LABEL_METRICS = ("selection_rate",)


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def one_vs_rest(table: np.ndarray, cls: int, *, has_labels: bool) -> tuple[np.ndarray, ...]:
    """(tp, fn, fp, tn) of class ``cls`` from counts shaped (..., T, K); without labels (selected, total)."""
    if not has_labels:
        total = table.sum(axis=(-2, -1))
        return table[..., 0, cls], total
    # Direct sums of non-negative counts (not differences), so an empty cell is exactly zero.
    rest = np.ones(table.shape[-1], dtype=bool)
    rest[cls] = False
    tp = table[..., cls, cls]
    fn = table[..., cls, :][..., rest].sum(axis=-1)
    fp = table[..., :, cls][..., rest].sum(axis=-1)
    tn = table[..., rest, :][..., :, rest].sum(axis=(-2, -1))
    return tp, fn, fp, tn


def count_metrics(table: np.ndarray, cls: int, *, has_labels: bool) -> dict[str, np.ndarray]:
    """Every count metric of class ``cls`` (one-vs-rest) from counts shaped (..., T, K)."""
    return {
        name: _divide(top, bottom)
        for name, (top, bottom) in fractions(table, cls, has_labels=has_labels).items()
    }


def fractions(table: np.ndarray, cls: int, *, has_labels: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(numerator, denominator) of every count metric of class ``cls`` from counts shaped (..., T, K)."""
    if not has_labels:
        selected, total = one_vs_rest(table, cls, has_labels=False)
        return {"selection_rate": (selected, total)}
    return confusion_fractions(*one_vs_rest(table, cls, has_labels=True))
