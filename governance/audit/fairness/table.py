"""The count table: one pass over the rows, then every count metric is arithmetic on it.

A cell is one observed combination of sensitive levels (the full intersection of all sensitive columns);
for each cell the table holds row counts, summed weights and summed squared weights per
(true class, predicted class). Single attributes are sums of intersection cells, so one table serves every
attribute, the intersection and the overall values, and a row bootstrap is a multinomial draw over it.

``build_count_table`` builds it from columns in memory with one ``np.bincount``. Other engines (pyarrow
batches, DuckDB) can build a table per batch or with a GROUP BY, and ``CountTable.combine`` adds tables whose
levels or classes differ; ``compute_fairness_from_counts`` then produces the full result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.audit.fairness._inputs import (
    UNKNOWN,
    SensitiveCodes,
    code_labels,
    detect_task,
    prepare_columns,
)
from governance.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

_DENSE_LIMIT = 1_000_000  # above this many possible cells, compress the cell codes first (bounded memory)


@dataclass(frozen=True)
class CountTable:
    """Counts per (cell, true class, predicted class). Arrays have shape ``(cells, T, K)``.

    ``T`` is 1 when there are no labels (``classes_true`` is None), else ``K``; ``classes`` are the class
    values shared by labels and predictions (binary: ``[negative, positive]``). ``cells[i, j]`` is the level
    code of column ``j`` in cell ``i``; levels are sorted by name, the Unknown level (if any) last.
    """

    columns: list[str]
    levels: list[list[str]]
    has_unknown: list[bool]
    cells: np.ndarray  # (C, n_columns) int64, rows sorted lexicographically
    classes: list[Any]
    has_labels: bool
    n: np.ndarray  # (C, T, K) int64 row counts
    w: np.ndarray  # (C, T, K) float64 summed weights (= n without weights)
    w2: np.ndarray  # (C, T, K) float64 summed squared weights (= n without weights)
    weighted: bool

    @property
    def n_rows(self) -> int:
        return int(self.n.sum())

    @property
    def total_weight(self) -> float:
        return float(self.w.sum())

    def unknown_cells(self) -> np.ndarray:
        """True for cells with a missing value in any column."""
        mask = np.zeros(self.cells.shape[0], dtype=bool)
        for j, unknown in enumerate(self.has_unknown):
            if unknown:
                mask |= self.cells[:, j] == len(self.levels[j]) - 1
        return mask

    @classmethod
    def combine(cls, tables: list[CountTable]) -> CountTable:
        """Add tables built from separate batches (levels and classes are matched by name)."""
        if not tables:
            raise InputError("There are no count tables to combine; build at least one batch.")
        first = tables[0]
        if any(t.columns != first.columns or t.has_labels != first.has_labels for t in tables):
            raise InputError("The batches have different sensitive columns or labels; build them alike.")
        classes = list(first.classes) if len(tables) == 1 else _merge_classes(tables)
        levels: list[list[str]] = []
        unknown: list[bool] = []
        for j in range(len(first.columns)):
            known = sorted({lvl for t in tables for lvl, u in _known(t, j) if not u})
            any_unknown = any(t.has_unknown[j] for t in tables)
            unknown_name = UNKNOWN if UNKNOWN not in known else f"{UNKNOWN} (missing)"
            levels.append([*known, unknown_name] if any_unknown else known)
            unknown.append(any_unknown)
        class_index = {_class_key(c): i for i, c in enumerate(classes)}
        k = len(classes)
        t_dim = k if first.has_labels else 1
        radix = np.array([len(lv) for lv in levels], dtype=np.int64)
        combined_codes: list[np.ndarray] = []
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for table in tables:
            cell_codes = np.zeros(table.cells.shape[0], dtype=np.int64)
            for j in range(len(levels)):
                position = {lvl: i for i, lvl in enumerate(levels[j])}
                lookup = np.array(
                    [
                        len(levels[j]) - 1 if (u and table.has_unknown[j]) else position[lvl]
                        for lvl, u in _known(table, j)
                    ],
                    dtype=np.int64,
                )
                cell_codes = cell_codes * radix[j] + lookup[table.cells[:, j]]
            cmap = np.array(
                [class_index.get(_class_key(c), 0) for c in table.classes], dtype=np.int64
            )  # a binary batch's placeholder negative ("not <positive>") is the negative class
            shape = (table.cells.shape[0], t_dim, k)
            arrays = []
            for source in (table.n, table.w, table.w2):
                target = np.zeros(shape, dtype=source.dtype)
                t_map = cmap if first.has_labels else np.zeros(1, dtype=np.int64)
                index = (slice(None), t_map[:, None], cmap[None, :])
                np.add.at(target, index, source)  # type: ignore[arg-type]
                arrays.append(target)
            combined_codes.append(cell_codes)
            parts.append((arrays[0], arrays[1], arrays[2]))
        all_codes = np.concatenate(combined_codes)
        unique_codes, inverse = np.unique(all_codes, return_inverse=True)
        n = np.zeros((unique_codes.shape[0], t_dim, k), dtype=np.int64)
        w = np.zeros(n.shape, dtype=np.float64)
        w2 = np.zeros(n.shape, dtype=np.float64)
        start = 0
        for part_n, part_w, part_w2 in parts:
            rows = inverse[start : start + part_n.shape[0]]
            np.add.at(n, rows, part_n)
            np.add.at(w, rows, part_w)
            np.add.at(w2, rows, part_w2)
            start += part_n.shape[0]
        cells = np.stack(np.unravel_index(unique_codes, tuple(radix.tolist())), axis=1).astype(np.int64)
        return cls(
            columns=list(first.columns),
            levels=levels,
            has_unknown=unknown,
            cells=cells,
            classes=classes,
            has_labels=first.has_labels,
            n=n,
            w=w,
            w2=w2,
            weighted=any(t.weighted for t in tables),
        )


def _class_key(value: Any) -> Any:
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return ("n", float(value))
    return ("s", str(value))


def _merge_classes(tables: list[CountTable]) -> list[Any]:
    """Classes of combined tables: binary stays [negative, positive]; otherwise the sorted union."""
    if all(len(t.classes) == 2 for t in tables):
        positives = {_class_key(t.classes[1]) for t in tables}
        if len(positives) == 1:
            placeholder = _class_key(f"not {tables[0].classes[1]}")
            negatives = {_class_key(t.classes[0]): t.classes[0] for t in tables}
            real = [value for key, value in negatives.items() if key != placeholder]
            if len(real) <= 1:
                return [real[0] if real else tables[0].classes[0], tables[0].classes[1]]
    keys: dict[Any, Any] = {}
    for table in tables:
        for value in table.classes:
            keys.setdefault(_class_key(value), value)
    placeholders = {_class_key(f"not {t.classes[1]}") for t in tables if len(t.classes) == 2}
    if len(keys) > 2 and placeholders & set(keys):
        raise InputError(
            "The batches hold more than two label values although the task is binary; "
            "check the labels or build the tables with task='multiclass'."
        )
    return [keys[k] for k in sorted(keys)]


def _known(table: CountTable, j: int) -> list[tuple[str, bool]]:
    """(level name, is the Unknown level) for column j of a table."""
    levels = table.levels[j]
    return [(lvl, table.has_unknown[j] and i == len(levels) - 1) for i, lvl in enumerate(levels)]


def cell_codes_from_sensitive(codes: SensitiveCodes) -> tuple[np.ndarray, np.ndarray, int]:
    """Combine the columns' level codes into one code per row.

    Returns (row cell code, cells array, number of cells). Dense mixed-radix codes when the product of the
    level counts is small; otherwise compressed to the observed combinations (keeps memory bounded).
    """
    radix = [len(levels) for levels in codes.levels]
    combined = codes.codes[0]
    for j in range(1, len(radix)):
        combined = combined * radix[j] + codes.codes[j]
    possible = int(np.prod(radix, dtype=np.float64))
    if possible <= _DENSE_LIMIT:
        cells = np.stack(np.unravel_index(np.arange(possible), tuple(radix)), axis=1).astype(np.int64)
        return combined, cells, possible
    import pandas as pd

    row_codes, uniques = pd.factorize(combined, sort=True)
    uniques = np.asarray(uniques, dtype=np.int64)
    cells = np.stack(np.unravel_index(uniques, tuple(radix)), axis=1).astype(np.int64)
    return np.asarray(row_codes, dtype=np.int64), cells, uniques.shape[0]


def build_count_table(
    *,
    y_pred: Any,
    sensitive: pd.DataFrame,
    y_true: Any = None,
    sample_weight: Any = None,
    task: str = "auto",
    positive_label: Any = None,
) -> CountTable:
    """Build the count table of a classification task from columns in memory (one ``np.bincount``).

    For batches of a larger file, pass the same ``task`` and ``positive_label`` to every batch and add the
    tables with ``CountTable.combine``; a sensitive column may be all missing in one batch (its rows go to
    Unknown), and ``compute_fairness_from_counts`` refuses a column that is missing everywhere.
    """
    codes, pred, true, weights = prepare_columns(
        sensitive=sensitive, y_pred=y_pred, y_true=y_true, sample_weight=sample_weight, allow_all_missing=True
    )
    if task == "auto":
        task = detect_task(pred, true)
    if task == "regression":
        raise InputError("A count table holds classes, not numbers; use compute_fairness for regression.")
    if task not in ("binary", "multiclass"):
        raise InputError(f"task must be auto, binary, multiclass or regression, not {task!r}.")
    pred_labels, true_labels, _ = code_labels(pred, true, task=task, positive_label=positive_label)  # type: ignore[arg-type]
    return RowCells.of(codes, weights).count(
        pred_codes=pred_labels.codes,
        true_codes=None if true_labels is None else true_labels.codes,
        classes=pred_labels.classes,
    )


@dataclass(frozen=True)
class RowCells:
    """Which observed cell each row falls in, and the rows' weights: what every count table of these rows shares."""

    codes: SensitiveCodes
    row_cells: np.ndarray  # (rows,) index into cells
    cells: np.ndarray  # (C, n_columns) level codes of each observed cell
    n_cells: int
    weights: np.ndarray | None
    # Rows an engine already grouped (DuckDB, PostgreSQL, Spark): each stands for row_counts rows, its weights
    # are their summed weights and squared_weights their summed squares.
    row_counts: np.ndarray | None = None
    squared_weights: np.ndarray | None = None

    @classmethod
    def of(cls, codes: SensitiveCodes, weights: np.ndarray | None) -> RowCells:
        row_cells, cells, n_cells = cell_codes_from_sensitive(codes)
        return cls(codes, row_cells, cells, n_cells, weights)

    def count(
        self, *, pred_codes: np.ndarray, true_codes: np.ndarray | None, classes: list[Any]
    ) -> CountTable:
        """The count table of these rows for one coding of the predictions (and labels)."""
        return table_from_codes(self, pred_codes=pred_codes, true_codes=true_codes, classes=classes)


