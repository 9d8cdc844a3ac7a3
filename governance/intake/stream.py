"""Reading Parquet files larger than memory: only the needed columns, in batches of rows (pyarrow).

This module checks the file (it exists, its columns are there once each, it has rows), finds the distinct label
values in one cheap pass per label column, and yields the rows batch by batch. Counting them into the fairness
core's count table is the fairness package's job (:mod:`governance.audit.fairness.streaming`), so memory stays
bounded by the batch size whatever the file's length.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from governance.errors import InputError
from governance.intake.data import (
    missing_column_error,
    missing_file_error,
    missing_labels_error,
    refuse_duplicate_columns,
)

BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class ColumnRoles:
    """Which columns of a decision log an audit reads: the decisions, the sensitive attributes, and the true
    outcome and sample weights when there are any."""

    predictions: str
    sensitive: Sequence[str]
    target: str | None = None
    weights: str | None = None


@dataclass(frozen=True)
class ParquetColumns:
    """An opened Parquet file with the columns an audit reads, checked, and its label values."""

    path: Path
    parquet: Any  # pyarrow.parquet.ParquetFile
    columns: list[str]
    prediction_values: list[Any]
    target_values: list[Any] | None

    def frames(self, batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
        """The needed columns as pandas DataFrames of at most ``batch_rows`` rows each."""
        for batch in self.parquet.iter_batches(batch_size=batch_rows, columns=self.columns):
            yield batch.to_pandas()


def _open(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:
        raise InputError(
            f"{path.name} could not be read as Parquet ({type(exc).__name__}); check that the file is not damaged."
        ) from exc


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
        raise missing_labels_error(column, missing, role=role)
    return sorted(seen, key=lambda value: (str(type(value)), value))


def open_parquet(path: str | Path, roles: ColumnRoles) -> ParquetColumns:
    """Open ``path`` for a batched read of the audit's columns, refusing what an audit cannot use."""
    file_path = Path(path)
    if not file_path.is_file():
        raise missing_file_error(file_path, "data")
    parquet = _open(file_path)
    available = list(parquet.schema_arrow.names)
    refuse_duplicate_columns([str(name) for name in available], file_path.name)
    wanted = [roles.predictions, *roles.sensitive, *(c for c in (roles.target, roles.weights) if c)]
    fields = {roles.predictions: "predictions", roles.target: "target", roles.weights: "weights"}
    for name in wanted:
        if name not in available:
            raise missing_column_error(name, available, file_path.name, fields.get(name, "sensitive"))
    if parquet.metadata.num_rows == 0:
        raise InputError(f"{file_path.name} has no rows; an audit needs data.")
    target_values = (
        _label_classes(parquet, roles.target, "target") if roles.target else None
    )  # checked first, as in memory
    return ParquetColumns(
        path=file_path,
        parquet=parquet,
        columns=wanted,
        prediction_values=_label_classes(parquet, roles.predictions, "predictions"),
        target_values=target_values,
    )
