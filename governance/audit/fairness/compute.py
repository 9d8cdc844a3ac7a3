"""From columns (or a count table) to a ``FairnessResult``: metrics, comparisons, intervals, tests.

Bootstrap of the count metrics: a row bootstrap of N rows is a multinomial draw of N over the table's
cells, so 1,000 resamples are one ``Generator.multinomial`` call of shape (1000, cells) and every metric,
comparison and spread is array arithmetic on it; the cost does not depend on N.

With sample weights, a resampled cell holding k rows carries the sum of k weights drawn from that cell.
We use the cell's mean and variance of weights: weight = k * mean + sqrt(k) * sd * Z with Z standard normal
(the central-limit form of the sum, clipped at 0). Without weight variation inside a cell this is exact;
with it, it adds the weight noise that a plain "count x mean weight" scaling would drop.

References are chosen on the point estimates and kept fixed across resamples (a difference "to the
reference" always means the same group); spreads (max - min, min / max) are recomputed in each resample,
as fairlearn does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from governance.audit.fairness._counts import count_metrics, multiclass_accuracy, one_vs_rest
from governance.audit.fairness._groups import JOIN, GroupPlan, overall_plan, plan_groups
from governance.audit.fairness._inputs import (
    as_numeric,
    code_labels,
    detect_task,
    prepare_columns,
)
from governance.audit.fairness._rows import Rows, canonical_order, row_metrics
from governance.audit.fairness._stats import holm, percentile_interval, two_by_two_p_value
from governance.audit.fairness.table import CountTable, cell_codes_from_sensitive, table_from_codes
from governance.errors import InputError
from governance.results.common import Estimate
from governance.results.fairness import (
    AttributeResult,
    FairnessResult,
    LL144Row,
    LL144Table,
)

if TYPE_CHECKING:
    import pandas as pd

TESTED_METRICS = {"selection_rate", "tpr", "fpr"}  # count metrics with a group-vs-reference test
_CHUNK_CELLS = 2_000_000  # resampled cell counts held in memory at once
_BOOT_VALUES = 50_000_000  # resampled values kept per attribute (about 400 MB) before intervals are skipped
_VALUES_PER_GROUP = 60  # about 12 metrics x (group, difference and ratio to reference and to overall)
_ROW_RESAMPLE_BUDGET = 250_000_000  # rows x resamples for AUC, Brier and regression (Poisson bootstrap)
_ROW_RESAMPLE_MIN = 200
LL144_SMALL_SHARE = 0.02


@dataclass
class _Series:
    """One metric for the groups of one plan: point values (G,) and resamples (B, G)."""

    point: np.ndarray
    boot: np.ndarray | None


def _estimate(value: float, low: float | None = None, high: float | None = None) -> Estimate:
    if value is None or not math.isfinite(value):
        return Estimate.model_construct(value=None, low=None, high=None)
    # Already checked: finite floats or None, so the validators can be skipped (thousands per audit).
    return Estimate.model_construct(value=float(value), low=low, high=high)


class _Ticket:
    """Stands for an Estimate until all intervals are computed in one batch."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Intervals:
    """Collects (point, resamples) blocks and computes every percentile interval in one call.

    ``many`` and ``one`` hand out tickets; ``resolve`` computes the intervals and ``fill`` replaces the
    tickets in a nested structure by Estimates (hundreds of small quantile calls would dominate the time).
    """

    def __init__(self, confidence_level: float, n_boot: int) -> None:
        self.level = confidence_level
        self.n_boot = n_boot
        self.points: list[np.ndarray] = []
        self.boots: list[np.ndarray | None] = []
        self.count = 0
        self.estimates: list[Estimate] = []

    def many(self, point: np.ndarray, boot: np.ndarray | None) -> list[_Ticket]:
        point = np.asarray(point, dtype=np.float64).reshape(-1)
        self.points.append(point)
        self.boots.append(None if boot is None or boot.shape[0] == 0 else boot.reshape(boot.shape[0], -1))
        tickets = [_Ticket(self.count + i) for i in range(point.shape[0])]
        self.count += point.shape[0]
        return tickets

    def one(self, point: float, boot: np.ndarray | None) -> _Ticket:
        return self.many(np.array([point]), None if boot is None else boot.reshape(-1, 1))[0]

    def resolve(self) -> None:
        if not self.points:
            return
        points = np.concatenate(self.points)
        low = np.full(points.shape[0], np.nan)
        high = np.full(points.shape[0], np.nan)
        starts = np.cumsum([0, *(p.shape[0] for p in self.points)])
        by_size: dict[int, list[int]] = {}  # blocks grouped by their number of resamples
        for i, b in enumerate(self.boots):
            if b is not None:
                by_size.setdefault(b.shape[0], []).append(i)
        for with_boot in by_size.values():
            columns = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in with_boot])
            blocks = [b for b in (self.boots[i] for i in with_boot) if b is not None]
            block_low, block_high = percentile_interval(np.concatenate(blocks, axis=1), self.level)
            low[columns], high[columns] = block_low, block_high
        self.estimates = [
            _estimate(v, _finite(lo), _finite(hi))
            for v, lo, hi in zip(points.tolist(), low.tolist(), high.tolist(), strict=True)
        ]

    def fill(self, structure: Any) -> Any:
        if isinstance(structure, _Ticket):
            return self.estimates[structure.index]
        if isinstance(structure, dict):
            return {key: self.fill(value) for key, value in structure.items()}
        if isinstance(structure, list):
            return [self.fill(value) for value in structure]
        return structure


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom != 0, top / np.where(bottom != 0, bottom, 1.0), np.nan)


