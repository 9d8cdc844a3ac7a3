"""One attribute's result: group values, comparisons, spreads, summaries and the LL144 table, with intervals.

Count metrics (rates) get score intervals from their counts (``governance.intervals``): Wilson for a rate,
Newcombe for a difference, a score interval for a ratio. Comparisons with a group picked from the data (the
most-selected or highest group) and spreads across groups are extremes over pairs, with intervals that hold
whichever group is truly extreme. Metrics that are not counts (AUC, Brier score, regression errors) keep
percentile bootstrap intervals for their own values and fixed comparisons, and use the bootstrap's standard
error for extremes.

A group can be the reference of a comparison only if the metric's own denominator (rows for a selection rate,
actual negatives for a false positive rate...) holds at least ``min_group_size``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from governance.audit.fairness._counts import fractions
from governance.audit.fairness._groups import JOIN, GroupPlan
from governance.audit.fairness._records import (
    LL144_ROW,
    SPREAD,
    ComparisonBlock,
    collection_paused,
    estimates,
    numbers,
)
from governance.audit.fairness._stats import holm_array, percentile_interval, two_by_two_p_values
from governance.errors import InputError
from governance.intervals import (
    Interval,
    Pairs,
    against_best,
    against_fixed,
    against_fixed_many,
    bonferroni_pairs,
    count_intervals,
    min_over_max,
    spread_many,
    z_for,
)
from governance.results.common import Estimate
from governance.results.fairness import LL144Table, Spread

TESTED_METRICS = {"selection_rate", "tpr", "fpr"}  # count metrics with a group-vs-reference test
LL144_SMALL_SHARE = 0.02


@dataclass(frozen=True)
class Sums:
    """The weighted sums behind a rate: successes, trials, and trials' squared weights (all equal to counts
    without weights). Kish effective counts follow from them, and so do the rest-of-population's."""

    top: np.ndarray
    bottom: np.ndarray
    bottom2: np.ndarray
    weighted: bool

    def effective(self) -> tuple[np.ndarray, np.ndarray]:
        """(successes, trials) as counts: Kish ``n = (sum w)^2 / sum w^2`` and ``k = rate * n``."""
        if not self.weighted:
            return self.top, self.bottom
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.where(self.bottom2 > 0, self.bottom * self.bottom / self.bottom2, 0.0)
            k = np.where(self.bottom > 0, self.top / self.bottom * n, 0.0)
        return k, n

    def minus(self, part: Sums) -> Sums:
        """Everyone but ``part`` (for a group against the rest of the population)."""
        return Sums(
            top=np.maximum(self.top - part.top, 0.0),
            bottom=np.maximum(self.bottom - part.bottom, 0.0),
            bottom2=np.maximum(self.bottom2 - part.bottom2, 0.0),
            weighted=self.weighted,
        )


@dataclass
class Series:
    """One metric for the groups of one plan: point values (G,), and either counts or resamples (B, G)."""

    point: np.ndarray
    boot: np.ndarray | None = None
    sums: Sums | None = None  # count metrics: what the rates are made of
    rows: np.ndarray | None = None  # unweighted trials (count metrics); rows of the group otherwise
    level: float = 0.95

    @property
    def k(self) -> np.ndarray | None:
        return None if self.sums is None else self.sums.effective()[0]

    @property
    def n(self) -> np.ndarray | None:
        return None if self.sums is None else self.sums.effective()[1]

    @property
    def is_count(self) -> bool:
        return self.sums is not None

    def pairs(self) -> Pairs | None:
        """What pairwise intervals are computed from; None when there is nothing to compute them from.

        For resampled metrics the standard error is read off the percentile interval, (high - low) / 2z, as the
        policy engine reads it off audit.json, so both judge the same numbers.
        """
        if self.sums is not None:
            return Pairs.of_counts(*self.sums.effective())
        if self.boot is None or self.boot.shape[0] < 2:
            return None
        interval = resampled(self.point, self.boot, self.level)
        low, high = interval.low, interval.high
        return Pairs.of_normal(self.point, (high - low) / (2 * z_for(self.level)))

    def sizes(self) -> np.ndarray:
        assert self.rows is not None
        return self.rows


