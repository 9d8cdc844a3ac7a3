"""Rows an engine already grouped (DuckDB, PostgreSQL, Spark): into the count table, or back into rows.

A ``GROUP BY`` over the sensitive, label and prediction columns with ``COUNT(*)``, ``SUM(w)`` and
``SUM(w * w)`` is the count table in another shape: ``table_from_groups`` codes it exactly as
``build_count_table`` codes rows, so ``compute_fairness_from_counts`` gives the in-memory result.

AUC, Brier score and the regression metrics are resampled row by row (``_rows``): for those the engine returns
the distinct (groups, label, value, weight) combinations with their counts, kept as they are
(:mod:`governance.audit.fairness.distinct`) and passed with their counts to ``compute_fairness``, which resamples
them as the repeated rows would be, so the numbers equal the in-memory path's for the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from governance.audit.fairness._inputs import code_labels, prepare_columns
from governance.audit.fairness.table import CountTable, RowCells

if TYPE_CHECKING:
    from governance.intake.grouped import Grouped

COUNT, WEIGHT, SQUARES = "n__", "w__", "w2__"


def table_from_groups(
    groups: Grouped,
    *,
    predictions: str,
    sensitive: Sequence[str],
    target: str | None,
    weighted: bool,
    task: str,
    positive_label: Any = None,
) -> CountTable:
    """The count table from grouped rows: one row per combination, with ``n__`` (and ``w__``, ``w2__``)."""
    codes, pred, true, _ = prepare_columns(
        sensitive=groups.sensitive(sensitive),
        y_pred=groups.column(predictions),
        y_true=groups.column(target) if target else None,
        sample_weight=None,
        allow_all_missing=True,
    )
    pred_labels, true_labels, _ = code_labels(pred, true, task=task, positive_label=positive_label)  # type: ignore[arg-type]
    rows = replace(
        RowCells.of(codes, groups.column(WEIGHT).astype(float) if weighted else None),
        row_counts=groups.column(COUNT).astype(float),
        squared_weights=groups.column(SQUARES).astype(float) if weighted else None,
    )
    return rows.count(
        pred_codes=pred_labels.codes,
        true_codes=None if true_labels is None else true_labels.codes,
        classes=pred_labels.classes,
    )
