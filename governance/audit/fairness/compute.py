"""From columns (or a count table) to a ``FairnessResult``: metrics, comparisons, intervals, tests.

Count metrics (every rate) are arithmetic on one count table, and their intervals are score intervals computed
from the counts (``governance.intervals``), so they cost nothing extra at any size and never collapse to a
point at 0 % or 100 %. Metrics that are not counts (AUC, Brier score, regression means and errors) are
resampled with a Poisson bootstrap of the rows (``_rows``). ``_attribute`` builds each attribute's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from governance.audit.fairness._attribute import (
    TESTED_METRICS,
    AttributeSettings,
    LL144Columns,
    LL144Input,
    Series,
    Sums,
    between_groups,
    count_columns,
    ll144_table,
    p_values,
    reference_index,
    resampled,
    summaries,
    to_overall,
    to_reference,
)
from governance.audit.fairness._attribute import (
    divide as _divide,
)
from governance.audit.fairness._counts import fractions
from governance.audit.fairness._groups import (
    GroupPlan,
    intersection_mode,
    overall_plan,
    plan_groups,
)
from governance.audit.fairness._inputs import (
    Labels,
    as_numeric,
    code_labels,
    detect_task,
    prepare_columns,
)
from governance.audit.fairness._records import (
    ComparisonRecords,
    GroupColumns,
    collection_paused,
    estimates,
)
from governance.audit.fairness._rows import Rows, canonical_order, row_metrics
from governance.audit.fairness.options import FairnessOptions
from governance.audit.fairness.table import CountTable, RowCells
from governance.errors import InputError
from governance.intervals import Interval, wilson, z_for
from governance.results.common import Estimate
from governance.results.fairness import (
    AttributeResult,
    FairnessResult,
)

if TYPE_CHECKING:
    import pandas as pd

_ROW_RESAMPLE_BUDGET = 250_000_000  # rows x resamples for AUC, Brier and regression (Poisson bootstrap)
_ROW_RESAMPLE_MIN = 200


def _validate_options(
    *, reference: str, n_boot: int, confidence_level: float, min_group_size: int, ll144_rate: str
) -> None:
    if reference not in ("largest", "named", "highest"):
        raise InputError(f"reference must be largest, named or highest, not {reference!r}.")
    if not isinstance(n_boot, int) or n_boot < 0:
        raise InputError(f"n_boot must be a whole number of resamples, 0 or more (got {n_boot!r}).")
    if not 0.0 < confidence_level < 1.0:
        raise InputError(f"confidence_level must lie between 0 and 1, e.g. 0.95 (got {confidence_level!r}).")
    if min_group_size < 0:
        raise InputError(f"min_group_size must be 0 or more (got {min_group_size!r}).")
    if ll144_rate not in ("selection", "scoring"):
        raise InputError(f"ll144_rate must be selection or scoring, not {ll144_rate!r}.")


def compute_fairness(
    *,
    y_pred: Any,
    sensitive: pd.DataFrame,
    y_true: Any = None,
    scores: Any = None,
    sample_weight: Any = None,
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto",
    positive_label: Any = None,
    options: FairnessOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    counts: Any = None,
    **settings: Any,
) -> FairnessResult:
    """Group metrics, comparisons, bootstrap intervals and tests for every sensitive attribute.

    ``y_pred`` / ``y_true`` / ``scores`` / ``sample_weight`` are lists, arrays or Series with one value per
    row of ``sensitive`` (one column per attribute; missing values form an explicit Unknown group), matched
    by position, not by pandas index. ``counts`` (optional, whole numbers of 1 or more): how many identical
    rows each row stands for, as an engine's ``GROUP BY`` returns them; the result equals the one of the rows
    repeated, intervals included. ``options`` (or its fields as keywords, e.g. ``n_boot=200``) say how
    groups are compared. Raises ``InputError`` with one sentence for bad input.
    """
    options = (options or FairnessOptions()).with_settings(settings)
    _check(options)
    ll144_rate = options.ll144_rate
    codes, pred, true, weights = prepare_columns(
        sensitive=sensitive, y_pred=y_pred, y_true=y_true, sample_weight=sample_weight
    )
    n_rows = pred.shape[0]
    score_values = None if scores is None else as_numeric(scores, name="scores", n_rows=n_rows)
    uniques: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if task == "auto":
        task = detect_task(pred, true, uniques)
    if task not in ("binary", "multiclass", "regression"):
        raise InputError(f"task must be auto, binary, multiclass or regression, not {task!r}.")
    if ll144_rate == "scoring" and score_values is None:
        raise InputError("ll144_rate='scoring' needs scores; pass the model's scores or use 'selection'.")
    cells = _row_cells(codes, weights, _counts(counts, n_rows))
    if task == "regression":
        prepared = _regression(cells, pred, true)
    else:
        labels = code_labels(pred, true, task=task, positive_label=positive_label, cache=uniques)
        prepared = _classification(cells, labels[0], labels[1], score_values, task)
    return _compute_with(
        options,
        prepared.table,
        task=task,
        rows=prepared.rows,
        row_kind=prepared.row_kind,
        scoring=None if ll144_rate != "scoring" else _scoring_table(cells, score_values),
        has_scores=score_values is not None,
        progress=progress,
        notes=prepared.notes,
    )


def _counts(counts: Any, n_rows: int) -> np.ndarray | None:
    """``counts`` as float64, or one sentence saying what is wrong with them."""
    if counts is None:
        return None
    values = np.asarray(counts, dtype=np.float64).reshape(-1)
    if values.shape[0] != n_rows:
        raise InputError(
            f"counts has {values.shape[0]:,} values for {n_rows:,} rows; give one count per row."
        )
    if not (np.isfinite(values).all() and (values >= 1).all() and (values == np.floor(values)).all()):
        raise InputError(
            "counts must be whole numbers of 1 or more: how many identical rows each row stands for."
        )
    return values


@dataclass(frozen=True)
class _Cells:
    """The rows' cells for the count table (weights already multiplied by the counts) and for the row metrics."""

    table: RowCells
    weights: np.ndarray | None  # each row's own weight
    counts: np.ndarray | None


