"""Predictions-only audits of Parquet files larger than memory.

Only the needed columns are read, in batches of rows (pyarrow), and each batch is reduced at once to the small
count table of the fairness core; the tables are added up. Memory stays bounded by the batch size, whatever the
file's length: a 50-million-row prediction log needs a few hundred megabytes instead of several gigabytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from governance.errors import InputError
from governance.intake.data import _missing_message, missing_labels_message, refuse_duplicate_columns
from governance.provenance import sha256_file

if TYPE_CHECKING:
    from governance.audit.fairness import CountTable

BATCH_ROWS = 1_000_000


class AmountsNotClassesError(InputError):
    """The predictions are amounts (a regression), which a count table cannot hold."""


@dataclass(frozen=True)
class StreamedCounts:
    """The count table of a whole file and what was learnt on the way."""

    table: CountTable
    n_rows: int
    sha256: str
    task: str


def _open(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:
        raise InputError(f"{path.name} could not be read as Parquet ({type(exc).__name__}); check that the file is not damaged.") from exc


def _label_classes(parquet: Any, column: str, role: Literal["target", "predictions"]) -> list[Any]:
    """The distinct values of a label column over the whole file (one cheap pass over that column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    seen: set[Any] = set()
    missing = 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=[column]):
        values = batch.column(0)
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        missing += values.null_count
        if missing:
            continue  # counted to the end, for the same message as data read in memory
        if pa.types.is_floating(values.type):
            # Every non-finite value counts, even past the first thousand distinct ones.
            seen.update(pc.unique(pc.filter(values, pc.invert(pc.is_finite(values)))).to_pylist())
        if len(seen) <= 1000:
            seen.update(pc.unique(values).to_pylist())
    if missing:
        raise InputError(missing_labels_message(column, missing, role=role))
    return sorted(seen, key=lambda value: (str(type(value)), value))


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
    from governance.audit.fairness import CountTable, build_count_table
    from governance.audit.fairness._inputs import check_labels, column_nouns

    file_path = Path(path)
    if not file_path.is_file():
        raise InputError(f"The file {file_path} given with --data does not exist; check the path.")
    parquet = _open(file_path)
    available = list(parquet.schema_arrow.names)
    refuse_duplicate_columns([str(name) for name in available], file_path.name)
    wanted = [predictions, *sensitive, *(c for c in (target, weights) if c)]
    options = {predictions: "--predictions", target: "--target", weights: "--weights"}
    for name in wanted:
        if name not in available:
            raise InputError(_missing_message(name, available, file_path.name, options.get(name, "--sensitive")))
    if parquet.metadata.num_rows == 0:
        raise InputError(f"{file_path.name} has no rows; an audit needs data.")
    labels = _label_classes(parquet, target, "target") if target else None  # checked first, as in memory
    task, classes = check_labels(
        _label_classes(parquet, predictions, "predictions"),
        labels,
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
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=wanted):
        frame = batch.to_pandas()
        n_rows += len(frame)
        tables.append(
            build_count_table(
                y_pred=frame[predictions], sensitive=frame[list(sensitive)],
                y_true=frame[target] if target else None,
                sample_weight=frame[weights] if weights else None, task=task, positive_label=positive_label,
            )
        )
        del frame
    # A sensitive column missing everywhere is refused by compute_fairness_from_counts, as for any table.
    table = CountTable.combine(tables) if len(tables) > 1 else tables[0]
    return StreamedCounts(table=table, n_rows=n_rows, sha256=sha256_file(file_path), task=task)
