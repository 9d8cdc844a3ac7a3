"""A decision log cut into time windows: one count table per window, built in one pass over the rows.

Each row goes to a window (its timestamp's day, Monday-started week or calendar month, in UTC), a cell (the
combination of its sensitive values; missing ones form an explicit Unknown level), a label state (no label yet,
negative, positive) and a decision (0 or 1). One ``np.bincount`` over those four codes gives every window's count
table, from which every rate, ratio and error rate of every window is arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN = "Unknown"
_WINDOW = re.compile(r"^\s*1?\s*([DWM])\s*$", re.IGNORECASE)
WINDOW_WORDS = {"D": "day", "W": "week (Monday to Sunday)", "M": "calendar month"}
LABEL_STATES = 3  # no label, negative, positive


def parse_window(text: str) -> str:
    """``1D``, ``1W`` or ``1M`` (also ``D``, ``W``, ``M``) -> the unit letter."""
    match = _WINDOW.match(str(text))
    if match is None:
        raise InputError(
            f"{{window}} {text!r} is not understood; use 1D (days), 1W (weeks) or 1M (calendar months).",
            fields=["window"],
        )
    return match.group(1).upper()


@dataclass(frozen=True)
class WindowTable:
    """Count tables of every window: ``counts[w, c, label state, decision]``."""

    unit: str
    starts: list[Any]  # pandas Timestamps (UTC, naive), one per window, empty ones included
    columns: list[str]
    cells: list[tuple[str, ...]]  # the sensitive levels of each cell
    counts: np.ndarray  # (W, C, 3, 2) int64
    row_window: np.ndarray  # each row's window index (for the inputs' drift)

    @property
    def n_rows(self) -> np.ndarray:
        return np.asarray(self.counts.sum(axis=(1, 2, 3)))

    def end(self, w: int) -> Any:
        return next_start(self.starts[w], self.unit)

    def stored(self, w: int) -> dict[str, Any]:
        """The window's count table as the register keeps it: non-empty cells only."""
        table = self.counts[w].reshape(len(self.cells), -1)
        used = np.flatnonzero(table.sum(axis=1))
        return {
            "columns": self.columns,
            "layout": "cell x (no label, label 0, label 1) x (decision 0, decision 1)",
            "cells": [list(self.cells[c]) for c in used.tolist()],
            "counts": table[used].tolist(),
        }


def next_start(start: Any, unit: str) -> Any:
    import pandas as pd

    if unit == "D":
        return start + pd.Timedelta(days=1)
    if unit == "W":
        return start + pd.Timedelta(days=7)
    return start + pd.offsets.MonthBegin(1)


