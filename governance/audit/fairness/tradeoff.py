"""Trade-off curves: each group's rates, the policy's key ratios and accuracy at every threshold of a grid.

Computed from each group's scores sorted once (a count of scores at or above a threshold is one binary search),
so 200 thresholds cost about as much as sorting the scores, not 200 audits. A decision is ``score >= threshold``,
as in an audit with ``--threshold``. Curves are unweighted and cover single attributes; the audit's own tables
cover weights and intersections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.audit.fairness._inputs import code_sensitive
from governance.errors import InputError
from governance.intervals import Kind, Pairs, bonferroni_pairs, spread, spread_many, wilson, z_for
from governance.results.common import Estimate
from governance.results.tradeoff import AttributeCurves, GroupCurve, RatioCurve, TradeoffResult

if TYPE_CHECKING:
    import pandas as pd

CURVE_RULE_METRICS = ("selection_rate", "tpr", "fpr")
CURVE_RULE_COMPARISONS = ("impact_ratio", "ratio_between_groups", "difference_between_groups")
DEFAULT_THRESHOLDS = 101


@dataclass(frozen=True)
class KeyRatio:
    """A policy rule the curves follow: a between-group ratio or gap of a rate, and its bound."""

    rule_id: str
    metric: str
    comparison: str
    bound: str


@dataclass(frozen=True)
class CurveSettings:
    """What to compute: the threshold grid, the rules to follow, the interval level and the minimum group size."""

    thresholds: Sequence[float] | int = DEFAULT_THRESHOLDS
    key_ratios: Sequence[KeyRatio] = ()
    confidence_level: float = 0.95
    min_group_size: int = 30
    current_threshold: float | None = None


def key_ratios_of(policy: Any) -> list[KeyRatio]:
    """The policy's rules that a threshold moves: ratios and gaps between groups of selection rate, TPR, FPR."""
    return [
        KeyRatio(rule.id, rule.metric, rule.comparison, rule.bound)
        for rule in getattr(policy, "rules", [])
        if getattr(rule, "metric", None) in CURVE_RULE_METRICS
        and getattr(rule, "comparison", None) in CURVE_RULE_COMPARISONS
    ]


def threshold_grid(scores: np.ndarray, count: int) -> np.ndarray:
    """``count`` evenly spaced thresholds: over 0 to 1 for probabilities, else between the 1st and 99th percentile."""
    if count < 2:
        raise InputError(f"The trade-off curves need at least 2 thresholds, not {count}; for example 101.")
    if scores.size and scores.min() >= 0.0 and scores.max() <= 1.0:
        return np.linspace(0.0, 1.0, count)
    low, high = np.quantile(scores, [0.01, 0.99]) if scores.size else (0.0, 1.0)
    return np.linspace(float(low), float(high), count)


