"""Rows an engine grouped (a few hundred), held as columns, with or without pandas.

Ibis hands back a pandas DataFrame; DuckDB and PostgreSQL, asked in plain SQL, hand back Python tuples. The
count table needs only a few column operations, so both are held here alike and pandas is loaded only when
rows are expanded (AUC, amounts): an audit of saved decisions then never imports pandas (measured in
benchmarks/engine: about 0.7 s of CPU and 60 MB of the whole audit of a local file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def is_missing(value: Any) -> bool:
    """None, NaN, and pandas' missing markers (only when pandas is loaded: otherwise there are none)."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is pandas.NA or value is pandas.NaT):
        return True
    return isinstance(value, np.floating) and bool(np.isnan(value))


def _array(values: list[Any]) -> np.ndarray:
    """Numbers and booleans as numeric arrays (as pandas gives them); anything else, or with gaps, as objects."""
    if values and all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.array(values, dtype=bool)
    if values and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            return np.array(values, dtype=object)
    if values and all(isinstance(v, (float, np.floating)) for v in values):
        return np.array(values, dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@dataclass(frozen=True)
class Grouped:
    """Grouped rows: the key columns, then ``n__`` (rows), and ``w__``, ``w2__`` and the checks when asked."""

    names: list[str]
    frame: pd.DataFrame | None = None  # what Ibis returned
    values: dict[str, list[Any]] | None = None  # what a DB-API cursor returned, column by column

    @classmethod
    def of_rows(cls, names: Sequence[str], rows: Sequence[Sequence[Any]], *, exact: bool = False) -> Grouped:
        """``exact``: the engine's decimals kept as they came (the fingerprints recorded before they were
        numbers spelled them so)."""
        from governance.intake.values import plain_column

        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        kept = (lambda c: list(c)) if exact else plain_column
        return cls(names=list(names), values={n: kept(c) for n, c in zip(names, columns, strict=True)})

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, *, exact: bool = False) -> Grouped:
        from governance.intake.values import plain_frame

        return cls(names=[str(c) for c in frame.columns], frame=frame if exact else plain_frame(frame))

    def __len__(self) -> int:
        if self.frame is not None:
            return len(self.frame)
        assert self.values is not None
        return len(self.values[self.names[0]]) if self.names else 0

    def column(self, name: str) -> np.ndarray:
        """One column as numpy (``to_numpy()`` of the frame, so the Ibis path codes labels as before)."""
        if self.frame is not None:
            return np.asarray(self.frame[name].to_numpy())
        assert self.values is not None
        return _array(self.values[name])

    def missing(self, name: str) -> np.ndarray:
        if self.frame is not None:
            return np.asarray(self.frame[name].isna().to_numpy(), dtype=bool)
        assert self.values is not None
        return np.array([is_missing(v) for v in self.values[name]], dtype=bool)

    def distinct(self, name: str) -> list[Any]:
        """The column's non-missing values in the order they come (as ``dropna().unique()``), as Python values."""
        if self.frame is not None:
            values = self.frame[name].dropna().unique().tolist()
        else:
            assert self.values is not None
            values = [v for v in self.values[name] if not is_missing(v)]
        seen: dict[Any, None] = {}
        for value in values:
            seen.setdefault(value.item() if hasattr(value, "item") else value, None)
        return list(seen)

    def smallest(self, name: str) -> float:
        """The smallest non-missing value (NaN when there is none)."""
        if self.frame is not None:
            return float(self.frame[name].min())
        assert self.values is not None
        return float(min((v for v in self.values[name] if not is_missing(v)), default=float("nan")))

    def largest(self, name: str) -> float:
        """The largest non-missing value (NaN when there is none)."""
        if self.frame is not None:
            return float(self.frame[name].max())
        assert self.values is not None
        return float(max((v for v in self.values[name] if not is_missing(v)), default=float("nan")))

    def exact_total(self, name: str) -> float:
        """The correctly rounded sum of the non-missing values (``math.fsum``), whatever their order."""
        import math

        column = self.frame[name].dropna().tolist() if self.frame is not None else self.values[name]  # type: ignore[index]
        return math.fsum(float(v) for v in column if not is_missing(v))

    def total(self, name: str) -> float:
        if self.frame is not None:
            return float(self.frame[name].sum())
        assert self.values is not None
        return float(sum(v for v in self.values[name] if not is_missing(v)))

    def sensitive(self, names: Sequence[str]) -> Any:
        """The sensitive columns, as ``code_sensitive`` takes them: a DataFrame, or name -> values."""
        if self.frame is not None:
            return self.frame[list(names)].reset_index(drop=True)
        assert self.values is not None
        return {name: self.values[name] for name in names}

    def rows(self, names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        if self.frame is not None:
            yield from self.frame[list(names)].itertuples(index=False, name=None)
            return
        assert self.values is not None
        yield from zip(*(self.values[n] for n in names), strict=True)

    def to_pandas(self) -> pd.DataFrame:
        if self.frame is not None:
            return self.frame
        import pandas as pd

        assert self.values is not None
        return pd.DataFrame({name: self.column(name) for name in self.names}, columns=self.names)