_RESAMPLED_VALUES = 4_000_000  # resampled values (resamples x groups) sorted at once: 32 MB


def resampled(point: np.ndarray, boot: np.ndarray | None, level: float) -> Interval:
    """Values with percentile intervals from their resamples (none without resamples)."""
    if boot is None or boot.shape[0] == 0:
        return resampled_blocks(point, lambda start, stop: np.empty((0, stop - start)), 0, level)
    flat = boot.reshape(boot.shape[0], -1)
    return resampled_blocks(point, lambda start, stop: flat[:, start:stop], flat.shape[0], level)


def resampled_blocks(
    point: np.ndarray, block: Callable[[int, int], np.ndarray], n_boot: int, level: float
) -> Interval:
    """Percentile intervals of values whose resamples ``block(start, stop)`` gives a block of columns at a time.

    Each column's interval depends on that column alone, so an intersection of many thousands of groups gets
    the same intervals while the memory for sorting (and for comparisons made from the resamples) stays bounded.
    """
    point = np.asarray(point, dtype=np.float64).reshape(-1)
    low, high = np.full(point.shape[0], np.nan), np.full(point.shape[0], np.nan)
    if n_boot == 0:
        return Interval(point, low, high)
    step = max(1, _RESAMPLED_VALUES // n_boot)
    for start in range(0, point.shape[0], step):
        stop = min(point.shape[0], start + step)
        low[start:stop], high[start:stop] = percentile_interval(block(start, stop), level)
    return Interval(point, low, high)


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom != 0, top / np.where(bottom != 0, bottom, 1.0), np.nan)


@dataclass(frozen=True)
class AttributeSettings:
    """What every attribute of one computation shares."""

    reference: str
    reference_groups: dict[str, str]
    min_group_size: int
    confidence_level: float


def candidates(series: Series, known: np.ndarray, min_size: int) -> np.ndarray:
    """Groups that may be the reference of a data-chosen comparison: known, defined, big enough."""
    defined = known & np.isfinite(series.point)
    big = defined & (series.sizes() >= min_size)
    return np.flatnonzero(big)


def reference_index(
    plan: GroupPlan, weights: np.ndarray, counts: np.ndarray, settings: AttributeSettings, notes: list[str]
) -> int | None:
    """Index of the reference group for ``largest`` and ``named`` (``highest`` is chosen per metric)."""
    known = ~plan.is_unknown
    if not known.any():
        return None
    if settings.reference == "named":
        wanted = settings.reference_groups.get(plan.attribute)
        groups = settings.reference_groups
        if wanted is None and plan.is_intersection and all(c in groups for c in plan.columns):
            wanted = JOIN.join(groups[c] for c in plan.columns)
        if wanted is None:
            if not plan.is_intersection:
                raise InputError(
                    f"reference='named' needs a reference group for {plan.attribute!r}; "
                    f"add it to reference_groups, e.g. {{{plan.attribute!r}: {plan.names[0]!r}}}."
                )
        elif wanted in plan.names and known[plan.names.index(wanted)]:
            return plan.names.index(wanted)
        elif not plan.is_intersection:
            shown = ", ".join(n for n, k in zip(plan.names, known, strict=True) if k)
            raise InputError(
                f"The reference group {wanted!r} is not a group of {plan.attribute!r} ({shown}); "
                "pick one of those."
            )
        notes.append(f"{plan.attribute}: no named reference group was found, so the largest group is used.")
    return _largest(plan, weights, counts, notes)


def _largest(plan: GroupPlan, weights: np.ndarray, counts: np.ndarray, notes: list[str]) -> int:
    """The largest known group; between equally large groups, the one with more predicted in the last (positive) class.

    Breaking a tie on the data rather than on the names keeps the verdict from changing when groups are renamed
    (two groups with identical counts give identical comparisons either way).
    """
    masked = np.where(~plan.is_unknown, weights, -np.inf)
    tied = np.flatnonzero(masked == masked.max())
    if tied.shape[0] == 1:
        return int(tied[0])
    flat = counts.reshape(counts.shape[0], -1)
    selected = counts[..., -1].reshape(counts.shape[0], -1).sum(axis=1)
    chosen = int(max(tied.tolist(), key=lambda g: (int(selected[g]), *flat[g].tolist())))
    names = ", ".join(plan.names[g] for g in tied)
    notes.append(
        f"{plan.attribute}: the largest groups are equally large ({names}); {plan.names[chosen]!r} is the reference "
        "because more of it is predicted positive. Name a reference with reference: named if another one is meant."
    )
    return chosen