def table_from_codes(
    rows: RowCells, *, pred_codes: np.ndarray, true_codes: np.ndarray | None, classes: list[Any]
) -> CountTable:
    """The one pass: a single ``np.bincount`` per array over (cell, true class, predicted class).

    Rows that an engine already grouped carry their ``row_counts`` (and summed squared weights): see RowCells.
    """
    row_cells, cells, n_cells, weights = rows.row_cells, rows.cells, rows.n_cells, rows.weights
    k = len(classes)
    t_dim = k if true_codes is not None else 1
    index = row_cells * (t_dim * k) + pred_codes
    if true_codes is not None:
        index = index + true_codes * k
    size = n_cells * t_dim * k
    if rows.row_counts is None:
        n = np.bincount(index, minlength=size).reshape(n_cells, t_dim, k).astype(np.int64)
    else:
        counted = np.bincount(index, weights=rows.row_counts, minlength=size).reshape(n_cells, t_dim, k)
        n = np.rint(counted).astype(np.int64)
    w: np.ndarray
    w2: np.ndarray
    if weights is None:
        w = n.astype(np.float64)
        w2 = w
    else:
        squares = weights * weights if rows.squared_weights is None else rows.squared_weights
        w = np.bincount(index, weights=weights, minlength=size).reshape(n_cells, t_dim, k)
        w2 = np.bincount(index, weights=squares, minlength=size).reshape(n_cells, t_dim, k)
    observed = n.reshape(n_cells, -1).sum(axis=1) > 0
    if not observed.all():
        n, w, w2, cells = n[observed], w[observed], w2[observed], cells[observed]
    return CountTable(
        columns=rows.codes.columns,
        levels=rows.codes.levels,
        has_unknown=rows.codes.has_unknown,
        cells=cells,
        classes=classes,
        has_labels=true_codes is not None,
        n=n.astype(np.int64),
        w=w,
        w2=w2,
        weighted=weights is not None,
    )
