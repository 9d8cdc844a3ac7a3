"""An engine's values as a file gives them: numpy scalars as Python values, exact decimals (NUMERIC, DECIMAL) as
int (whole) or float, so that labels, groups and amounts from a table compare and print as from a CSV file."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

_INT64_END = 2**63


def plain(value: Any) -> Any:
    """numpy scalars as Python values, and an engine's exact decimals (NUMERIC, DECIMAL) as the numbers a file
    gives (a whole one as int, else float), so that labels and amounts compare and print as in memory."""
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and abs(value) < _INT64_END:
            return int(value)
        return float(
            value
        )  # beyond int64 (as Arrow's columns and pandas' files give it), infinite past 1e308
    return value.item() if hasattr(value, "item") else value


def plain_column(values: Sequence[Any]) -> list[Any]:
    """A column of an engine's answer with its decimals as plain numbers (the rest as it is)."""
    values = list(values)
    if not any(isinstance(v, Decimal) for v in values):
        return values
    return [plain(v) if isinstance(v, Decimal) else v for v in values]


def plain_frame(frame: Any) -> Any:
    """A pandas frame of an engine's answer with its decimal columns as int64 (all whole) or float64 columns."""
    import pandas as pd

    for column in frame.columns:
        values = frame[column]
        if values.dtype == object and any(isinstance(v, Decimal) for v in values.dropna().head(1000)):
            frame[column] = pd.to_numeric(values.map(plain, na_action="ignore"))
    return frame


def without_decimals(batch: Any, decimals: Sequence[str] = ()) -> Any:
    """An Arrow batch with its decimal columns (and ``decimals``, sent as float64) as int64 (all whole) or float64
    columns, as a file is read."""
    import pyarrow as pa

    fields = batch.schema
    chosen = [pa.types.is_decimal(field.type) or field.name in decimals for field in fields]
    if not any(chosen):
        return batch
    columns = [
        _plain_decimals(column) if plain else column
        for plain, column in zip(chosen, batch.columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, names=fields.names)


def _plain_decimals(column: Any) -> Any:
    """Whole values (whatever the scale: DuckDB's NUMERIC is DECIMAL(18, 3)) as int64, exactly, as ``plain``
    gives them; a fraction, or a value beyond int64, makes the column float64."""
    import pyarrow as pa

    try:
        return column.cast(pa.int64())  # a checked cast: it refuses to drop a fraction, a NaN or overflow
    except pa.ArrowInvalid:
        return column.cast(pa.float64(), safe=False)
