"""Scored rows kept once per distinct combination, with their counts, in bounded memory.

An audit of a table scores its rows in batches (or reads an engine's ``GROUP BY``); AUC, the Brier score and the
regression metrics need row-level values, but not every row: identical rows are kept once with their count
(``compute_fairness(counts=...)`` gives the numbers of the rows repeated). Scores of a continuous model are
mostly distinct, so past ``limit`` distinct rows the amounts (scores, weights, and a regression's predictions and
outcomes) are rounded to fewer significant bits, step by step, until the rows fit: memory stays bounded whatever
the table's size, and the error this costs is bounded and stated (:meth:`DistinctRows.rounding`). The rounding
truncates each value's binary mantissa, so rounding to fewer bits is the same from the value or from an already
rounded one: the final precision is the finest at which the whole table fits, whatever the order of the batches.
Weights are summed exactly per kept row, so every count and rate stays exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

DISTINCT_LIMIT = 500_000  # distinct rows kept before amounts are rounded (about 40 MB of keys and counts)
EXACT_BITS = 52  # a float64's whole mantissa: nothing rounded
BITS_LADDER = (30, 24, 20, *range(18, 3, -1))  # then one bit fewer at a time; never below 4
LABEL_VALUES = (
    1001  # distinct label values kept for the task's check (more: amounts, as the engine path reads)
)
COUNT, WEIGHT_SUM = "\x1fcount", "\x1fweight"  # no column of a table is named so (they start with a control)


@dataclass(frozen=True)
class ScoredColumns:
    """Which column plays which part in the rows handed to :class:`DistinctRows`."""

    sensitive: Sequence[str]
    predictions: str
    target: str | None = None
    scores: str | None = None
    weights: str | None = None

    @property
    def keys(self) -> list[str]:
        named = (self.target, self.predictions, self.scores, self.weights)
        return list(dict.fromkeys([*self.sensitive, *(c for c in named if c)]))


@dataclass(frozen=True)
class Rounding:
    """What rounding cost: the bits kept, and the largest possible error of each metric it touches."""

    bits: int
    bounds: dict[str, float]  # metric -> largest possible difference from its exact value, in any group
    worst_group: dict[str, str]  # metric -> the group where that bound is reached


@dataclass
class _Labels:
    """Distinct raw values of a label column (up to LABEL_VALUES), or one fractional value if any."""

    values: dict[Any, None] = field(default_factory=dict)
    fractional: Any = None

    def add(self, column: pd.Series) -> None:
        if self.fractional is not None:
            return
        if column.dtype.kind == "f":
            array = column.to_numpy()
            finite = np.isfinite(array)
            fractional = finite & (array != np.floor(np.where(finite, array, 0.0)))
            if fractional.any():
                self.fractional = float(array[np.argmax(fractional)])
                return
        if len(self.values) <= LABEL_VALUES:
            for value in column.drop_duplicates().tolist()[: LABEL_VALUES + 1]:
                self.values.setdefault(value, None)

    def distinct(self) -> list[Any]:
        if self.fractional is not None:
            return [self.fractional]
        return list(self.values)[: LABEL_VALUES + 1]


class DistinctRows:
    """Rows added batch by batch, kept once per distinct combination of ``columns.keys`` with their counts."""

    def __init__(self, columns: ScoredColumns, *, limit: int | None = None) -> None:
        self.columns = columns
        self.limit = DISTINCT_LIMIT if limit is None else limit
        self.bits = EXACT_BITS
        self.n_rows = 0
        self._kept: pd.DataFrame | None = None
        self._pending: list[pd.DataFrame] = []
        self._pending_rows = 0
        self._labels = {c: _Labels() for c in (columns.predictions, columns.target) if c}
        self._count, self._weight_sum = free_name(COUNT, columns.keys), free_name(WEIGHT_SUM, columns.keys)
        self._rounded_columns: list[str] = []  # the amounts already rounded to ``bits``

    def add(self, frame: pd.DataFrame, counts: np.ndarray | None = None) -> None:
        """Add rows (``counts``: how many rows each stands for, as from a ``GROUP BY``; else one each)."""
        keys = self.columns.keys
        part = frame[keys].copy()
        n = np.ones(len(part), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        for column, labels in self._labels.items():
            labels.add(part[column])
        self._round_new_amounts()
        part[self._count] = n
        if self.columns.weights:
            part[self._weight_sum] = part[self.columns.weights].to_numpy(dtype=np.float64) * n
        self.n_rows += int(n.sum())
        self._pending.append(self._grouped(self._rounded(part)))
        self._pending_rows += len(self._pending[-1])
        if self._pending_rows + (0 if self._kept is None else len(self._kept)) > self.limit:
            self._merge()

    def label_values(self, column: str) -> list[Any]:
        """The column's distinct raw values for the task's check (``check_labels``), as the whole column gives."""
        return self._labels[column].distinct()

    def rows(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The kept rows and their counts; their weights are each kept row's mean weight (exact sums)."""
        import pandas as pd

        self._merge()
        kept = (
            self._kept if self._kept is not None else pd.DataFrame(columns=[*self.columns.keys, self._count])
        )
        counts = kept[self._count].to_numpy(dtype=np.int64)
        rows = kept[self.columns.keys].reset_index(drop=True)
        weights = self.columns.weights
        if weights and self.bits < EXACT_BITS:
            rows[weights] = kept[self._weight_sum].to_numpy(dtype=np.float64) / counts
        return rows, counts

    @property
    def amounts(self) -> list[str]:
        """The columns rounded past the limit: scores, weights, and a regression's predictions and outcomes."""
        named = [self.columns.scores, self.columns.weights]
        if any(labels.fractional is not None for labels in self._labels.values()):
            named += [self.columns.predictions, self.columns.target]
        return [c for c in named if c]

    def _rounded(self, part: pd.DataFrame) -> pd.DataFrame:
        if self.bits < EXACT_BITS:
            self._rounded_columns = self.amounts
            for column in self.amounts:
                part[column] = truncate(part[column].to_numpy(dtype=np.float64), self.bits)
        return part

    def _round_new_amounts(self) -> None:
        """A regression's first fractional value makes its predictions and outcomes amounts: the rows kept so far
        are rounded as the later ones will be, so that the result does not depend on where that value came."""
        if self.bits >= EXACT_BITS or self.amounts == self._rounded_columns:
            return
        if self._kept is not None:
            self._kept = self._grouped(self._rounded(self._kept))
        self._pending = [self._grouped(self._rounded(part)) for part in self._pending]
        self._pending_rows = sum(len(part) for part in self._pending)
        self._rounded_columns = self.amounts

    def _grouped(self, frame: pd.DataFrame) -> pd.DataFrame:
        return _grouped(frame, self.columns.keys, [self._count, self._weight_sum])

    def _merge(self) -> None:
        """Fold the pending batches into the kept rows; round further while they do not fit."""
        import pandas as pd

        if not self._pending:
            return
        parts = ([] if self._kept is None else [self._kept]) + self._pending
        self._pending, self._pending_rows = [], 0
        kept = self._grouped(pd.concat(parts, ignore_index=True))
        # Nothing to round (no scores, weights or amounts): fewer bits would not keep fewer rows, only say so.
        while len(kept) > self.limit and self.bits > BITS_LADDER[-1] and self.amounts:
            self.bits = next(b for b in BITS_LADDER if b < self.bits)
            kept = self._grouped(self._rounded(kept))
        self._kept = kept

    def rounding(
        self, kept: tuple[pd.DataFrame, np.ndarray] | None = None, *, scoring_rates: bool = False
    ) -> Rounding | None:
        """``None`` when every kept row is exact; else the bits kept and the bound on each metric's error.
        ``kept``: what ``rows()`` returned, if the caller has it; ``scoring_rates``: the audit's LL144 rates count
        the rows scoring above the median."""
        if self.bits >= EXACT_BITS:
            return None
        rows, counts = self.rows() if kept is None else kept
        bounds: dict[str, float] = {}
        worst: dict[str, str] = {}
        scores, target = self.columns.scores, self.columns.target
        if scores and scoring_rates and scores in self.amounts:
            bounds["ll144_scoring_rate"], worst["ll144_scoring_rate"] = self._scoring_bound(rows, counts)
        if scores and target and self.columns.predictions not in self.amounts:
            bounds["auc"], worst["auc"] = self._auc_bound(rows, counts)
            bounds["brier"] = _brier_bound(rows[scores].to_numpy(dtype=np.float64), self.bits)
        if self.columns.predictions in self.amounts:
            bounds["mean_prediction"] = _largest_width(rows[self.columns.predictions], self.bits)
            if target:
                bounds["mean_target"] = _largest_width(rows[target], self.bits)
                bounds["mae"] = bounds["rmse"] = bounds["mean_prediction"] + bounds["mean_target"]
        return Rounding(bits=self.bits, bounds=bounds, worst_group=worst)

    def _weights(self, rows: pd.DataFrame, counts: np.ndarray) -> np.ndarray:
        weights = self.columns.weights
        return rows[weights].to_numpy(dtype=np.float64) * counts if weights else counts.astype(float)

    def _scoring_bound(self, rows: pd.DataFrame, counts: np.ndarray) -> tuple[float, str]:
        """Rounding keeps the order of scores in different bins, so only a row whose rounded score lies between
        the two middle rounded scores (the median's bin) may be on the other side of the exact median: a group's
        scoring rate is off by at most the share of its weight in those rows."""
        import pandas as pd

        assert self.columns.scores
        scores = rows[self.columns.scores].to_numpy(dtype=np.float64)
        if scores.shape[0] == 0:
            return 0.0, "all rows"
        from governance.audit.fairness.compute import middle_values

        low, high = middle_values(scores, counts)
        weight = self._weights(rows, counts)
        frame = pd.DataFrame(
            {"between": np.where((scores >= low) & (scores <= high), weight, 0.0), "all": weight}
        )

        def shares(by: list[str]) -> pd.Series:
            sums = (
                frame.groupby(by, sort=False, dropna=False)[["between", "all"]].sum()
                if by
                else frame.sum().to_frame().T
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                return (sums["between"] / sums["all"]).replace([np.inf, -np.inf], np.nan).dropna()

        return _largest(frame, rows, list(self.columns.sensitive), shares)

    def _auc_bound(self, rows: pd.DataFrame, counts: np.ndarray) -> tuple[float, str]:
        """Pairs of a positive and a negative that rounding put on the same score count a half; exact, they
        count 0 or 1. So a group's AUC is off by at most half its tied (positive, negative) weight over P x N."""
        import pandas as pd

        columns = self.columns
        assert columns.scores and columns.target
        label = self.label_values(columns.target)[0]  # either label: the bound is symmetric in the two
        weight = self._weights(rows, counts)
        positive = (rows[columns.target] == label).to_numpy()
        frame = pd.DataFrame({"pos": np.where(positive, weight, 0.0), "neg": np.where(positive, 0.0, weight)})
        frame["score"] = rows[columns.scores].to_numpy()

        def bounds(by: list[str]) -> pd.Series:
            bins = frame.groupby([*by, "score"], sort=False, dropna=False)[["pos", "neg"]].sum()
            bins["tied"] = bins["pos"] * bins["neg"]
            if by:
                per_group = bins.groupby(level=list(range(len(by))), sort=False)[["pos", "neg", "tied"]].sum()
            else:
                per_group = bins[["pos", "neg", "tied"]].sum().to_frame().T
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = 0.5 * per_group["tied"] / (per_group["pos"] * per_group["neg"])
            finite: pd.Series = bound[np.isfinite(bound)]
            return finite

        return _largest(frame, rows, list(columns.sensitive), bounds)


def _largest(
    frame: pd.DataFrame, rows: pd.DataFrame, sensitive: list[str], per_group: Any
) -> tuple[float, str]:
    """The largest of ``per_group(grouping columns)`` (a value per group) over every set of groups the audit
    reports, and the group it belongs to."""
    best, where = 0.0, "all rows"
    for grouping in _groupings(sensitive):
        values = per_group(_group_columns(frame, rows, grouping))
        if len(values) and float(values.max()) > best:
            best, where = float(values.max()), _group_name(grouping, values.idxmax())
    return best, where


MISSING = "(missing)"


def _group_columns(frame: pd.DataFrame, rows: pd.DataFrame, grouping: list[str]) -> list[str]:
    """The grouping's sensitive columns added to ``frame`` as text, grouped as the audit groups them: a missing
    value is a group of its own, and in an intersection a row missing any of its columns is in one Unknown group
    (``_groups._intersection``), which a bound must cover as a whole, not as its parts."""
    texts = [rows[name].astype("string") for name in grouping]
    unknown = np.zeros(len(rows), dtype=bool)
    if len(grouping) > 1:
        for text in texts:
            unknown |= text.isna().to_numpy()
    for name, text in zip(grouping, texts, strict=True):
        frame[f"g:{name}"] = np.where(unknown, MISSING, text.fillna(MISSING).to_numpy(dtype=object))
    return [f"g:{name}" for name in grouping]


def _group_name(grouping: list[str], key: Any) -> str:
    if not grouping:
        return "all rows"
    values = key if isinstance(key, tuple) else (key,)
    if len(grouping) > 1 and all(v == MISSING for v in values):
        return f"{' × '.join(grouping)} = Unknown (a value missing)"
    return ", ".join(f"{c} = {v}" for c, v in zip(grouping, values, strict=True))


def _groupings(sensitive: list[str]) -> list[list[str]]:
    """Every set of groups an audit reports: all rows, each column, each pair, and the full intersection."""
    pairs = [[a, b] for i, a in enumerate(sensitive) for b in sensitive[i + 1 :]]
    found = [[], *([c] for c in sensitive), *pairs, sensitive]
    unique: dict[tuple[str, ...], list[str]] = {}
    for grouping in found:
        unique.setdefault(tuple(grouping), list(grouping))
    return list(unique.values())


TAIL_EXPONENT = (
    4  # probabilities nearer 0 or 1 than 2**-4 are cut on an even grid 16 times finer than 2**-bits
)


def truncate(values: np.ndarray, bits: int) -> np.ndarray:
    """Each value with ``bits`` significant binary digits kept (cut towards zero): within 1 part in 2**bits.

    A probability is cut by its distance to the nearer of 0 and 1 instead (cut towards that end), and nearer
    than 1/16 (also just above 1) on an even grid of 2**-(bits + 4): scores near 0 or 1 (a rare event's 0.001 and 0.002) stay apart
    without spending digits on scores far smaller still. Cutting to fewer bits gives the same from the value or
    from an already cut one: 1 - value is exact above 0.5, and each grid is a coarser copy of the finer one."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    upper, above = _upper(values), _above(values)
    distance = _distance(values)
    tail = _tail(distance)
    grid = 2.0 ** (TAIL_EXPONENT + bits)
    on_grid = np.floor(np.where(tail, distance, 0.0) * grid) / grid  # only tail values: no overflow far out
    cut = np.where(tail, on_grid, _cut(distance, bits))
    return np.where(upper, 1.0 - cut, np.where(above, 1.0 + cut, cut))


def _upper(values: np.ndarray) -> np.ndarray:
    return (values > 0.5) & (values <= 1.0)


def _above(values: np.ndarray) -> np.ndarray:
    """Just above 1 (an amount, or a score a little off): on the grid near 1 too, towards 1. Cut relatively, a
    value below 1 + 2**-bits would become 1.0, whose width is the fine grid's: 16 times too small a bound."""
    return (values > 1.0) & (values < 1.0 + 2.0**-TAIL_EXPONENT)


def _distance(values: np.ndarray) -> np.ndarray:
    """What is cut: the distance to 1 between 0.5 and 1 + 1/16 (exact there), else the value itself."""
    return np.where(_upper(values), 1.0 - values, np.where(_above(values), values - 1.0, values))


def _tail(distance: np.ndarray) -> np.ndarray:
    return (distance >= 0.0) & (distance < 2.0**-TAIL_EXPONENT)


def _cut(values: np.ndarray, bits: int) -> np.ndarray:
    mask = np.uint64((~((1 << (EXACT_BITS - bits)) - 1)) & 0xFFFFFFFFFFFFFFFF)
    return (np.ascontiguousarray(values, dtype=np.float64).view(np.uint64) & mask).view(np.float64)


def _widths(values: np.ndarray, bits: int) -> np.ndarray:
    """How far from a cut value the exact one may have been: one unit of its last kept digit."""
    distance = _distance(values)
    _, exponent = np.frexp(np.abs(distance))
    relative = np.where(distance == 0, 0.0, np.ldexp(1.0, exponent - 1 - bits))
    return np.where(_tail(distance), 2.0 ** -(TAIL_EXPONENT + bits), relative)


def _largest_width(column: pd.Series, bits: int) -> float:
    """The largest distance between a rounded amount and the exact one: bounds each mean, MAE and RMSE."""
    widths = _widths(column.to_numpy(dtype=np.float64), bits)
    return float(widths.max()) if widths.shape[0] else 0.0


def _brier_bound(scores: np.ndarray, bits: int) -> float:
    """|(s - y)^2 - (s' - y)^2| = |s - s'| |s + s' - 2y| <= d (2|s' - y| + d) <= d (2 max(|s'|, |s' - 1|) + d)."""
    if scores.shape[0] == 0:
        return 0.0
    width = _widths(scores, bits)
    reach = 2.0 * np.maximum(np.abs(scores), np.abs(scores - 1.0)) + width
    return float((width * reach).max())


def free_name(name: str, taken: Sequence[str]) -> str:
    """``name``, or ``name`` with more underscores, so that a table's own column of that name is not overwritten."""
    while name in taken:
        name += "_"
    return name


def _grouped(frame: pd.DataFrame, keys: list[str], sums: Sequence[str]) -> pd.DataFrame:
    """One row per distinct combination of ``keys``, with the counts (and weight sums) added up."""
    sums = [c for c in sums if c in frame.columns]
    grouped = frame.groupby(keys, sort=False, dropna=False, observed=True)[sums].sum()
    return grouped.reset_index()


def bits_note(rounding: Rounding, limit: int, *, weighted: bool) -> str:
    """The rounding in plain words, with the bounds and what to do for exact values, for the audit's notes."""
    parts = []
    if "auc" in rounding.bounds:
        worst = rounding.worst_group.get("auc")
        at = f" (that bound is largest for {worst})" if worst and rounding.bounds["auc"] > 0 else ""
        parts.append(f"AUC is within {_shown(rounding.bounds['auc'])} of its exact value{at}")
        parts.append(f"the Brier score within {_shown(rounding.bounds['brier'])}")
    if "mean_prediction" in rounding.bounds:
        parts.append(f"the mean prediction within {_shown(rounding.bounds['mean_prediction'])}")
        if "mae" in rounding.bounds:
            parts.append(f"the mean target within {_shown(rounding.bounds['mean_target'])}")
            parts.append(f"MAE and RMSE within {_shown(rounding.bounds['mae'])}")
    if "ll144_scoring_rate" in rounding.bounds:
        worst = rounding.worst_group.get("ll144_scoring_rate")
        at = f" (largest for {worst})" if worst and rounding.bounds["ll144_scoring_rate"] > 0 else ""
        parts.append(f"the LL144 scoring rates within {_shown(rounding.bounds['ll144_scoring_rate'])}{at}")
    said = (
        "; ".join(parts) + " in every group (a difference between two groups by at most twice as much)"
        if parts
        else "no metric depends on them"
    )
    exact = "Other counts and rates" if "ll144_scoring_rate" in rounding.bounds else "Counts and rates"
    effective = (
        f" (with weights, the effective counts behind their intervals are within 1 part in {2 ** (rounding.bits - 1):,})"
        if weighted
        else ""
    )
    return (
        f"The table has more than {limit:,} distinct combinations of groups, outcome and score, more than an audit "
        f"keeps in memory, so scores, weights and amounts were rounded to {rounding.bits} significant bits "
        f"before they were counted: {said}. {exact} are exact, and so are their intervals and tests{effective}. "
        "For exact values, audit fewer rows at a time (a query that selects a period or a sample)."
    )


def _shown(bound: float) -> str:
    if bound == 0:
        return "0"
    digits = max(0, 1 - math.floor(math.log10(bound)))
    return f"±{bound:.{digits}f}" if digits <= 6 else f"±{bound:.1e}"