def at_or_above(sorted_scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How many of the (ascending) scores are at or above each threshold: one binary search per threshold."""
    return np.asarray(sorted_scores.shape[0] - np.searchsorted(sorted_scores, thresholds, side="left"))


@dataclass(frozen=True)
class _Counts:
    """Counts at every threshold for one set of rows: selected, true positives, false positives."""

    n: int
    positives: int
    negatives: int
    selected: np.ndarray
    tp: np.ndarray
    fp: np.ndarray

    @classmethod
    def of(cls, scores: np.ndarray, positive: np.ndarray, thresholds: np.ndarray) -> _Counts:
        pos, neg = np.sort(scores[positive]), np.sort(scores[~positive])
        tp, fp = at_or_above(pos, thresholds), at_or_above(neg, thresholds)
        return cls(scores.shape[0], pos.shape[0], neg.shape[0], tp + fp, tp, fp)

    def pairs(self, metric: str) -> tuple[np.ndarray, int]:
        """Successes per threshold and the denominator of ``metric``."""
        if metric == "tpr":
            return self.tp, self.positives
        if metric == "fpr":
            return self.fp, self.negatives
        return self.selected, self.n


def _rates(k: np.ndarray, n: int, z: float) -> list[Estimate]:
    n_array = np.full(k.shape[0], float(n))
    low, high = wilson(k, n_array, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = k / n_array if n > 0 else np.full(k.shape[0], np.nan)
    return [Estimate(value=v, low=lo, high=hi) for v, lo, hi in zip(value, low, high, strict=True)]


def _ratio_curve(rule: KeyRatio, counts: list[_Counts], thresholds: np.ndarray, level: float) -> RatioCurve:
    """The rule's between-group number at every threshold, with the audit's interval for extremes.

    The ratios' intervals are searched for every threshold in one pass (``spread_many``): the same numbers as
    one search per threshold, which spent most of an audit's trade-off time in Python overhead."""
    from governance.rules.schema import Bound

    kind: Kind = "difference" if rule.comparison == "difference_between_groups" else "ratio"
    bound = Bound.parse(rule.bound)
    slots, items = _spread_items(rule.metric, counts, thresholds, level)
    if kind == "difference":  # no search: each gap's interval comes from the groups' own
        spreads = [spread(*item[:2], kind, z_plain=item[2], z_joint=item[3]) for item in items]
    else:
        spreads = [ratio for _, ratio in spread_many(items)]
    values: list[Estimate] = []
    meets: list[bool | None] = []
    for slot in slots:
        if slot is None:
            values.append(Estimate(value=None))
            meets.append(None)
            continue
        interval = spreads[slot]
        estimate = Estimate(value=interval.point[0], low=interval.low[0], high=interval.high[0])
        values.append(estimate)
        meets.append(None if estimate.value is None else bound.holds(estimate.value))
    return RatioCurve(
        rule_id=rule.rule_id,
        metric=rule.metric,
        comparison=rule.comparison,
        bound=rule.bound,
        values=values,
        meets_bound=meets,
    )


def _spread_items(
    metric: str, counts: list[_Counts], thresholds: np.ndarray, level: float
) -> tuple[list[int | None], list[tuple[Pairs, np.ndarray, float, float]]]:
    """For each threshold, its place among the spreads to compute (``None`` with fewer than two groups)."""
    z = z_for(level)
    slots: list[int | None] = []
    items: list[tuple[Pairs, np.ndarray, float, float]] = []
    for index in range(thresholds.shape[0]):
        k = np.array([c.pairs(metric)[0][index] for c in counts], dtype=np.float64)
        n = np.array([c.pairs(metric)[1] for c in counts], dtype=np.float64)
        pairs = Pairs.of_counts(k, n)
        groups = np.flatnonzero(np.isfinite(pairs.value))
        if groups.shape[0] < 2:
            slots.append(None)
            continue
        slots.append(len(items))
        items.append((pairs, groups, z, z_for(level, bonferroni_pairs(groups.shape[0]))))
    return slots, items


def _attribute_curves(
    name: str, codes: np.ndarray, levels: list[str], has_unknown: bool, inputs: tuple[Any, ...]
) -> AttributeCurves:
    scores, positive, thresholds, settings, z = inputs
    known = levels[:-1] if has_unknown else levels
    groups: list[GroupCurve] = []
    eligible: list[_Counts] = []
    for code, level_name in enumerate(known):
        mask = codes == code
        counts = _Counts.of(scores[mask], positive[mask], thresholds)
        small = counts.n < settings.min_group_size
        if not small:
            eligible.append(counts)
        groups.append(
            GroupCurve(
                group=level_name,
                n=counts.n,
                positives=counts.positives,
                negatives=counts.negatives,
                below_min_size=small,
                selection_rate=_rates(counts.selected, counts.n, z),
                tpr=_rates(counts.tp, counts.positives, z),
                fpr=_rates(counts.fp, counts.negatives, z),
            )
        )
    ratios = [
        _ratio_curve(rule, eligible, thresholds, settings.confidence_level) for rule in settings.key_ratios
    ]
    return AttributeCurves(attribute=name, groups=groups, ratios=ratios)


def compute_tradeoff(
    *, scores: Any, y_true: Any, sensitive: pd.DataFrame, settings: CurveSettings | None = None
) -> TradeoffResult:
    """Rates per group, key ratios and accuracy at every threshold; ``y_true`` is 1 (positive) or 0 per row.

    Raises ``InputError`` with one sentence for scores that are not finite numbers or labels that are not 0/1.
    """
    settings = settings or CurveSettings()
    values = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(y_true)
    if values.ndim != 1 or values.shape[0] != truth.shape[0] or values.shape[0] != len(sensitive):
        raise InputError(
            "scores, labels and sensitive columns must have one value per row, in the same order."
        )
    if not np.isfinite(values).all():
        raise InputError(
            "The scores include missing or non-finite values; the trade-off curves need real numbers."
        )
    if not np.isin(truth, (0, 1, True, False)).all():
        raise InputError("The labels for the trade-off curves must be 1 (the positive outcome) or 0.")
    positive = truth.astype(bool)
    grid = settings.thresholds
    thresholds = (
        threshold_grid(values, grid) if isinstance(grid, int) else np.asarray(sorted(grid), dtype=np.float64)
    )
    z = z_for(settings.confidence_level)
    everyone = _Counts.of(values, positive, thresholds)
    correct = everyone.tp + (everyone.negatives - everyone.fp)
    coded = code_sensitive(sensitive)
    inputs = (values, positive, thresholds, settings, z)
    attributes = [
        _attribute_curves(column, codes, levels, unknown, inputs)
        for column, codes, levels, unknown in zip(
            coded.columns, coded.codes, coded.levels, coded.has_unknown, strict=True
        )
    ]
    notes = ["Rows with a missing sensitive value count in the accuracy but in no group's curve."]
    return TradeoffResult(
        thresholds=[float(t) for t in thresholds],
        current_threshold=settings.current_threshold,
        performance=_rates(correct, everyone.n, z),
        main_ratio=settings.key_ratios[0].rule_id if settings.key_ratios else None,
        attributes=attributes,
        confidence_level=settings.confidence_level,
        notes=notes if any(coded.has_unknown) else [],
    )