def to_reference(
    plan: GroupPlan,
    metrics: dict[str, Series],
    order: list[int],
    fixed_ref: int | None,
    settings: AttributeSettings,
    p_values: Callable[[str, np.ndarray, int], np.ndarray | None],
) -> tuple[list[ComparisonBlock], dict[str, int | None]]:
    """Every known group against the reference, per metric; returns the comparisons and each metric's reference."""
    known = ~plan.is_unknown
    z = z_for(settings.confidence_level)
    references: dict[str, int | None] = {}
    todo: list[tuple[str, Series, int, np.ndarray, np.ndarray]] = []
    for name, s in metrics.items():
        ref, pool_for_best = _reference_of(s, known, fixed_ref, settings)
        references[name] = ref
        others = np.array([g for g in order if known[g] and g != ref], dtype=np.int64)
        if ref is not None and others.shape[0]:
            todo.append((name, s, ref, others, pool_for_best))
    batched = [
        (s.pairs(), others, ref)
        for _, s, ref, others, _ in todo
        if s.is_count and settings.reference != "highest"
    ]
    fixed = iter(against_fixed_many(batched, z))  # type: ignore[arg-type]  # count metrics always have pairs
    rows: list[ComparisonBlock] = []
    for name, s, ref, others, pool_for_best in todo:
        if s.is_count and settings.reference != "highest":
            diffs, ratios = next(fixed)
        else:
            diffs, ratios = _against_reference(s, others, ref, pool_for_best, settings, z)
        found = p_values(name, others, ref)
        names = [plan.names[g] for g in others.tolist()]
        adjusted = None if found is None else holm_array(found)
        rows.append(ComparisonBlock(name, names, plan.names[ref], diffs, ratios, found, adjusted))
    return rows, references


def _reference_of(
    s: Series, known: np.ndarray, fixed_ref: int | None, settings: AttributeSettings
) -> tuple[int | None, np.ndarray]:
    """The metric's reference group, and the groups that may be the highest (``highest`` only)."""
    if settings.reference != "highest":
        return fixed_ref, np.array([], dtype=np.int64)
    pool = np.flatnonzero(known & np.isfinite(s.point))
    allowed = candidates(s, known, settings.min_group_size)
    pool_for_best = allowed if allowed.shape[0] else pool
    ref = int(pool_for_best[np.argmax(s.point[pool_for_best])]) if pool_for_best.shape[0] else None
    return ref, pool_for_best


def _against_reference(
    s: Series,
    others: np.ndarray,
    ref: int,
    best_pool: np.ndarray,
    settings: AttributeSettings,
    z: float,
) -> tuple[Interval, Interval]:
    pairs = s.pairs()
    if settings.reference == "highest" and pairs is not None:
        z_joint = z_for(settings.confidence_level, max(best_pool.shape[0] - 1, 1))
        return (
            against_best(pairs, others, best_pool, "difference", z_plain=z, z_joint=z_joint),
            against_best(pairs, others, best_pool, "ratio", z_plain=z, z_joint=z_joint),
        )
    if s.is_count and pairs is not None:
        return against_fixed(pairs, others, ref, "difference", z), against_fixed(
            pairs, others, ref, "ratio", z
        )
    diff_point = s.point[others] - s.point[ref]
    ratio_point = divide(s.point[others], np.full(others.shape[0], s.point[ref]))
    return _against_resampled(
        s.boot, others, s.boot[:, [ref]] if s.boot is not None else None, diff_point, ratio_point, s.level
    )