def _spread(values: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max - min, min / max) over the known groups along the last axis, ignoring undefined values."""
    part = values[..., known]
    if part.shape[-1] == 0:
        shape = part.shape[:-1]
        return np.full(shape, np.nan), np.full(shape, np.nan)
    high = np.fmax.reduce(part, axis=-1)
    low = np.fmin.reduce(part, axis=-1)
    return high - low, _divide(low, high)


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
    reference: Literal["largest", "named", "highest"] = "largest",
    reference_groups: dict[str, str] | None = None,
    intersections: bool = True,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
    min_group_size: int = 30,
    progress: Callable[[int, int], None] | None = None,
    ll144_rate: Literal["selection", "scoring"] = "selection",
) -> FairnessResult:
    """Group metrics, comparisons, bootstrap intervals and tests for every sensitive attribute.

    ``y_pred`` / ``y_true`` / ``scores`` / ``sample_weight`` are lists, arrays or Series with one value per
    row of ``sensitive`` (one column per attribute; missing values form an explicit Unknown group), matched
    by position, not by pandas index.
    Raises ``InputError`` with one sentence for bad input.
    """
    _validate_options(
        reference=reference,
        n_boot=n_boot,
        confidence_level=confidence_level,
        min_group_size=min_group_size,
        ll144_rate=ll144_rate,
    )
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

    row_cells, cells, n_cells = cell_codes_from_sensitive(codes)
    notes: list[str] = []
    rows: Rows | None = None
    row_kind: str | None = None
    if task == "regression":
        pred_numbers = as_numeric(pred, name="y_pred", n_rows=n_rows)
        true_numbers = None if true is None else as_numeric(true, name="y_true", n_rows=n_rows)
        table = table_from_codes(
            codes=codes,
            row_cells=row_cells,
            cells=cells,
            n_cells=n_cells,
            pred_codes=np.zeros(n_rows, dtype=np.int64),
            true_codes=None,
            classes=["all"],
            weights=weights,
        )
        rows = _rows(table, row_cells, n_cells, weights, true_numbers, pred_numbers)
        row_kind = "regression"
        if true_numbers is None:
            notes.append("No labels were given: only the mean prediction per group is reported.")
    else:
        pred_labels, true_labels, _ = code_labels(
            pred, true, task=task, positive_label=positive_label, cache=uniques
        )
        table = table_from_codes(
            codes=codes,
            row_cells=row_cells,
            cells=cells,
            n_cells=n_cells,
            pred_codes=pred_labels.codes,
            true_codes=None if true_labels is None else true_labels.codes,
            classes=pred_labels.classes,
            weights=weights,
        )
        if true_labels is None:
            notes.append(
                "No labels were given: only selection rates and impact ratios are reported, "
                "as in an audit of a vendor's tool."
            )
        if score_values is not None and task == "binary" and true_labels is not None:
            rows = _rows(
                table, row_cells, n_cells, weights, true_labels.codes.astype(np.float64), score_values
            )
            row_kind = "scores"
            if score_values.min() < 0.0 or score_values.max() > 1.0:
                notes.append("The scores are not all between 0 and 1, so no Brier score is reported.")
        elif score_values is not None and task == "multiclass":
            notes.append("AUC and Brier score are reported for binary tasks only; the scores were not used.")
    scoring = None
    if ll144_rate == "scoring" and score_values is not None:
        median = float(np.median(score_values))
        scoring = (
            table_from_codes(
                codes=codes,
                row_cells=row_cells,
                cells=cells,
                n_cells=n_cells,
                pred_codes=(score_values > median).astype(np.int64),
                true_codes=None,
                classes=[0, 1],
                weights=weights,
            ),
            median,
        )
    return _compute(
        table,
        task=task,
        rows=rows,
        row_kind=row_kind,
        scoring=scoring,
        has_scores=score_values is not None,
        reference=reference,
        reference_groups=reference_groups,
        intersections=intersections,
        n_boot=n_boot,
        confidence_level=confidence_level,
        seed=seed,
        min_group_size=min_group_size,
        progress=progress,
        notes=notes,
    )


def compute_fairness_from_counts(
    table: CountTable,
    *,
    reference: Literal["largest", "named", "highest"] = "largest",
    reference_groups: dict[str, str] | None = None,
    intersections: bool = True,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
    min_group_size: int = 30,
    progress: Callable[[int, int], None] | None = None,
) -> FairnessResult:
    """The same result from an already-built count table (classification; no scores, no regression).

    For data read in batches or by another engine: build one ``CountTable`` per batch (``build_count_table``)
    and add them with ``CountTable.combine``; the result equals the in-memory one for the same seed.
    """
    _validate_options(
        reference=reference,
        n_boot=n_boot,
        confidence_level=confidence_level,
        min_group_size=min_group_size,
        ll144_rate="selection",
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
    return _compute(
        table,
        task=task,
        rows=None,
        row_kind=None,
        scoring=None,
        has_scores=False,
        reference=reference,
        reference_groups=reference_groups,
        intersections=intersections,
        n_boot=n_boot,
        confidence_level=confidence_level,
        seed=seed,
        min_group_size=min_group_size,
        progress=progress,
        notes=notes,
    )


def _rows(
    table: CountTable,
    row_cells: np.ndarray,
    n_cells: int,
    weights: np.ndarray | None,
    y_true: np.ndarray | None,
    value: np.ndarray,
) -> Rows:
    """Rows for the non-count metrics, with cell indices into the table's observed cells."""
    observed = np.bincount(row_cells, minlength=n_cells) > 0
    index = np.cumsum(observed) - 1
    rows = Rows(
        cell=index[row_cells],
        weight=np.ones(row_cells.shape[0]) if weights is None else weights,
        y_true=y_true,
        value=value,
    )
    return canonical_order(rows)


