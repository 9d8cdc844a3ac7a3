"""Calibration by group: does a score of 0.7 mean a 70 % chance of the positive outcome in every group?

Scores are put into equal-width bins from 0 to 1; in each bin the share of positive outcomes is compared with the
mean score. The expected calibration error (ECE) is the row-weighted mean of those gaps. Its interval comes from a
bootstrap that redraws each bin's positive count (binomial) with the scores held fixed: cheap at any size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from governance.audit.fairness._inputs import code_sensitive
from governance.errors import InputError
from governance.intervals import wilson, z_for
from governance.results.common import Estimate
from governance.results.tradeoff import (
    AttributeCalibration,
    CalibrationResult,
    GroupCalibration,
    ReliabilityBin,
)

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_BINS = 10
DEFAULT_RESAMPLES = 400


def _binned(
    scores: np.ndarray, positive: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, positives and the sum of scores in each bin; a score on an edge falls in the lower bin (as sklearn)."""
    index = np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], scores, side="left")
    rows = np.bincount(index, minlength=n_bins).astype(np.float64)
    hits = np.bincount(index, weights=positive.astype(np.float64), minlength=n_bins)
    sums = np.bincount(index, weights=scores, minlength=n_bins)
    return rows, hits, sums


def _ece(rows: np.ndarray, hits: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Expected calibration error; ``hits`` may carry resamples in its first axis."""
    total = rows.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(rows > 0, np.abs(hits - sums) / np.where(rows > 0, rows, 1.0), 0.0)
    return np.asarray((gap * rows).sum(axis=-1) / total) if total > 0 else np.asarray(np.nan)


def _resampled_ece(
    rows: np.ndarray, hits: np.ndarray, sums: np.ndarray, rng: np.random.Generator, resamples: int
) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(rows > 0, hits / np.where(rows > 0, rows, 1.0), 0.0)
    drawn = rng.binomial(rows.astype(np.int64), rate, size=(resamples, rows.shape[0])).astype(np.float64)
    return np.asarray(_ece(rows, drawn, sums))


def _group(
    name: str, scores: np.ndarray, positive: np.ndarray, inputs: tuple[Any, ...]
) -> tuple[GroupCalibration, np.ndarray]:
    n_bins, level, rng, resamples, min_size = inputs
    rows, hits, sums = _binned(scores, positive, n_bins)
    low, high = wilson(hits, rows, z_for(level))
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = [
        ReliabilityBin(
            low=float(edges[i]),
            high=float(edges[i + 1]),
            n=int(rows[i]),
            mean_score=float(sums[i] / rows[i]) if rows[i] else None,
            observed=Estimate(value=float(hits[i] / rows[i]) if rows[i] else None, low=low[i], high=high[i]),
        )
        for i in range(n_bins)
    ]
    boot = _resampled_ece(rows, hits, sums, rng, resamples)
    alpha = (1 - level) / 2
    ends = np.quantile(boot, [alpha, 1 - alpha]) if scores.size else [np.nan, np.nan]
    error = Estimate(value=float(_ece(rows, hits, sums)), low=float(ends[0]), high=float(ends[1]))
    group = GroupCalibration(
        group=name,
        n=int(scores.shape[0]),
        below_min_size=scores.shape[0] < min_size,
        bins=bins,
        calibration_error=error,
    )
    return group, boot


def _gap(groups: list[GroupCalibration], boots: list[np.ndarray], level: float) -> Estimate:
    """max - min of the eligible groups' calibration errors, with a percentile interval over the same resamples."""
    chosen = [i for i, g in enumerate(groups) if not g.below_min_size]
    if len(chosen) < 2:
        return Estimate(value=None)
    values = [groups[i].calibration_error.value or 0.0 for i in chosen]
    stacked = np.stack([boots[i] for i in chosen])
    spread = stacked.max(axis=0) - stacked.min(axis=0)
    alpha = (1 - level) / 2
    low, high = np.quantile(spread, [alpha, 1 - alpha])
    return Estimate(value=max(values) - min(values), low=float(low), high=float(high))


def compute_calibration(
    *,
    scores: Any,
    y_true: Any,
    sensitive: pd.DataFrame,
    n_bins: int = DEFAULT_BINS,
    confidence_level: float = 0.95,
    min_group_size: int = 30,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> CalibrationResult:
    """Reliability curves and calibration errors overall and per group; scores must be probabilities (0 to 1)."""
    values = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(y_true).astype(bool)
    if not np.isfinite(values).all() or values.min() < 0.0 or values.max() > 1.0:
        raise InputError(
            "Calibration needs scores that are probabilities from 0 to 1; these are not, so leave calibration out."
        )
    if n_bins < 2:
        raise InputError(f"Calibration needs at least 2 bins, not {n_bins}; for example 10.")
    rng = np.random.default_rng(seed)
    inputs = (n_bins, confidence_level, rng, resamples, min_group_size)
    overall, _ = _group("everyone", values, positive, inputs)
    coded = code_sensitive(sensitive)
    attributes = []
    for column, codes, levels, unknown in zip(
        coded.columns, coded.codes, coded.levels, coded.has_unknown, strict=True
    ):
        pairs = [
            _group(name, values[codes == code], positive[codes == code], inputs)
            for code, name in enumerate(levels[:-1] if unknown else levels)
        ]
        groups = [group for group, _ in pairs]
        gap = _gap(groups, [boot for _, boot in pairs], confidence_level)
        attributes.append(AttributeCalibration(attribute=column, groups=groups, gap=gap))
    return CalibrationResult(
        n_bins=n_bins, overall=overall, attributes=attributes, confidence_level=confidence_level
    )