def _against_resampled(
    boot: np.ndarray | None,
    groups: np.ndarray,
    against: np.ndarray | None,
    diff_point: np.ndarray,
    ratio_point: np.ndarray,
    level: float,
) -> tuple[Interval, Interval]:
    """Groups' resampled values minus and over ``against`` (resamples, 1), a block of groups at a time."""
    if boot is None or against is None:
        return resampled(diff_point, None, level), resampled(ratio_point, None, level)
    n_boot = boot.shape[0]

    def difference(start: int, stop: int) -> np.ndarray:
        return np.asarray(boot[:, groups[start:stop]] - against)

    def ratio(start: int, stop: int) -> np.ndarray:
        return divide(boot[:, groups[start:stop]], np.broadcast_to(against, (n_boot, stop - start)))

    return (
        resampled_blocks(diff_point, difference, n_boot, level),
        resampled_blocks(ratio_point, ratio, n_boot, level),
    )


def to_overall(
    plan: GroupPlan,
    metrics: dict[str, Series],
    overall: dict[str, Series],
    known_order: list[int],
    z: float,
) -> list[ComparisonBlock]:
    """Every known group against the whole population."""
    groups = np.array(known_order, dtype=np.int64)
    names = [plan.names[g] for g in known_order]
    wanted = [name for name in metrics if name in overall and groups.shape[0]]
    counted = [name for name in wanted if metrics[name].is_count and overall[name].is_count]
    from_counts = dict(zip(counted, _overall_from_counts(metrics, overall, counted, groups, z), strict=True))
    rows: list[ComparisonBlock] = []
    for name in wanted:
        s, o = metrics[name], overall[name]
        if name in from_counts:
            diffs, ratios = from_counts[name]
        else:
            diff_point = s.point[groups] - o.point[0]
            ratio_point = divide(s.point[groups], np.full(groups.shape[0], o.point[0]))
            against = o.boot[:, [0]] if o.boot is not None and s.boot is not None else None
            diffs, ratios = _against_resampled(s.boot, groups, against, diff_point, ratio_point, s.level)
        rows.append(ComparisonBlock(name, names, "overall", diffs, ratios))
    return rows


def _overall_from_counts(
    metrics: dict[str, Series], overall: dict[str, Series], names: list[str], groups: np.ndarray, z: float
) -> list[tuple[Interval, Interval]]:
    """Group vs everyone through group vs the rest: overall = share x group + (1 - share) x rest.

    With the group's (weighted) share s of the denominator, (group - overall) = (1 - s)(group - rest), and
    group / overall = r / (s r + 1 - s) for r = group / rest, increasing in r; so the score intervals of the
    two independent parts map straight onto these. All the metrics' intervals are searched in one pass.
    """
    parts, shares = [], []
    for name in names:
        mine, everyone = metrics[name].sums, overall[name].sums
        assert mine is not None and everyone is not None
        part = Sums(mine.top[groups], mine.bottom[groups], mine.bottom2[groups], mine.weighted)
        parts.append((*part.effective(), *everyone.minus(part).effective()))
        with np.errstate(divide="ignore", invalid="ignore"):
            shares.append(np.where(everyone.bottom[0] > 0, part.bottom / everyone.bottom[0], np.nan))
    out = []
    for name, share, (d_low, d_high, r_low, r_high) in zip(
        names, shares, count_intervals(parts, z), strict=True
    ):
        s, o = metrics[name], overall[name]
        diff_point = s.point[groups] - o.point[0]
        ratio_point = divide(s.point[groups], np.full(groups.shape[0], o.point[0]))

        def mapped(r: np.ndarray, share: np.ndarray = share) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return np.where(np.isinf(r), 1.0 / share, r / (share * r + 1.0 - share))

        diffs = Interval(diff_point, (1.0 - share) * d_low, (1.0 - share) * d_high)
        out.append((diffs, Interval(ratio_point, mapped(r_low), mapped(r_high))))
    return out


