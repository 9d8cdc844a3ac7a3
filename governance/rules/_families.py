"""Intervals the policy engine recomputes for its own checks: at a rule's minimum size, adjusted for how many
findings the rule judges at once.

A rule passes only if every finding's plain interval meets the bound, which needs no adjustment (every group
must pass on its own). It fails when some finding's interval misses the bound; with many findings, one would
miss by chance, so the failing check uses intervals Bonferroni-adjusted over the rule's findings (and, for
extremes, over the pairs inside each finding). This keeps the chance that a rule fails a model that truly sits
on its bound at or below 2.5 % across all groups and attributes of the audit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.intervals import (
    Interval,
    Kind,
    Pairs,
    against_best,
    against_fixed,
    bonferroni_pairs,
    spread,
    z_for,
)
from governance.results.common import Estimate
from governance.results.fairness import DENOMINATORS, AttributeResult, GroupResult


@dataclass(frozen=True)
class GroupData:
    """The known groups of one attribute for one metric, with what their intervals are computed from."""

    groups: list[GroupResult]
    values: np.ndarray  # the metric's value per group (NaN where undefined)
    sizes: np.ndarray  # the metric's own denominator (rows for rates over everyone)
    pairs: Pairs | None
    positions: dict[str, int]  # group name -> index

    def index(self, name: str) -> int | None:
        return self.positions.get(name)

    def judged(self, min_size: int) -> np.ndarray:
        return np.flatnonzero((self.sizes >= min_size) & np.isfinite(self.values))


def _value(estimate: Estimate | None) -> float:
    return np.nan if estimate is None or estimate.value is None else float(estimate.value)


def group_data(attribute: AttributeResult, metric: str, level: float) -> GroupData:
    groups = [group for group in attribute.groups if not group.is_unknown]
    estimates = [g.metrics.get(metric) for g in groups]
    values = np.array([_value(e) for e in estimates], dtype=np.float64)
    sizes = np.array([g.counts[metric].rows if metric in g.counts else g.n for g in groups], dtype=np.int64)
    pairs: Pairs | None = None
    if groups and all(metric in g.counts for g in groups):
        k = np.array([g.counts[metric].k for g in groups])
        n = np.array([g.counts[metric].n for g in groups])
        pairs = Pairs.of_counts(k, n)
    elif groups:
        z = z_for(level)
        se = np.array(
            [(e.high - e.low) / (2 * z) if e is not None and e.has_interval else np.nan for e in estimates]  # type: ignore[operator]
        )
        pairs = Pairs.of_normal(values, se) if np.isfinite(se).any() else None
    positions = {group.group: i for i, group in enumerate(groups)}
    return GroupData(groups=groups, values=values, sizes=sizes, pairs=pairs, positions=positions)


def denominator_words(metric: str) -> str:
    return DENOMINATORS.get(metric, "rows")


def to_estimate(interval: Interval, i: int = 0) -> Estimate:
    return Estimate(
        value=_finite(interval.point[i]), low=_finite(interval.low[i]), high=_finite(interval.high[i])
    )


def _finite(number: float) -> float | None:
    return float(number) if np.isfinite(number) else None


def best_comparison(
    data: GroupData, group: int, candidates: np.ndarray, kind: Kind, level: float, family: int
) -> Estimate | None:
    """A group against the highest candidate, at the level adjusted for ``family`` findings."""
    if data.pairs is None or candidates.shape[0] == 0:
        return None
    z_plain = z_for(level, family)
    z_joint = z_for(level, family * max(candidates.shape[0] - 1, 1))
    found = against_best(data.pairs, np.array([group]), candidates, kind, z_plain=z_plain, z_joint=z_joint)
    return to_estimate(found)


def fixed_comparison(
    data: GroupData, group: int, reference: int, kind: Kind, level: float, family: int
) -> Estimate | None:
    if data.pairs is None:
        return None
    return to_estimate(against_fixed(data.pairs, np.array([group]), reference, kind, z_for(level, family)))


def own_value(data: GroupData, group: int, level: float, family: int) -> Estimate | None:
    if data.pairs is None:
        return None
    low, high = data.pairs.single(z_for(level, family))
    return Estimate(
        value=_finite(data.pairs.value[group]), low=_finite(low[group]), high=_finite(high[group])
    )


def spread_over(
    data: GroupData, groups: np.ndarray, kind: Kind, level: float, family: int
) -> Estimate | None:
    """max - min or min / max over ``groups``, plain level adjusted for the family, pairs jointly on top."""
    if data.pairs is None or groups.shape[0] < 2:
        return None
    z_plain = z_for(level, family)
    z_joint = z_for(level, family * bonferroni_pairs(groups.shape[0]))
    return to_estimate(spread(data.pairs, groups, kind, z_plain=z_plain, z_joint=z_joint))


def scaled(estimate: Estimate, level: float, family: int, *, ratio: bool) -> Estimate:
    """An interval widened from the plain level to the family's (normal approximation; log scale for ratios)."""
    if family <= 1 or not estimate.has_interval or estimate.value is None:
        return estimate
    factor = z_for(level, family) / z_for(level)
    value, low, high = estimate.value, float(estimate.low), float(estimate.high)  # type: ignore[arg-type]
    if ratio and value > 0 and low > 0 and high > 0:
        low = value * (low / value) ** factor
        high = value * (high / value) ** factor
    else:
        low, high = value - (value - low) * factor, value + (high - value) * factor
    return Estimate(value=value, low=low, high=high)