def _row_cells(codes: Any, weights: np.ndarray | None, counts: np.ndarray | None) -> _Cells:
    if counts is None:
        return _Cells(RowCells.of(codes, weights), weights, None)
    summed = None if weights is None else weights * counts
    table = replace(
        RowCells.of(codes, summed),
        row_counts=counts,
        squared_weights=None if weights is None else weights * weights * counts,
    )
    return _Cells(table, weights, counts)


@dataclass(frozen=True)
class _Prepared:
    table: CountTable
    rows: Rows | None
    row_kind: str | None
    notes: list[str]


def _regression(cells: _Cells, pred: np.ndarray, true: np.ndarray | None) -> _Prepared:
    n_rows = pred.shape[0]
    pred_numbers = as_numeric(pred, name="y_pred", n_rows=n_rows)
    true_numbers = None if true is None else as_numeric(true, name="y_true", n_rows=n_rows)
    table = cells.table.count(pred_codes=np.zeros(n_rows, dtype=np.int64), true_codes=None, classes=["all"])
    rows = _rows(table, cells, true_numbers, pred_numbers)
    notes = []
    if true_numbers is None:
        notes.append("No labels were given: only the mean prediction per group is reported.")
    return _Prepared(table, rows, "regression", notes)


def _classification(
    cells: _Cells, pred: Labels, true: Labels | None, score_values: np.ndarray | None, task: str
) -> _Prepared:
    table = cells.table.count(
        pred_codes=pred.codes, true_codes=None if true is None else true.codes, classes=pred.classes
    )
    notes = []
    if true is None:
        notes.append(
            "No labels were given: only selection rates and impact ratios are reported, "
            "as in an audit of a vendor's tool."
        )
    rows = None
    if score_values is not None and task == "binary" and true is not None:
        y = true.codes.astype(np.float64)
        rows = _rows(table, cells, y, score_values)
        if score_values.min() < 0.0 or score_values.max() > 1.0:
            notes.append("The scores are not all between 0 and 1, so no Brier score is reported.")
    elif score_values is not None and task == "multiclass":
        notes.append("AUC and Brier score are reported for binary tasks only; the scores were not used.")
    return _Prepared(table, rows, None if rows is None else "scores", notes)