def between_groups(
    plan: GroupPlan, metrics: dict[str, Series], level: float
) -> tuple[list[Spread], dict[str, tuple[Interval, Interval]]]:
    """max - min and min / max over the known groups, with intervals that hold for the true extremes."""
    known = ~plan.is_unknown
    z = z_for(level)
    defined: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # each metric's known values, and who has one
    searched: dict[str, tuple[Pairs, np.ndarray, float, float]] = {}
    for name, s in metrics.items():
        values = np.where(known & ~np.isnan(s.point), s.point, np.nan)
        groups = np.flatnonzero(np.isfinite(values))
        defined[name] = (values, groups)
        pairs = s.pairs()
        if pairs is not None and groups.shape[0] >= 2:
            searched[name] = (pairs, groups, z, z_for(level, bonferroni_pairs(groups.shape[0])))
    spreads = dict(zip(searched, spread_many(list(searched.values())), strict=True))
    rows: list[Spread] = []
    for name in metrics:
        values, groups = defined[name]
        if name not in spreads:
            spreads[name] = _plain_spread(values, groups)
        any_defined = groups.shape[0] > 0
        rows.append(
            SPREAD.one(
                dict(
                    metric=name,
                    difference=estimates(spreads[name][0])[0],
                    ratio=estimates(spreads[name][1])[0],
                    min_group=plan.names[int(np.nanargmin(values))] if any_defined else None,
                    max_group=plan.names[int(np.nanargmax(values))] if any_defined else None,
                )
            )
        )
    return rows, {name: spreads[name] for name in metrics}


def _plain_spread(values: np.ndarray, groups: np.ndarray) -> tuple[Interval, Interval]:
    """The spread's value without an interval (one group, or nothing to compute an interval from)."""
    nan = np.array([np.nan])
    if groups.shape[0] == 0:
        return Interval(nan, nan, nan), Interval(nan, nan, nan)
    top, bottom = np.nanmax(values), np.nanmin(values)
    ratio = min_over_max(float(top), float(bottom))
    return Interval(np.array([top - bottom]), nan, nan), Interval(np.array([ratio]), nan, nan)


def summaries(spreads: dict[str, tuple[Interval, Interval]]) -> dict[str, Estimate]:
    """fairlearn's summaries: demographic parity, equalized odds (worst of TPR and FPR), equal opportunity."""
    out: dict[str, Interval] = {}
    if "selection_rate" in spreads:
        d, r = spreads["selection_rate"]
        out["demographic_parity_difference"] = d
        out["demographic_parity_ratio"] = r
    if "tpr" in spreads and "fpr" in spreads:
        (td, tr), (fd, fr) = spreads["tpr"], spreads["fpr"]
        # max and min are increasing in each part, so the parts' ends give the ends (NaN-aware).
        out["equalized_odds_difference"] = Interval(
            np.fmax(td.point, fd.point), np.fmax(td.low, fd.low), np.fmax(td.high, fd.high)
        )
        out["equalized_odds_ratio"] = Interval(
            np.fmin(tr.point, fr.point), np.fmin(tr.low, fr.low), np.fmin(tr.high, fr.high)
        )
        out["equal_opportunity_difference"] = td
        out["equal_opportunity_ratio"] = tr
    return {name: estimates(interval)[0] for name, interval in out.items()}


def p_values(
    n_per_group: np.ndarray, groups: np.ndarray, ref: int, metric: str, cls: int, has_labels: bool
) -> np.ndarray:
    """Fisher exact or chi-square test of each group against the reference, on unweighted row counts (NaN:
    nothing to test)."""
    yes, total = fractions(n_per_group, cls, has_labels=has_labels)[metric]
    no = total - yes
    return two_by_two_p_values(
        yes[groups], no[groups], np.full(groups.shape[0], yes[ref]), np.full(groups.shape[0], no[ref])
    )


@dataclass(frozen=True)
class LL144Input:
    """What the LL144 table of one attribute is made from."""

    rate: Series
    n_per_group: np.ndarray  # unweighted counts (G, T, K)
    cls: int
    has_labels: bool
    group_w: np.ndarray
    rate_kind: str
    median: float | None