def parse_times(values: pd.Series, column: str) -> Any:
    """Timestamps in UTC (naive); a missing or unreadable one is an input error naming the first."""
    import pandas as pd

    if values.isna().any():
        count = int(values.isna().sum())
        raise InputError(
            f"{count} row{'s' if count != 1 else ''} of {column!r} have no time; fill them in or drop those rows."
        )
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        try:
            parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
        except (TypeError, ValueError):
            parsed = pd.Series(pd.NaT, index=values.index)
    bad = parsed.isna()
    if bad.any():
        first = values[bad].iloc[0]
        raise InputError(
            f"{int(bad.sum())} value(s) of {column!r} cannot be read as a date or time (the first is {str(first)!r}); "
            "write them as ISO 8601, for example 2026-03-01T14:05:00Z."
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def window_starts(times: pd.Series, unit: str) -> Any:
    """Each timestamp's window start."""
    import pandas as pd

    day = times.dt.floor("D")
    if unit == "D":
        return day
    if unit == "W":
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    return day.dt.to_period("M").dt.start_time


def _window_index(starts: pd.Series, first: Any, unit: str) -> np.ndarray:
    if unit == "M":
        months = (starts.dt.year - first.year) * 12 + (starts.dt.month - first.month)
        return np.asarray(months.to_numpy(np.int64))
    days = np.asarray(((starts - first) // np.timedelta64(1, "D")).to_numpy(np.int64))
    return days // 7 if unit == "W" else days


def _cells(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each row's cell code and the levels of every observed cell."""

    combined = np.zeros(len(frame), dtype=np.int64)
    levels: list[np.ndarray] = []
    for column in columns:
        codes, names = _factorize(frame[column])  # missing values get -1: the Unknown level
        codes = np.where(codes < 0, len(names), codes)
        combined = combined * (len(names) + 1) + codes
        levels.append(np.asarray([*names, UNKNOWN], dtype=object))
    possible = int(np.prod([len(lv) for lv in levels], dtype=np.float64))
    if possible <= 10_000_000:  # a lookup instead of sorting every row
        observed = np.flatnonzero(np.bincount(combined, minlength=1))
        lookup = np.zeros(max(possible, 1), dtype=np.int64)
        lookup[observed] = np.arange(observed.shape[0])
        row_cell = lookup[combined]
    else:
        observed, row_cell = np.unique(combined, return_inverse=True)
    radix = [len(lv) for lv in levels]
    digits = np.stack(np.unravel_index(observed, tuple(radix)), axis=1) if columns else np.zeros((1, 0), int)
    cells = [tuple(str(levels[j][d]) for j, d in enumerate(row)) for row in digits.tolist()]
    return row_cell.astype(np.int64), cells


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes into the sorted distinct values (as text), -1 for missing; Arrow's hashing when it is installed."""
    import pandas as pd

    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(pa.array(values, from_pandas=True))
        raw = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        found = [str(v) for v in encoded.dictionary.to_pylist()]
    except Exception:  # no pyarrow, or values Arrow cannot type (mixed kinds): pandas does the same, slower
        raw, uniques = pd.factorize(values)
        found = [str(v) for v in uniques]
    order = sorted(range(len(found)), key=lambda i: found[i])
    rank = np.empty(len(found) + 1, dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(found))
    rank[-1] = -1
    return rank[raw], [found[i] for i in order]


def binary_codes(values: pd.Series, positive: str | None, *, column: str, allow_missing: bool) -> np.ndarray:
    """0/1 (and -1 for missing when allowed) from decisions or labels, with ``positive`` the selected value."""
    import pandas as pd

    missing = values.isna().to_numpy()
    if missing.any() and not allow_missing:
        raise InputError(
            f"{int(missing.sum())} row(s) have no decision in {column!r}; every logged decision needs a value."
        )
    present = values[~missing]
    numeric = pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present)
    distinct_values = pd.unique(present)
    if len(distinct_values) > 2:
        shown = ", ".join(str(v) for v in sorted(distinct_values, key=str)[:4])
        raise InputError(
            f"{column!r} holds more than two values ({shown} ...); monitoring needs yes/no decisions and labels "
            "(a binary task)."
        )
    distinct = sorted(str(v).strip() for v in distinct_values)
    if positive is None:
        positive = _default_positive(distinct)
    wanted = _as_float(positive)
    codes = np.full(len(values), -1, dtype=np.int64)
    if numeric and wanted is not None:
        hits = present.astype(float).to_numpy() == wanted
    else:
        lookup = {
            v: str(v).strip() == positive or (wanted is not None and _as_float(str(v)) == wanted)
            for v in distinct_values
        }
        hits = present.map(lookup).to_numpy(dtype=bool)
    codes[~missing] = hits.astype(np.int64)
    return codes


def _as_float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _default_positive(distinct: list[str]) -> str:
    for candidate in ("1", "1.0", "True", "true", "yes"):
        if candidate in distinct:
            return candidate
    if len(distinct) == 2:
        return distinct[1]
    return distinct[0] if distinct else "1"


def build_windows(
    frame: pd.DataFrame,
    *,
    time_column: str,
    unit: str,
    sensitive: list[str],
    predictions: str,
    target: str | None,
    positive: str | None,
) -> WindowTable:
    """The count table of every window of ``frame`` (one pass)."""
    times = parse_times(frame[time_column], time_column)
    starts = window_starts(times, unit)
    first, last = starts.min(), starts.max()
    index = _window_index(starts, first, unit)
    n_windows = int(index.max()) + 1
    row_cell, cells = _cells(frame, sensitive)
    pred = binary_codes(frame[predictions], positive, column=predictions, allow_missing=False)
    if target is not None:
        label = binary_codes(frame[target], positive, column=target, allow_missing=True) + 1
    else:
        label = np.zeros(len(frame), dtype=np.int64)
    n_cells = len(cells)
    code = ((index * n_cells + row_cell) * LABEL_STATES + label) * 2 + pred
    counts = np.bincount(code, minlength=n_windows * n_cells * LABEL_STATES * 2)
    all_starts = [first]
    while len(all_starts) < n_windows:
        all_starts.append(next_start(all_starts[-1], unit))
    assert all_starts[-1] == last
    return WindowTable(
        unit=unit,
        starts=all_starts,
        columns=list(sensitive),
        cells=cells,
        counts=counts.reshape(n_windows, n_cells, LABEL_STATES, 2).astype(np.int64),
        row_window=index,
    )