def _resampled_tables(
    table: CountTable,
    *,
    n_boot: int,
    rng: np.random.Generator,
    weight_rng: np.random.Generator,
) -> Any:
    """Yield resampled weighted count tables, shape (b, C, T, K), in chunks of resamples."""
    counts = table.n.reshape(-1)
    total = int(counts.sum())
    probabilities = counts / total
    size = counts.shape[0]
    chunk = max(1, min(n_boot, _CHUNK_CELLS // max(size, 1)))
    if table.weighted:
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(counts > 0, table.w.reshape(-1) / np.maximum(counts, 1), 0.0)
            spread = np.sqrt(np.maximum(table.w2.reshape(-1) / np.maximum(counts, 1) - mean * mean, 0.0))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        drawn = rng.multinomial(total, probabilities, size=b)
        if table.weighted:
            noise = weight_rng.standard_normal(size=drawn.shape)
            resampled = np.maximum(drawn * mean + np.sqrt(drawn) * spread * noise, 0.0)
        else:
            resampled = drawn.astype(np.float64)
        yield resampled.reshape((b, *table.n.shape))
        done += b


def _compute(
    table: CountTable,
    *,
    task: str,
    rows: Rows | None,
    row_kind: str | None,
    scoring: tuple[CountTable, float] | None,
    has_scores: bool,
    reference: str,
    reference_groups: dict[str, str] | None,
    intersections: bool,
    n_boot: int,
    confidence_level: float,
    seed: int,
    min_group_size: int,
    progress: Callable[[int, int], None] | None,
    notes: list[str],
) -> FairnessResult:
    plans = plan_groups(table, intersections=intersections)
    for plan in plans:
        weight = plan.aggregate(table.w.reshape(table.w.shape[0], -1).sum(axis=1), axis=0)
        empty = [name for name, w in zip(plan.names, weight.tolist(), strict=True) if w <= 0]
        if empty:
            raise InputError(
                f"The group {empty[0]!r} of {plan.attribute!r} is empty: its rows all have sample weight 0; "
                "give them a positive weight or drop those rows."
            )
    overall = overall_plan(table)
    all_plans = [*plans, overall]
    classification = task != "regression"
    positive_classes = [1] if task == "binary" else list(range(len(table.classes))) if classification else []
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    boot_plans = [
        p for p, plan in enumerate(all_plans) if plan.n_groups * n_boot * _VALUES_PER_GROUP <= _BOOT_VALUES
    ]
    for p, plan in enumerate(all_plans):
        if n_boot and p not in boot_plans:
            notes.append(
                f"{plan.attribute} has {plan.n_groups:,} groups, too many to resample {n_boot:,} times in bounded "
                "memory: its numbers have no intervals. Use fewer sensitive columns or a lower n_boot."
            )
    row_boot = n_boot
    if rows is not None and rows.cell.shape[0] * n_boot > _ROW_RESAMPLE_BUDGET:
        row_boot = max(min(n_boot, _ROW_RESAMPLE_MIN), _ROW_RESAMPLE_BUDGET // rows.cell.shape[0])
        what = "AUC and Brier score" if row_kind == "scores" else "mean prediction, mean target, MAE and RMSE"
        notes.append(
            f"The intervals of {what} come from {row_boot:,} resamples instead of {n_boot:,}: these metrics "
            f"resample all {rows.cell.shape[0]:,} rows each time, which would take too long."
        )
    routes = (1 if classification else 0) + (1 if scoring else 0)
    total_steps = n_boot * routes + (row_boot if rows is not None else 0)
    done_steps = 0

    def advance(step: int) -> None:
        nonlocal done_steps
        done_steps += step
        if progress is not None:
            progress(done_steps, total_steps)

    # series[(plan index, class)][metric] -> _Series over the plan's groups
    series: dict[tuple[int, int], dict[str, _Series]] = {}
    extra_overall: dict[str, _Series] = {}
    if classification:
        point_tables = [plan.aggregate(table.w, axis=0) for plan in all_plans]
        for p, grouped in enumerate(point_tables):
            for c in positive_classes:
                series[(p, c)] = {
                    name: _Series(values, None)
                    for name, values in count_metrics(grouped, c, has_labels=table.has_labels).items()
                }
        boot_parts: dict[tuple[int, int, str], list[np.ndarray]] = {}
        accuracy_parts: list[np.ndarray] = []
        if n_boot:
            for resampled in _resampled_tables(table, n_boot=n_boot, rng=streams[0], weight_rng=streams[1]):
                for p in boot_plans:
                    plan = all_plans[p]
                    grouped = plan.aggregate(resampled, axis=1)
                    for c in positive_classes:
                        for name, values in count_metrics(grouped, c, has_labels=table.has_labels).items():
                            boot_parts.setdefault((p, c, name), []).append(values)
                    if task == "multiclass" and table.has_labels and plan is overall:
                        accuracy_parts.append(multiclass_accuracy(grouped)[:, 0])
                advance(resampled.shape[0])
            for (p, c, name), parts in boot_parts.items():
                series[(p, c)][name].boot = np.concatenate(parts, axis=0)
        if task == "multiclass" and table.has_labels:
            extra_overall["accuracy"] = _Series(
                multiclass_accuracy(point_tables[-1]),
                np.concatenate(accuracy_parts)[:, None] if accuracy_parts else None,
            )
    if rows is not None and row_kind is not None:
        computed = row_metrics(
            rows=rows,
            plans=[all_plans[p] for p in boot_plans],
            kind=row_kind,
            n_boot=row_boot,
            rng=streams[2],
            progress=advance,
        )
        no_boot = [p for p in range(len(all_plans)) if p not in boot_plans]
        computed += row_metrics(
            rows=rows, plans=[all_plans[p] for p in no_boot], kind=row_kind, n_boot=0, rng=streams[2]
        )
        key_class = 1 if task == "binary" else 0
        for p, metrics_of_plan in zip([*boot_plans, *no_boot], computed, strict=True):
            target = series.setdefault((p, key_class), {})
            for name, (point, boot) in metrics_of_plan.items():
                target[name] = _Series(point, boot if n_boot and p in boot_plans else None)

    intervals = _Intervals(confidence_level, n_boot)
    overall_index = len(all_plans) - 1
    overall_values: dict[str, Any] = {}
    for (p, c), plan_series in sorted(series.items()):
        if p != overall_index:
            continue
        suffix = "" if task != "multiclass" else f"[{table.classes[c]}]"
        for name, s in plan_series.items():
            overall_values[name + suffix] = intervals.one(
                float(s.point[0]), None if s.boot is None else s.boot[:, 0]
            )
    for name, s in extra_overall.items():
        overall_values[name] = intervals.one(float(s.point[0]), None if s.boot is None else s.boot[:, 0])

    scoring_series: dict[int, _Series] = {}
    if scoring is not None:
        scoring_table, _ = scoring
        for p, plan in enumerate(plans):
            point = count_metrics(plan.aggregate(scoring_table.w, axis=0), 1, has_labels=False)[
                "selection_rate"
            ]
            scoring_series[p] = _Series(point, None)
        if n_boot:
            scoring_parts: dict[int, list[np.ndarray]] = {}
            for resampled in _resampled_tables(
                scoring_table, n_boot=n_boot, rng=streams[3], weight_rng=streams[3]
            ):
                for p in boot_plans:
                    if p >= len(plans):
                        continue
                    grouped = plans[p].aggregate(resampled, axis=1)
                    scoring_parts.setdefault(p, []).append(
                        count_metrics(grouped, 1, has_labels=False)["selection_rate"]
                    )
                advance(resampled.shape[0])
            for p, chunks in scoring_parts.items():
                scoring_series[p].boot = np.concatenate(chunks, axis=0)

    raw_attributes: list[dict[str, Any]] = []
    classes_for_views = positive_classes if classification else [0]
    for p, plan in enumerate(plans):
        for c in classes_for_views:
            raw_attributes.append(
                _attribute(
                    table,
                    plan,
                    series.get((p, c), {}),
                    series.get((overall_index, c), {}),
                    intervals=intervals,
                    reference=reference,
                    reference_groups=reference_groups or {},
                    positive_class=(None if task != "multiclass" else str(table.classes[c])),
                    class_index=c if classification else None,
                    min_group_size=min_group_size,
                    scoring=None if scoring is None else (scoring[0], scoring[1], scoring_series[p]),
                    notes=notes,
                )
            )
    intervals.resolve()
    attributes = [AttributeResult.model_validate(intervals.fill(raw)) for raw in raw_attributes]
    overall_values = intervals.fill(overall_values)
    small = sorted(
        {
            f"{a.attribute} = {g.group}"
            for a in attributes
            for g in a.groups
            if g.below_min_size and not g.is_unknown
        }
    )
    if small:
        shown = ", ".join(small[:10]) + (" and more" if len(small) > 10 else "")
        notes.append(
            f"{len(small)} group(s) have fewer than {min_group_size} rows ({shown}); their numbers are "
            "uncertain and rules on them are inconclusive. Collect more data for them if you can."
        )
    return FairnessResult(
        task=task,  # type: ignore[arg-type]
        has_labels=table.has_labels or (rows is not None and rows.y_true is not None),
        has_scores=has_scores,
        weighted=table.weighted,
        classes=[str(c) for c in table.classes] if task == "multiclass" else [],
        positive_label=str(table.classes[1]) if task == "binary" else None,
        n_rows=table.n_rows,
        total_weight=table.total_weight,
        overall=overall_values,
        attributes=attributes,
        n_boot=n_boot,
        confidence_level=confidence_level,
        seed=seed,
        min_group_size=min_group_size,
        notes=list(dict.fromkeys(notes)),  # one per remark, even when every class repeats it
    )


def _reference_index(
    plan: GroupPlan,
    weights: np.ndarray,
    *,
    reference: str,
    reference_groups: dict[str, str],
    notes: list[str],
) -> int | None:
    """Index of the reference group for ``largest`` and ``named`` (``highest`` is chosen per metric)."""
    known = ~plan.is_unknown
    if not known.any():
        return None
    if reference == "named":
        wanted = reference_groups.get(plan.attribute)
        if wanted is None and plan.is_intersection and all(c in reference_groups for c in plan.columns):
            wanted = JOIN.join(reference_groups[c] for c in plan.columns)
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
    masked = np.where(known, weights, -np.inf)
    return int(np.argmax(masked))


def _attribute(
    table: CountTable,
    plan: GroupPlan,
    metrics: dict[str, _Series],
    overall_metrics: dict[str, _Series],
    *,
    intervals: _Intervals,
    reference: str,
    reference_groups: dict[str, str],
    positive_class: str | None,
    class_index: int | None,
    min_group_size: int,
    scoring: tuple[CountTable, float, _Series] | None,
    notes: list[str],
) -> dict[str, Any]:
    n_per_group = plan.aggregate(table.n, axis=0)  # (G, T, K) unweighted
    w_per_group = plan.aggregate(table.w, axis=0)
    group_n = n_per_group.reshape(plan.n_groups, -1).sum(axis=1)
    group_w = w_per_group.reshape(plan.n_groups, -1).sum(axis=1)
    total_w = float(group_w.sum())
    known = ~plan.is_unknown
    names = list(metrics)

    estimates = {name: intervals.many(s.point, s.boot) for name, s in metrics.items()}
    groups = [
        dict(
            group=plan.names[g],
            levels=plan.levels[g],
            n=int(group_n[g]),
            weight=float(group_w[g]),
            share=float(group_w[g] / total_w) if total_w > 0 else 0.0,
            is_unknown=bool(plan.is_unknown[g]),
            metrics={name: estimates[name][g] for name in names},
            below_min_size=bool(group_n[g] < min_group_size),
        )
        for g in range(plan.n_groups)
    ]
    order = sorted(range(plan.n_groups), key=lambda g: (bool(plan.is_unknown[g]), _sort_key(plan, g)))
    groups = [groups[g] for g in order]

    fixed_ref = None
    if reference != "highest":
        fixed_ref = _reference_index(
            plan, group_w, reference=reference, reference_groups=reference_groups, notes=notes
        )
    references: dict[str, int | None] = {}
    for name, s in metrics.items():
        if reference == "highest":
            values = np.where(known & ~np.isnan(s.point), s.point, -np.inf)
            references[name] = int(np.argmax(values)) if np.isfinite(values).any() else None
        else:
            references[name] = fixed_ref

    to_reference: list[dict[str, Any]] = []
    for name, s in metrics.items():
        ref = references[name]
        if ref is None:
            continue
        others = [g for g in order if known[g] and g != ref]
        if not others:
            continue
        diff_point = s.point[others] - s.point[ref]
        ratio_point = _divide(s.point[others], np.full(len(others), s.point[ref]))
        diff_boot = ratio_boot = None
        if s.boot is not None:
            diff_boot = s.boot[:, others] - s.boot[:, [ref]]
            ratio_boot = _divide(s.boot[:, others], np.broadcast_to(s.boot[:, [ref]], diff_boot.shape))
        diffs = intervals.many(diff_point, diff_boot)
        ratios = intervals.many(ratio_point, ratio_boot)
        p_values: list[float | None] = [None] * len(others)
        if class_index is not None and name in TESTED_METRICS:
            p_values = [_p_value(n_per_group, g, ref, name, class_index, table.has_labels) for g in others]
        adjusted = holm(p_values) if any(p is not None for p in p_values) else p_values
        for i, g in enumerate(others):
            to_reference.append(
                dict(
                    metric=name,
                    group=plan.names[g],
                    reference=plan.names[ref],
                    difference=diffs[i],
                    ratio=ratios[i],
                    p_value=p_values[i],
                    p_value_holm=adjusted[i],
                )
            )

    to_overall: list[dict[str, Any]] = []
    known_order = [g for g in order if known[g]]
    for name, s in metrics.items():
        if name not in overall_metrics or not known_order:
            continue
        o = overall_metrics[name]
        diff_point = s.point[known_order] - o.point[0]
        ratio_point = _divide(s.point[known_order], np.full(len(known_order), o.point[0]))
        diff_boot = ratio_boot = None
        if s.boot is not None and o.boot is not None:
            diff_boot = s.boot[:, known_order] - o.boot[:, [0]]
            ratio_boot = _divide(s.boot[:, known_order], np.broadcast_to(o.boot[:, [0]], diff_boot.shape))
        diffs = intervals.many(diff_point, diff_boot)
        ratios = intervals.many(ratio_point, ratio_boot)
        for i, g in enumerate(known_order):
            to_overall.append(
                dict(
                    metric=name,
                    group=plan.names[g],
                    reference="overall",
                    difference=diffs[i],
                    ratio=ratios[i],
                )
            )

    between: list[dict[str, Any]] = []
    spread_boot: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    spread_point: dict[str, tuple[float, float]] = {}
    for name, s in metrics.items():
        d, r = _spread(s.point, known)
        spread_point[name] = (float(d), float(r))
        if s.boot is not None:
            spread_boot[name] = _spread(s.boot, known)
        values = np.where(known & ~np.isnan(s.point), s.point, np.nan)
        defined = np.isfinite(values).any()
        between.append(
            dict(
                metric=name,
                difference=intervals.one(float(d), spread_boot[name][0] if name in spread_boot else None),
                ratio=intervals.one(float(r), spread_boot[name][1] if name in spread_boot else None),
                min_group=plan.names[int(np.nanargmin(values))] if defined else None,
                max_group=plan.names[int(np.nanargmax(values))] if defined else None,
            )
        )

    summaries = _summaries(spread_point, spread_boot, intervals)
    ll144 = None
    if class_index is not None:
        ll144 = _ll144(
            plan,
            metrics["selection_rate"] if scoring is None else scoring[2],
            n_per_group if scoring is None else plan.aggregate(scoring[0].n, axis=0),
            class_index if scoring is None else 1,
            has_labels=table.has_labels if scoring is None else False,
            group_w=group_w,
            rate_kind="selection" if scoring is None else "scoring",
            median=None if scoring is None else scoring[1],
            intervals=intervals,
        )
    reference_name = None
    headline = "selection_rate" if "selection_rate" in references else (names[0] if names else None)
    if headline is not None and references.get(headline) is not None:
        reference_name = plan.names[references[headline]]  # type: ignore[index]
    return dict(
        attribute=plan.attribute,
        columns=plan.columns,
        is_intersection=plan.is_intersection,
        reference_group=reference_name,
        reference_method=reference,
        groups=groups,
        to_reference=to_reference,
        to_overall=to_overall,
        between_groups=between,
        summaries=summaries,
        empty_cells=plan.empty_cells,
        unknown_count=int(group_n[plan.is_unknown].sum()),
        ll144=ll144,
        positive_class=positive_class,
    )


def _sort_key(plan: GroupPlan, g: int) -> tuple[str, ...]:
    """Groups sort by their level names (column by column for an intersection)."""
    levels = plan.levels[g]
    return tuple(levels[c] for c in plan.columns) if levels else (plan.names[g],)


def _p_value(
    n_per_group: np.ndarray, g: int, ref: int, metric: str, cls: int, has_labels: bool
) -> float | None:
    """Fisher exact or chi-square test of group g against the reference, on unweighted row counts."""
    if metric == "selection_rate":
        if has_labels:
            tp, fn, fp, tn = one_vs_rest(n_per_group[[g, ref]], cls, has_labels=True)
            selected, total = tp + fp, tp + fn + fp + tn
        else:
            selected, total = one_vs_rest(n_per_group[[g, ref]], cls, has_labels=False)
        yes, no = selected, total - selected
    else:
        tp, fn, fp, tn = one_vs_rest(n_per_group[[g, ref]], cls, has_labels=True)
        yes, no = (tp, fn) if metric == "tpr" else (fp, tn)
    return two_by_two_p_value(int(yes[0]), int(no[0]), int(yes[1]), int(no[1]))


def _summaries(
    point: dict[str, tuple[float, float]],
    boot: dict[str, tuple[np.ndarray, np.ndarray]],
    intervals: _Intervals,
) -> dict[str, Any]:
    """fairlearn's summaries: demographic parity, equalized odds (worst of TPR and FPR), equal opportunity."""
    out: dict[str, Any] = {}

    def get(metric: str, part: int) -> np.ndarray | None:
        return boot[metric][part] if metric in boot else None

    if "selection_rate" in point:
        out["demographic_parity_difference"] = intervals.one(
            point["selection_rate"][0], get("selection_rate", 0)
        )
        out["demographic_parity_ratio"] = intervals.one(point["selection_rate"][1], get("selection_rate", 1))
    if "tpr" in point and "fpr" in point:
        tpr, fpr = point["tpr"], point["fpr"]
        diff_boot = ratio_boot = None
        if "tpr" in boot and "fpr" in boot:
            diff_boot = np.fmax(boot["tpr"][0], boot["fpr"][0])
            ratio_boot = np.fmin(boot["tpr"][1], boot["fpr"][1])
        out["equalized_odds_difference"] = intervals.one(float(np.fmax(tpr[0], fpr[0])), diff_boot)
        out["equalized_odds_ratio"] = intervals.one(float(np.fmin(tpr[1], fpr[1])), ratio_boot)
        out["equal_opportunity_difference"] = intervals.one(tpr[0], get("tpr", 0))
        out["equal_opportunity_ratio"] = intervals.one(tpr[1], get("tpr", 1))
    return out


def _ll144(
    plan: GroupPlan,
    rate: _Series,
    n_per_group: np.ndarray,
    cls: int,
    *,
    has_labels: bool,
    group_w: np.ndarray,
    rate_kind: str,
    median: float | None,
    intervals: _Intervals,
) -> LL144Table:
    """NYC LL144 table: rate per category, impact ratio against the most-selected category.

    The most-selected category is chosen among categories with at least 2 % of the known rows (the rule
    lets an auditor exclude smaller ones); smaller categories are still listed, flagged, with their ratio.
    """
    known = ~plan.is_unknown
    if has_labels:
        tp, fn, fp, tn = one_vs_rest(n_per_group, cls, has_labels=True)
        selected, total = tp + fp, tp + fn + fp + tn
    else:
        selected, total = one_vs_rest(n_per_group, cls, has_labels=False)
    known_w = float(group_w[known].sum())
    share = np.where(known, group_w / known_w if known_w > 0 else 0.0, 0.0)
    eligible = known & (share >= LL144_SMALL_SHARE) & ~np.isnan(rate.point)
    if not eligible.any():
        eligible = known & ~np.isnan(rate.point)
    ref: int | None = None
    if eligible.any():
        ref = int(np.argmax(np.where(eligible, rate.point, -np.inf)))
    ratio_point = np.full(plan.n_groups, np.nan)
    low = high = np.full(plan.n_groups, np.nan)
    if ref is not None:
        ratio_point = _divide(rate.point, np.full(plan.n_groups, rate.point[ref]))
        if rate.boot is not None:
            ratio_boot = _divide(rate.boot, np.broadcast_to(rate.boot[:, [ref]], rate.boot.shape))
            low, high = percentile_interval(ratio_boot, intervals.level)
    order = sorted(np.flatnonzero(known).tolist(), key=lambda g: _sort_key(plan, g))
    rows = [
        LL144Row(
            category=plan.names[g],
            n=int(total[g]),
            selected=int(selected[g]),
            rate=_finite(float(rate.point[g])),
            impact_ratio=_finite(float(ratio_point[g])),
            impact_ratio_low=_finite(float(low[g])),
            impact_ratio_high=_finite(float(high[g])),
            share=float(share[g]),
            under_two_percent=bool(share[g] < LL144_SMALL_SHARE),
        )
        for g in order
    ]
    return LL144Table(
        attribute=plan.attribute,
        rate_kind=rate_kind,  # type: ignore[arg-type]
        median_score=median,
        rows=rows,
        most_selected=None if ref is None else plan.names[ref],
        unknown_count=int(total[plan.is_unknown].sum()),
    )