def ll144_table(
    plan: GroupPlan, data: LL144Input, settings: AttributeSettings, known_order: list[int]
) -> LL144Columns:
    """NYC LL144 table: rate per category, impact ratio against the most-selected category.

    The most-selected category is chosen among categories with at least 2 % of the known rows (the rule lets
    an auditor exclude smaller ones) and at least the minimum group size; smaller categories are still listed,
    flagged, with their ratio. Each ratio's interval allows for any eligible category being truly the top.
    """
    known = ~plan.is_unknown
    selected, total = fractions(data.n_per_group, data.cls, has_labels=data.has_labels)["selection_rate"]
    known_w = float(data.group_w[known].sum())
    share = np.where(known, data.group_w / known_w if known_w > 0 else 0.0, 0.0)
    rate = data.rate
    eligible = (
        known & (share >= LL144_SMALL_SHARE) & ~np.isnan(rate.point) & (total >= settings.min_group_size)
    )
    pool = np.flatnonzero(eligible)
    ref: int | None = int(pool[np.argmax(rate.point[pool])]) if pool.shape[0] else None
    rows_index = np.array(known_order, dtype=np.int64)  # the known groups in display order
    z = z_for(settings.confidence_level)
    ratio = Interval(*(np.full(plan.n_groups, np.nan) for _ in range(3)))
    pairs = rate.pairs()
    if ref is not None and pairs is not None and rows_index.shape[0]:
        z_joint = z_for(settings.confidence_level, max(pool.shape[0] - 1, 1))
        found = against_best(pairs, rows_index, pool, "ratio", z_plain=z, z_joint=z_joint)
        ratio = Interval(*(np.full(plan.n_groups, np.nan) for _ in range(3)))
        ratio.point[rows_index], ratio.low[rows_index], ratio.high[rows_index] = (
            found.point,
            found.low,
            found.high,
        )
    tested = rows_index[rows_index != ref] if ref is not None else rows_index[:0]
    raw = np.full(plan.n_groups, np.nan)
    adjusted = np.full(plan.n_groups, np.nan)
    if ref is not None and tested.shape[0]:
        raw[tested] = p_values(data.n_per_group, tested, ref, "selection_rate", data.cls, data.has_labels)
        adjusted[tested] = holm_array(raw[tested])
    return LL144Columns(
        attribute=plan.attribute,
        rate_kind=data.rate_kind,
        median=data.median,
        categories=[plan.names[g] for g in rows_index.tolist()],
        total=total[rows_index],
        selected=selected[rows_index],
        rate=rate.point[rows_index],
        ratio=Interval(ratio.point[rows_index], ratio.low[rows_index], ratio.high[rows_index]),
        share=share[rows_index],
        p_values=raw[rows_index],
        p_holm=adjusted[rows_index],
        most_selected=None if ref is None else plan.names[ref],
        unknown_count=int(total[plan.is_unknown].sum()),
        reference_candidates=[plan.names[g] for g in pool.tolist()],
    )


@dataclass(frozen=True)
class LL144Columns:
    """An attribute's LL144 table as arrays (categories in display order), made into a record when needed."""

    attribute: str
    rate_kind: str
    median: float | None
    categories: list[str]
    total: np.ndarray
    selected: np.ndarray
    rate: np.ndarray
    ratio: Interval
    share: np.ndarray
    p_values: np.ndarray
    p_holm: np.ndarray
    most_selected: str | None
    unknown_count: int
    reference_candidates: list[str]

    def table(self) -> LL144Table:
        with collection_paused():
            rows = LL144_ROW.many(
                [
                    self.categories,
                    self.total.astype(np.int64).tolist(),
                    self.selected.astype(np.int64).tolist(),
                    numbers(self.rate),
                    numbers(self.ratio.point),
                    numbers(self.ratio.low),
                    numbers(self.ratio.high),
                    self.share.astype(np.float64).tolist(),
                    (self.share < LL144_SMALL_SHARE).tolist(),
                    numbers(self.p_values),
                    numbers(self.p_holm),
                ]
            )
        return LL144Table(
            attribute=self.attribute,
            rate_kind=self.rate_kind,  # type: ignore[arg-type]
            median_score=self.median,
            rows=rows,
            most_selected=self.most_selected,
            unknown_count=self.unknown_count,
            reference_candidates=self.reference_candidates,
        )


def count_columns(s: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each group's counts (k, n, rows), for audit.json (the policy engine recomputes its intervals from them)."""
    if s.sums is None or s.rows is None:
        return None
    k, n = s.sums.effective()
    return (
        np.asarray(k, dtype=np.float64),
        np.asarray(n, dtype=np.float64),
        np.asarray(s.rows, dtype=np.int64),
    )
