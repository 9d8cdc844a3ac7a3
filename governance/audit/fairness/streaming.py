"""Predictions-only audits of Parquet files larger than memory: each batch counted at once, the counts added up.

The file is read by :mod:`governance.intake.stream` (only the needed columns, in batches); each batch is reduced
to the small count table of the fairness core and the tables are added. A 50-million-row prediction log needs a
few hundred megabytes instead of several gigabytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.audit.fairness._inputs import check_labels, column_nouns
from governance.audit.fairness.table import CountTable, build_count_table
from governance.errors import InputError
from governance.intake.stream import BATCH_ROWS, ColumnRoles, open_parquet
from governance.provenance import sha256_file


class AmountsNotClassesError(InputError):
    """The predictions are amounts (a regression), which a count table cannot hold."""


@dataclass(frozen=True)
class StreamedCounts:
    """The count table of a whole file and what was learnt on the way."""

    table: CountTable
    n_rows: int
    sha256: str
    task: str


def count_parquet(
    path: str | Path,
    *,
    predictions: str,
    sensitive: Sequence[str],
    target: str | None = None,
    weights: str | None = None,
    positive_label: Any = None,
    batch_rows: int = BATCH_ROWS,
    before_counting: Callable[[str, list[Any]], None] | None = None,
) -> StreamedCounts:
    """Build the audit's count table from a Parquet file, batch by batch.

    The label values are checked first by the same rule as data in memory (``check_labels``);
    ``before_counting(task, classes)`` may refuse the audit before the long pass over the file.
    """
    source = open_parquet(path, ColumnRoles(predictions, sensitive, target, weights))
    task, classes = check_labels(
        source.prediction_values,
        source.target_values,
        nouns=column_nouns(predictions=predictions, target=target),
    )
    if before_counting is not None:
        before_counting(task, classes)
    if task == "regression":
        raise AmountsNotClassesError(
            f"The predictions in column '{predictions}' are amounts, not classes; a count table holds decisions, "
            "so audit a regression in memory (compute_fairness)."
        )
    tables: list[CountTable] = []
    n_rows = 0
    for frame in source.frames(batch_rows):
        n_rows += len(frame)
        tables.append(
            build_count_table(
                y_pred=frame[predictions], sensitive=frame[list(sensitive)],
                y_true=frame[target] if target else None,
                sample_weight=frame[weights] if weights else None, task=task, positive_label=positive_label,
            )
        )  # fmt: skip
        del frame
    # A sensitive column missing everywhere is refused by compute_fairness_from_counts, as for any table.
    table = CountTable.combine(tables) if len(tables) > 1 else tables[0]
    return StreamedCounts(table=table, n_rows=n_rows, sha256=sha256_file(source.path), task=task)