def _scoring_table(cells: _Cells, score_values: np.ndarray | None) -> tuple[CountTable, float] | None:
    """LL144 scoring rates: the count table of scoring above the median score."""
    if score_values is None:
        return None
    median = _median(score_values, cells.counts)
    return cells.table.count(
        pred_codes=(score_values > median).astype(np.int64), true_codes=None, classes=[0, 1]
    ), median


def _median(values: np.ndarray, counts: np.ndarray | None) -> float:
    """``np.median`` of the values, each repeated ``counts`` times (the middle one, or the mean of the two)."""
    if counts is None:
        return float(np.median(values))
    low, high = middle_values(values, counts)
    return (low + high) / 2.0


def middle_values(values: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The two middle values of ``values`` each repeated ``counts`` times (one value twice for an odd total):
    the median is their mean, and LL144's scoring rates count the rows above it."""
    order = np.argsort(values, kind="stable")
    ordered, ends = values[order], np.cumsum(counts[order])
    total = int(ends[-1])
    low = ordered[np.searchsorted(ends, (total - 1) // 2, side="right")]
    high = ordered[np.searchsorted(ends, total // 2, side="right")]
    return float(low), float(high)


def compute_fairness_from_counts(
    table: CountTable,
    *,
    options: FairnessOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    **settings: Any,
) -> FairnessResult:
    """The same result from an already-built count table (classification; no scores, no regression).

    For data read in batches or by another engine: build one ``CountTable`` per batch (``build_count_table``)
    and add them with ``CountTable.combine``; the result equals the in-memory one for the same seed.
    """
    options = (options or FairnessOptions()).with_settings(settings)
    _check(options)
    if options.ll144_rate == "scoring":
        raise InputError(
            "ll144_rate='scoring' needs scores, which a count table does not hold; use 'selection'."
        )
    if table.n_rows == 0:
        raise InputError("The count table is empty; there are no rows to audit.")
    for column, levels, unknown in zip(table.columns, table.levels, table.has_unknown, strict=True):
        if unknown and len(levels) == 1:
            raise InputError(
                f"The sensitive column {column!r} is entirely missing; fill it in or leave it out of the audit."
            )
    task = "binary" if len(table.classes) == 2 else "multiclass"
    notes = []
    if not table.has_labels:
        notes.append(
            "No labels were given: only selection rates and impact ratios are reported, "
            "as in an audit of a vendor's tool."
        )
    return _compute_with(
        options,
        table,
        task=task,
        rows=None,
        row_kind=None,
        scoring=None,
        has_scores=False,
        progress=progress,
        notes=notes,
    )


def _check(options: FairnessOptions) -> None:
    _validate_options(
        reference=options.reference,
        n_boot=options.n_boot,
        confidence_level=options.confidence_level,
        min_group_size=options.min_group_size,
        ll144_rate=options.ll144_rate,
    )


def _compute_with(options: FairnessOptions, table: CountTable, **inputs: Any) -> FairnessResult:
    """``_compute`` with Python's cycle collector paused: the computation makes no cycles, and one full
    collection walking every object of a loaded process cost a sixth of an audit of 2,500 cells."""
    with collection_paused():
        return _compute(table, options, **inputs)


def _rows(table: CountTable, cells: _Cells, y_true: np.ndarray | None, value: np.ndarray) -> Rows:
    """Rows for the non-count metrics, with cell indices into the table's observed cells."""
    row_cells, weights = cells.table.row_cells, cells.weights
    observed = np.bincount(row_cells, minlength=cells.table.n_cells) > 0
    index = np.cumsum(observed) - 1
    rows = Rows(
        cell=index[row_cells],
        weight=np.ones(row_cells.shape[0]) if weights is None else weights,
        y_true=y_true,
        value=value,
        count=cells.counts,
    )
    return canonical_order(rows)


def _compute(
    table: CountTable,
    options: FairnessOptions,
    *,
    task: str,
    rows: Rows | None,
    row_kind: str | None,
    scoring: tuple[CountTable, float] | None,
    has_scores: bool,
    progress: Callable[[int, int], None] | None,
    notes: list[str],
) -> FairnessResult:
    plans = plan_groups(table, intersections=intersection_mode(options.intersections))
    _refuse_empty_groups(table, plans)
    all_plans = [*plans, overall_plan(table)]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(options.seed).spawn(4)]
    series = _count_metrics(table, all_plans, task, options.confidence_level)
    if rows is not None and row_kind is not None:
        plan_rows = [
            plan.aggregate(table.n, axis=0).reshape(plan.n_groups, -1).sum(axis=1) for plan in all_plans
        ]
        row_setup = _RowSetup(rows, row_kind, all_plans, plan_rows, task, options.confidence_level)
        _add_row_metrics(series, row_setup, options.n_boot, streams[2], progress, notes)
    settings = AttributeSettings(
        reference=options.reference,
        reference_groups=options.reference_groups or {},
        min_group_size=options.min_group_size,
        confidence_level=options.confidence_level,
    )
    made = [
        _attribute(view, settings, notes)
        for view in _views(table, plans, series, task, scoring, options.confidence_level)
    ]
    _note_small_and_undefined(made, options.min_group_size, notes)
    attributes = [attribute for attribute, _ in made]
    with collection_paused():
        return FairnessResult(
            task=task,  # type: ignore[arg-type]
            has_labels=table.has_labels or (rows is not None and rows.y_true is not None),
            has_scores=has_scores,
            weighted=table.weighted,
            classes=[str(c) for c in table.classes] if task == "multiclass" else [],
            positive_label=str(table.classes[1]) if task == "binary" else None,
            n_rows=table.n_rows,
            total_weight=table.total_weight,
            overall=_overall_values(table, series, len(all_plans) - 1, task, options.confidence_level),
            attributes=attributes,
            n_boot=options.n_boot,
            confidence_level=options.confidence_level,
            seed=options.seed,
            min_group_size=options.min_group_size,
            notes=list(dict.fromkeys(notes)),  # one per remark, even when every class repeats it
            interval_methods=INTERVAL_METHODS,
        )


_ACCURACY = "accuracy (multiclass)"  # the key of the overall multiclass accuracy among the series


def _positive_classes(table: CountTable, task: str) -> list[int]:
    """The classes whose one-vs-rest metrics are reported (none for regression)."""
    if task == "regression":
        return []
    return [1] if task == "binary" else list(range(len(table.classes)))


def _count_metrics(
    table: CountTable, all_plans: list[GroupPlan], task: str, level: float
) -> dict[tuple[int, int], dict[str, Series]]:
    """series[(plan index, class)][metric]: every count metric over the plan's groups (the overall plan last)."""
    series: dict[tuple[int, int], dict[str, Series]] = {}
    for p, plan in enumerate(all_plans):
        for c in _positive_classes(table, task):
            series[(p, c)] = _count_series(table, plan, c, level)
    if task == "multiclass" and table.has_labels:
        series[(len(all_plans) - 1, -1)] = {_ACCURACY: _multiclass_accuracy(table, all_plans[-1], level)}
    return series


def _overall_values(
    table: CountTable, series: dict[tuple[int, int], dict[str, Series]], overall: int, task: str, level: float
) -> dict[str, Estimate]:
    """Every metric over all rows, with its interval (multiclass keys carry the class: ``tpr[cat]``)."""
    z = z_for(level)
    values: dict[str, Estimate] = {}
    extra: dict[str, Estimate] = {}
    for (p, c), plan_series in sorted(series.items()):
        if p != overall:
            continue
        if c < 0:
            extra["accuracy"] = estimates(_group_interval(plan_series[_ACCURACY], z))[0]
            continue
        suffix = "" if task != "multiclass" else f"[{table.classes[c]}]"
        for name, s in plan_series.items():
            values[name + suffix] = estimates(_group_interval(s, z))[0]
    return {**values, **extra}


def _views(
    table: CountTable,
    plans: list[GroupPlan],
    series: dict[tuple[int, int], dict[str, Series]],
    task: str,
    scoring: tuple[CountTable, float] | None,
    level: float,
) -> list[_View]:
    """One view per attribute (and, for multiclass, per class), in the order of the result."""
    classification = task != "regression"
    overall_index = len(plans)
    views = []
    for p, plan in enumerate(plans):
        scored = None
        if scoring is not None:
            rate = _count_series(scoring[0], plan, 1, level)["selection_rate"]
            scored = (scoring[0], scoring[1], rate)
        for c in _positive_classes(table, task) if classification else [0]:
            views.append(
                _View(
                    table=table,
                    plan=plan,
                    metrics=series.get((p, c), {}),
                    overall=series.get((overall_index, c), {}),
                    positive_class=(None if task != "multiclass" else str(table.classes[c])),
                    class_index=c if classification else None,
                    scoring=scored,
                )
            )
    return views


INTERVAL_METHODS = {
    "rate": "Wilson score interval",
    "difference of two rates": "Newcombe's hybrid score interval",
    "ratio of two rates": "Miettinen-Nurminen score interval",
    "against the most-selected or highest group": (
        "the lowest pairwise lower end against every eligible group; the upper end Bonferroni-adjusted over them"
    ),
    "between groups (max - min, min / max)": (
        "from pairwise intervals: the far end at the plain level, the near-equal end Bonferroni-adjusted over all pairs"
    ),
    "AUC, Brier score, regression metrics": "percentile bootstrap of the rows (Poisson weights); extremes from its standard error",
    "sample weights": "Kish effective counts",
}


def _refuse_empty_groups(table: CountTable, plans: list[GroupPlan]) -> None:
    for plan in plans:
        weight = plan.aggregate(table.w.reshape(table.w.shape[0], -1).sum(axis=1), axis=0)
        empty = [name for name, w in zip(plan.names, weight.tolist(), strict=True) if w <= 0]
        if empty:
            raise InputError(
                f"The group {empty[0]!r} of {plan.attribute!r} is empty: its rows all have sample weight 0; "
                "give them a positive weight or drop those rows."
            )


def _count_series(table: CountTable, plan: GroupPlan, cls: int, level: float) -> dict[str, Series]:
    """Every count metric of class ``cls`` for the plan's groups, with their weighted sums and row counts."""
    weighted = fractions(plan.aggregate(table.w, axis=0), cls, has_labels=table.has_labels)
    squared = fractions(plan.aggregate(table.w2, axis=0), cls, has_labels=table.has_labels)
    plain = fractions(plan.aggregate(table.n, axis=0), cls, has_labels=table.has_labels)
    out: dict[str, Series] = {}
    for name, (top, bottom) in weighted.items():
        sums = Sums(top=top, bottom=bottom, bottom2=squared[name][1], weighted=table.weighted)
        out[name] = Series(
            point=_divide(top, bottom), sums=sums, rows=plain[name][1].astype(np.int64), level=level
        )
    return out


def _multiclass_accuracy(table: CountTable, overall: GroupPlan, level: float) -> Series:
    parts = []
    for array in (table.w, table.w2, table.n):
        grouped = overall.aggregate(array, axis=0)
        parts.append((np.diagonal(grouped, axis1=-2, axis2=-1).sum(axis=-1), grouped.sum(axis=(-2, -1))))
    (top, bottom), (_, squared), (_, rows) = parts
    return Series(
        point=_divide(top, bottom),
        sums=Sums(top=top, bottom=bottom, bottom2=squared, weighted=table.weighted),
        rows=rows.astype(np.int64),
        level=level,
    )


@dataclass(frozen=True)
class _RowSetup:
    """What the resampled (non-count) metrics are computed from."""

    rows: Rows
    kind: str
    plans: list[GroupPlan]
    plan_rows: list[np.ndarray]  # each plan's rows per group (the minimum size is checked against them)
    task: str
    level: float


def _add_row_metrics(
    series: dict[tuple[int, int], dict[str, Series]],
    setup: _RowSetup,
    n_boot: int,
    rng: np.random.Generator,
    progress: Callable[[int, int], None] | None,
    notes: list[str],
) -> None:
    """AUC and Brier score, or the regression metrics, with their Poisson-bootstrap resamples."""
    rows, row_kind = setup.rows, setup.kind
    row_boot = n_boot
    if rows.cell.shape[0] * n_boot > _ROW_RESAMPLE_BUDGET:
        row_boot = max(min(n_boot, _ROW_RESAMPLE_MIN), _ROW_RESAMPLE_BUDGET // rows.cell.shape[0])
        what = "AUC and Brier score" if row_kind == "scores" else "mean prediction, mean target, MAE and RMSE"
        notes.append(
            f"The intervals of {what} come from {row_boot:,} resamples instead of {n_boot:,}: these metrics "
            f"resample all {rows.cell.shape[0]:,} distinct rows each time, which would take too long."
        )
    done = 0

    def advance(step: int) -> None:
        nonlocal done
        done += step
        if progress is not None:
            progress(done, row_boot)

    computed = row_metrics(
        rows=rows, plans=setup.plans, kind=row_kind, n_boot=row_boot, rng=rng, progress=advance
    )
    key_class = 1 if setup.task == "binary" else 0
    for p, metrics_of_plan in enumerate(computed):
        target = series.setdefault((p, key_class), {})
        for name, (point, boot) in metrics_of_plan.items():
            target[name] = Series(
                point=point, boot=boot if row_boot else None, rows=setup.plan_rows[p], level=setup.level
            )


def _group_interval(s: Series, z: float) -> Interval:
    """Each group's own value: a Wilson interval for a rate, the percentile interval otherwise."""
    if s.k is not None and s.n is not None:
        low, high = wilson(s.k, s.n, z)
        return Interval(s.point, low, high)
    return resampled(s.point, s.boot, s.level)


@dataclass(frozen=True)
class _View:
    """One attribute (and, for multiclass, one class) as the computation sees it."""

    table: CountTable
    plan: GroupPlan
    metrics: dict[str, Series]
    overall: dict[str, Series]
    positive_class: str | None
    class_index: int | None
    scoring: tuple[CountTable, float, Series] | None


@dataclass(frozen=True)
class _Sizes:
    """An attribute's groups: unweighted counts per (group, true, predicted), rows and weights per group."""

    n_per_group: np.ndarray
    rows: np.ndarray
    weights: np.ndarray


def _attribute(
    view: _View, settings: AttributeSettings, notes: list[str]
) -> tuple[AttributeResult, GroupColumns]:
    """One attribute's result, its groups' and comparisons' records made when first read (and its groups)."""
    table, plan, metrics = view.table, view.plan, view.metrics
    n_per_group = plan.aggregate(table.n, axis=0)  # (G, T, K) unweighted
    sizes = _Sizes(
        n_per_group=n_per_group,
        rows=n_per_group.reshape(plan.n_groups, -1).sum(axis=1),
        weights=plan.aggregate(table.w, axis=0).reshape(plan.n_groups, -1).sum(axis=1),
    )
    z = z_for(settings.confidence_level)
    order = _display_order(plan)
    fixed_ref = None
    if settings.reference != "highest":
        fixed_ref = reference_index(plan, sizes.weights, n_per_group, settings, notes)
        _note_small_reference(plan, fixed_ref, sizes.rows, settings, notes)

    def tests(name: str, others: np.ndarray, ref: int) -> np.ndarray | None:
        if view.class_index is None or name not in TESTED_METRICS:
            return None
        return p_values(n_per_group, others, ref, name, view.class_index, table.has_labels)

    reference_rows, references = to_reference(plan, metrics, order, fixed_ref, settings, tests)
    known_order = [g for g in order if not plan.is_unknown[g]]
    between, spreads = between_groups(plan, metrics, settings.confidence_level)
    headline = "selection_rate" if "selection_rate" in references else next(iter(metrics), None)
    reference_name = None
    if headline is not None and references.get(headline) is not None:
        reference_name = plan.names[references[headline]]  # type: ignore[index]
    groups = _groups(plan, metrics, sizes, order, settings, z)
    overall_rows = to_overall(plan, metrics, view.overall, known_order, z)
    ll144 = _ll144(view, sizes, settings, known_order)
    later: dict[str, Callable[[], Any]] = {
        "groups": groups,
        "to_reference": ComparisonRecords(reference_rows),
        "to_overall": ComparisonRecords(overall_rows),
    }
    if ll144 is not None:
        later["ll144"] = ll144.table
    result = AttributeResult.with_records_later(
        later,
        attribute=plan.attribute,
        columns=plan.columns,
        is_intersection=plan.is_intersection,
        reference_group=reference_name,
        reference_method=settings.reference,
        between_groups=between,
        summaries=summaries(spreads),
        empty_cells=plan.empty_cells,
        unknown_count=int(sizes.rows[plan.is_unknown].sum()),
        positive_class=view.positive_class,
    )
    return result, groups


def _groups(
    plan: GroupPlan,
    metrics: dict[str, Series],
    sizes: _Sizes,
    order: list[int],
    settings: AttributeSettings,
    z: float,
) -> GroupColumns:
    """Each group's size, metrics with intervals, and the counts behind its rates, in display order."""
    index = np.array(order, dtype=np.int64)
    values = {name: _reordered(_group_interval(s, z), index) for name, s in metrics.items()}
    counts = {
        name: (found[0][index], found[1][index], found[2][index])
        for name, s in metrics.items()
        if (found := count_columns(s)) is not None
    }
    total_w = float(sizes.weights.sum())
    share = sizes.weights / total_w if total_w > 0 else np.zeros(plan.n_groups)
    return GroupColumns(
        names=[plan.names[g] for g in order],
        levels=[plan.levels[g] for g in order],
        rows=sizes.rows[index],
        weights=sizes.weights[index],
        share=share[index],
        is_unknown=plan.is_unknown[index],
        values=values,
        counts=counts,
        below_min_size=sizes.rows[index] < settings.min_group_size,
    )


def _reordered(interval: Interval, index: np.ndarray) -> Interval:
    point = np.asarray(interval.point, dtype=np.float64).reshape(-1)
    low, high = (
        np.broadcast_to(np.asarray(end, dtype=np.float64), point.shape)
        for end in (interval.low, interval.high)
    )
    return Interval(point[index], low[index], high[index])


def _ll144(
    view: _View, sizes: _Sizes, settings: AttributeSettings, known_order: list[int]
) -> LL144Columns | None:
    """The attribute's LL144 table (classification only): selection rates, or scoring rates with scores."""
    if view.class_index is None:
        return None
    plan = view.plan
    if view.scoring is None:
        data = LL144Input(
            rate=view.metrics["selection_rate"],
            n_per_group=sizes.n_per_group,
            cls=view.class_index,
            has_labels=view.table.has_labels,
            group_w=sizes.weights,
            rate_kind="selection",
            median=None,
        )
    else:
        data = LL144Input(
            rate=view.scoring[2],
            n_per_group=plan.aggregate(view.scoring[0].n, axis=0),
            cls=1,
            has_labels=False,
            group_w=sizes.weights,
            rate_kind="scoring",
            median=view.scoring[1],
        )
    return ll144_table(plan, data, settings, known_order)


def _note_small_reference(
    plan: GroupPlan, ref: int | None, group_n: np.ndarray, settings: AttributeSettings, notes: list[str]
) -> None:
    if ref is None or group_n[ref] >= settings.min_group_size:
        return
    what = "named" if settings.reference == "named" else "largest"
    notes.append(
        f"{plan.attribute}: the {what} reference group {plan.names[ref]!r} has only {int(group_n[ref])} row{'' if group_n[ref] == 1 else 's'}, "
        f"fewer than the minimum of {settings.min_group_size}, so comparisons against it cannot decide a rule"
        + ("; name a larger group as the reference." if what == "named" else "; collect more data.")
    )


def _note_small_and_undefined(
    made: list[tuple[AttributeResult, GroupColumns]], min_size: int, notes: list[str]
) -> None:
    small = sorted(
        {
            f"{a.attribute} = {name}"
            for a, groups in made
            for name, below, unknown in zip(
                groups.names, groups.below_min_size.tolist(), groups.is_unknown.tolist(), strict=True
            )
            if below and not unknown
        }
    )
    if small:
        shown = ", ".join(small[:10]) + (" and more" if len(small) > 10 else "")
        notes.append(
            f"{len(small)} group(s) have fewer than {min_size} rows ({shown}); their numbers are "
            "uncertain and rules on them are inconclusive. Collect more data for them if you can."
        )
    undefined = sorted(
        {f"{name} for {a.attribute} = {group}" for a, groups in made for name, group in groups.undefined()}
    )
    if undefined:
        shown = ", ".join(undefined[:6]) + (" and more" if len(undefined) > 6 else "")
        notes.append(
            f"Some rates are undefined because the group has nobody to compute them over ({shown}); they are "
            "shown as n/a and left out of comparisons between groups. fairlearn and scikit-learn would report "
            "0 for them, which would make a gap look larger than the data shows."
        )


def _display_order(plan: GroupPlan) -> list[int]:
    """Groups sorted by their level names, column by column for an intersection, Unknown last.

    The same order as sorting the groups' name tuples in Python, but each column's few distinct names are
    ranked once and the groups sorted by their ranks as arrays: 2,500 cells made 10,000 Python tuples.
    """
    flags = plan.is_unknown.tolist()
    unknown = [g for g, flag in enumerate(flags) if flag]
    known = [g for g, flag in enumerate(flags) if not flag]
    if not all(plan.levels[g] for g in known):  # a group named without levels: Python's own sort
        return sorted(range(plan.n_groups), key=lambda g: (bool(plan.is_unknown[g]), _sort_key(plan, g)))
    keys = []
    for column in reversed(plan.columns):  # np.lexsort sorts by its last key first
        names = [plan.levels[g][column] for g in known]
        rank = {name: position for position, name in enumerate(sorted(set(names)))}
        keys.append(np.fromiter((rank[name] for name in names), dtype=np.int64, count=len(names)))
    ordered = [known[i] for i in np.lexsort(keys).tolist()] if keys else known
    return ordered + sorted(unknown, key=lambda g: _sort_key(plan, g))


def _sort_key(plan: GroupPlan, g: int) -> tuple[str, ...]:
    """Groups sort by their level names (column by column for an intersection)."""
    levels = plan.levels[g]
    return tuple(levels[c] for c in plan.columns) if levels else (plan.names[g],)
