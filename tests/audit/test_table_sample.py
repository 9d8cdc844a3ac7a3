"""The stratified sample a table's rows are drawn into for explanations (governance.audit.tables): the same rows as
bottom-k by a random key per sensitive group, and no Python function called per row (a row-by-row join of the
sensitive values took about 30 us a row: hours for `explain` of a large table, found by attacking it with twenty
million rows)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from governance.audit.tables import _cells, _Sample


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = pd.Series(rng.choice(np.array(["f", "m", "-"]), rows, p=[0.45, 0.5, 0.05]), dtype="string")
    age = pd.Series(rng.choice(np.array([1, 2, 3]), rows), dtype="Int64")
    return pd.DataFrame({"sex": sex.replace("-", pd.NA), "age": age, "x": rng.random(rows)})


def _sampled(frame: pd.DataFrame, size: int, batch: int) -> _Sample:
    rng, sample = np.random.default_rng(7), _Sample(size=size, seed=7)
    for start in range(0, len(frame), batch):
        part = frame.iloc[start : start + batch]
        sample.add(part, _cells(part[["sex", "age"]]), rng)
    return sample


@pytest.mark.parametrize(("rows", "size", "batch"), [(5000, 40, 333), (3000, 900, 1000), (50, 10, 7)])
def test_the_sample_keeps_each_groups_rows_with_the_smallest_keys(rows: int, size: int, batch: int) -> None:
    frame = _frame(rows)
    sample = _sampled(frame, size, batch)
    rng = np.random.default_rng(
        7
    )  # the oracle: every row's key, drawn batch by batch as the sample draws them
    keys = np.concatenate([rng.random(len(frame.iloc[s : s + batch])) for s in range(0, rows, batch)])
    cells = frame["sex"].fillna("\0").astype(str) + "\x1f" + frame["age"].astype(str)
    expected = frame.assign(k=keys, c=cells).sort_values("k").groupby("c").head(size)
    assert sample.kept is not None
    assert sorted(sample.kept["x"]) == sorted(expected["x"])
    assert sample.counts == cells.value_counts().to_dict()


def _calls(work: Callable[[], object]) -> int:
    """How many functions (Python or C) ``work`` calls."""
    count = [0]

    def profile(_frame: object, event: str, _arg: object) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count[0]


def test_sampling_calls_no_function_per_row() -> None:
    """Ten batches of 100 rows and ten of 10,000 rows: the same work in calls, give or take pandas' own choices."""
    small, large = _frame(1000), _frame(100_000)
    assert _calls(lambda: _cells(large)) < 1.2 * _calls(lambda: _cells(small))
    few = _calls(lambda: _sampled(small, 50, 100).draw())
    many = _calls(lambda: _sampled(large, 50, 10_000).draw())
    assert many < 1.2 * few, (few, many)


EDGES = {
    "separators in values": pd.DataFrame(
        {"a": ["x\x1fy", "x", "\0", None, "x"], "b": ["z", "y\x1fz", "q", "\0", None]}
    ),
    "1 and '1'": pd.DataFrame({"a": pd.Series(["1", 1, 1.0, "1.0", None], dtype=object)}),
    "categorical": pd.DataFrame({"a": pd.Categorical(["f", "m", None, "f", "m"]), "b": [1, 2, 3, 1, 2]}),
    "boolean with NA": pd.DataFrame({"a": pd.array([True, False, None, True, None], dtype="boolean")}),
    "NaN and None": pd.DataFrame(
        {"a": [1.0, np.nan, None, 2.0, 1.0], "b": pd.Series([np.nan, None, "x", "x", pd.NA], dtype=object)}
    ),
    "dates": pd.DataFrame({"a": pd.to_datetime(["2020-01-01", None, "2020-01-02", "2020-01-01", None])}),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_the_cells_are_the_row_by_row_join(name: str) -> None:
    """The column-wise join gives each row the text the row-wise join gave (so the same groups)."""
    frame = EDGES[name]
    row_wise = frame.astype("string").fillna("\0").agg("\x1f".join, axis=1)
    assert list(_cells(frame)) == list(row_wise)


def _bottom_k(
    frame: pd.DataFrame, cells: pd.Series, size: int, batch: int
) -> tuple[list[float], dict[object, int]]:
    """The oracle: every row's key drawn batch by batch, then each group's ``size`` smallest, sorted once."""
    rng = np.random.default_rng(7)
    keys = np.concatenate([rng.random(len(frame.iloc[s : s + batch])) for s in range(0, len(frame), batch)])
    expected = frame.assign(k=keys, c=cells.to_numpy()).sort_values("k").groupby("c").head(size)
    return sorted(expected["x"]), cells.value_counts().to_dict()


@pytest.mark.parametrize(
    ("rows", "groups", "size", "batch"),
    [(40, 1, 1, 3), (40, 1, 5, 40), (12, 100, 2, 5), (300, 7, 1, 1), (300, 50, 3, 64), (64, 3, 50, 1000)],
)
def test_the_sample_is_bottom_k_for_one_group_more_groups_than_rows_and_size_one(
    rows: int, groups: int, size: int, batch: int
) -> None:
    rng = np.random.default_rng(groups)
    g = rng.integers(0, groups, rows)
    frame = pd.DataFrame(
        {
            "g": pd.Categorical(g.astype(str)),
            "b": pd.array(np.where(g % 3 == 0, None, g % 2 == 0), dtype="boolean"),
            "x": rng.random(rows),
        }
    )
    sample, cells = _Sample(size=size, seed=7), _cells(frame[["g", "b"]])
    draws = np.random.default_rng(7)
    for start in range(0, rows, batch):
        part = frame.iloc[start : start + batch]
        sample.add(part, _cells(part[["g", "b"]]), draws)
    sample.add(
        frame.iloc[:0], _cells(frame.iloc[:0][["g", "b"]]), draws
    )  # a batch with no rows changes nothing
    kept, counts = _bottom_k(frame, cells, size, batch)
    assert sample.kept is not None and sorted(sample.kept["x"]) == kept
    assert sample.counts == counts and len(sample.draw()) >= 1
