"""Many groups at the cost of counting them (issue 13, point 2).

An audit of three sensitive columns with 50 x 10 x 5 levels has 2,500 intersection cells and, with every pair
of columns, some 3,400 groups. Its numbers must all come with intervals, the tests against the reference must
run as arrays (the same p-values as scipy), and the result records must not be validated one by one.
"""

from __future__ import annotations

import copy
import pickle
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairness_helpers import binary_data
from scipy import stats

from governance.audit.fairness import compute_fairness
from governance.audit.fairness._stats import holm, holm_array, two_by_two_p_value, two_by_two_p_values
from governance.intervals import (
    Pairs,
    against_fixed,
    against_fixed_many,
    score_ratio,
    spread,
    spread_many,
    z_for,
)
from governance.results.fairness import AttributeResult, FairnessResult


def _many_groups(n: int, seed: int = 0) -> dict[str, Any]:
    """Three sensitive columns of 50, 10 and 5 levels, every one of the 2,500 combinations present."""
    rng = np.random.default_rng(seed)
    region, age, race = (np.arange(n) % k for k in (50, 10, 5))  # every cell, then random rows
    extra = n - 2500
    region[2500:], age[2500:], race[2500:] = (rng.integers(0, k, extra) for k in (50, 10, 5))
    region[:2500], age[:2500], race[:2500] = (
        x.reshape(-1) for x in np.meshgrid(*(np.arange(k) for k in (50, 10, 5)), indexing="ij")
    )
    y_true = (rng.random(n) < 0.2 + 0.004 * region + 0.03 * race).astype(int)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    sensitive = pd.DataFrame(
        {
            "region": [f"r{i:02d}" for i in region],
            "age": [f"a{i}" for i in age],
            "race": [f"c{i}" for i in race],
        }
    )
    return {"y_true": y_true, "y_pred": y_pred, "sensitive": sensitive}


@pytest.fixture(scope="module")
def many() -> Any:
    data = _many_groups(40_000)
    with _counting_validations() as counted:
        result = compute_fairness(**data, n_boot=0)
    return result, counted


def test_every_group_of_a_2500_cell_intersection_has_intervals(many: Any) -> None:
    result, _ = many
    full = next(a for a in result.attributes if a.attribute == "region × age × race")
    assert len(full.groups) == 2500
    for group in full.groups:
        for name, value in group.metrics.items():
            if value.value is not None:
                assert value.has_interval, (group.group, name)
    for row in [*full.to_reference, *full.to_overall]:
        assert row.difference.value is None or row.difference.has_interval, row
        assert row.ratio.value is None or row.ratio.has_interval, row
    assert full.ll144 is not None
    assert all(r.impact_ratio is None or r.impact_ratio_low is not None for r in full.ll144.rows)
    assert not any("interval" in note and "no " in note for note in result.notes)


def test_result_records_are_not_validated_one_by_one(many: Any) -> None:
    """Some 250,000 records; pydantic validates the containers only (it validated 33,000 records before)."""
    result, counted = many
    records = sum(len(a.groups) + len(a.to_reference) + len(a.to_overall) for a in result.attributes)
    assert records > 60_000
    assert counted["validate_python"] <= 4 * len(result.attributes) + 10


@contextmanager
def _counting_validations() -> Iterator[dict[str, int]]:
    """Count pydantic validations started from Python (each one is a call of ``validate_python``)."""
    counted = {"validate_python": 0}

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", "") == "validate_python":
            counted["validate_python"] += 1

    sys.setprofile(profile)
    try:
        yield counted
    finally:
        sys.setprofile(None)


def _grid() -> np.ndarray:
    """2 x 2 tables with 0 and full counts, tiny groups and large ones."""
    rng = np.random.default_rng(3)
    small = np.array(list(product(range(7), repeat=4)))
    sizes = [rng.integers(0, top, size=(300, 4)) for top in (20, 80, 400, 5000)]
    edges = np.array(
        [[0, 50, 3, 40], [50, 0, 40, 3], [0, 0, 5, 5], [7, 0, 0, 9], [0, 9, 0, 1], [1, 0, 2000, 0]]
    )
    return np.concatenate([small, *sizes, edges])


def test_vectorised_tests_equal_scipy_and_the_scalar_version() -> None:
    tables = _grid()
    vector = two_by_two_p_values(*tables.T)
    for (a, b, c, d), found in zip(tables.tolist(), vector.tolist(), strict=True):
        scalar = two_by_two_p_value(a, b, c, d)
        if scalar is None:
            assert np.isnan(found)
            continue
        assert found == scalar  # the same last bit as one test at a time
        rows, columns, n = (a + b, c + d), (a + c, b + d), a + b + c + d
        if min(r * k / n for r in rows for k in columns) < 5:
            expected = stats.fisher_exact([[a, b], [c, d]]).pvalue
        else:
            expected = stats.chi2_contingency([[a, b], [c, d]], correction=False).pvalue
        assert found == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_vectorised_holm_equals_the_step_down_by_hand() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        values = [
            None if rng.random() < 0.2 else float(rng.choice([rng.random(), 0.05, 0.5]))
            for _ in range(rng.integers(0, 30))
        ]
        expected = holm(values)
        found = holm_array(np.array([np.nan if v is None else v for v in values]))
        assert [None if np.isnan(f) else f for f in found.tolist()] == expected


def test_score_intervals_searched_together_equal_one_at_a_time() -> None:
    """Batched score intervals (ratios both ways, spreads) are the same numbers as separate calls."""
    tables = _grid()
    k1, n1 = tables[:, 0], tables[:, 0] + tables[:, 1]
    k2, n2 = tables[:, 2], tables[:, 2] + tables[:, 3]
    z = z_for(0.95)
    low, high = score_ratio(k1, n1, k2, n2, z)
    for i in range(0, tables.shape[0], 97):
        one_low, one_high = score_ratio(k1[i : i + 1], n1[i : i + 1], k2[i : i + 1], n2[i : i + 1], z)
        assert np.array_equal(one_low, low[i : i + 1], equal_nan=True)
        assert np.array_equal(one_high, high[i : i + 1], equal_nan=True)
    low_only = score_ratio(k1, n1, k2, n2, z, "low")[0]
    high_only = score_ratio(k1, n1, k2, n2, z, "high")[1]
    assert np.array_equal(low_only, low, equal_nan=True) and np.array_equal(high_only, high, equal_nan=True)
    rng = np.random.default_rng(9)
    items = []
    for size in (2, 5, 60, 300):
        n = rng.integers(0, 400, size).astype(float)
        pairs = Pairs.of_counts(np.floor(n * rng.random(size)), n)
        items.append((pairs, np.flatnonzero(n > 0), z, z_for(0.95, size * (size - 1) // 2)))
    for (pairs, groups, z_plain, z_joint), (difference, ratio) in zip(items, spread_many(items), strict=True):
        for kind, found in (("difference", difference), ("ratio", ratio)):
            alone = spread(pairs, groups, kind, z_plain=z_plain, z_joint=z_joint)  # type: ignore[arg-type]
            for part in ("point", "low", "high"):
                assert np.array_equal(getattr(alone, part), getattr(found, part), equal_nan=True)
    fixed = [(pairs, groups, int(groups[0])) for pairs, groups, _, _ in items]
    for (pairs, groups, ref), (difference, ratio) in zip(fixed, against_fixed_many(fixed, z), strict=True):
        for kind, found in (("difference", difference), ("ratio", ratio)):
            alone = against_fixed(pairs, groups, ref, kind, z)  # type: ignore[arg-type]
            for part in ("point", "low", "high"):
                assert np.array_equal(getattr(alone, part), getattr(found, part), equal_nan=True)


def test_score_statistic_in_place_equals_the_formula() -> None:
    """The in-place statistic the searches use gives the formula's numbers to the last bit."""
    from governance.intervals import _Score

    tables = _grid().astype(np.float64)
    k1, n1 = tables[:, 0], tables[:, 0] + tables[:, 1] + 1
    k2, n2 = tables[:, 2], tables[:, 2] + tables[:, 3] + 1
    score = _Score(k1, n1, k2, n2)
    rng = np.random.default_rng(1)
    with np.errstate(all="ignore"):
        for theta in (
            np.exp(rng.uniform(-35, 35, k1.shape[0])),
            np.ones(k1.shape[0]),
            np.full(k1.shape[0], 1e-15),
        ):
            assert np.array_equal(score.statistic(theta), score._reference(theta), equal_nan=True)


def test_records_made_in_bulk_equal_validated_ones(many: Any) -> None:
    """Records made without validation are the records pydantic would make, and behave like them."""
    from governance.results.fairness import AttributeResult, FairnessResult

    result, _ = many
    full = next(a for a in result.attributes if a.attribute == "region × age × race")
    assert AttributeResult.model_validate(full.model_dump()) == full
    again = FairnessResult.model_validate_json(result.model_dump_json())
    assert again == result
    group = full.groups[0]
    estimate = group.metrics["selection_rate"]
    changed = estimate.model_copy(update={"value": 0.5})  # a copy gets its own set of field names
    assert changed.value == 0.5 and estimate.value != 0.5
    assert full.groups[1].metrics["selection_rate"].model_fields_set == {"value", "low", "high"}
    with pytest.raises(ValueError, match="frozen"):
        estimate.value = 0.1


def test_the_records_are_made_when_first_read_or_written() -> None:
    """A 2,500-cell audit keeps its numbers as arrays (6 MB) until its records are read (89 MB made at once)."""
    data = _many_groups(40_000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = compute_fairness(**data, n_boot=0)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 20_000_000
    full = next(a for a in result.attributes if a.attribute == "region × age × race")
    assert len(full.groups) == 2500 and len(full.to_reference) == 9 * 2499


def test_records_made_later_behave_like_records_made_at_once() -> None:
    """Read, written, compared, copied, pickled or printed: a result whose records are made later is the same."""
    data = binary_data(800, seed=2, missing=True)
    arguments = {key: data[key] for key in ("y_true", "y_pred", "scores", "sensitive")}
    eager = FairnessResult.model_validate_json(compute_fairness(**arguments, n_boot=20).model_dump_json())
    fields = list(AttributeResult.model_fields)
    for make in (
        lambda r: r,
        lambda r: r.model_copy(),
        lambda r: r.model_copy(deep=True),
        lambda r: copy.copy(r),
        lambda r: pickle.loads(pickle.dumps(r)),
    ):
        lazy = make(compute_fairness(**arguments, n_boot=20))
        assert lazy == eager and eager == lazy
        assert [list(dict(a)) for a in lazy.attributes] == [fields] * len(eager.attributes)
    lazy = compute_fairness(**arguments, n_boot=20)
    first = lazy.attributes[0]
    copied = first.model_copy()
    assert first.to_overall == eager.attributes[0].to_overall  # one field made: the copy still makes its own
    assert copied.groups == eager.attributes[0].groups and copied == eager.attributes[0]
    assert repr(lazy.attributes[1]) == repr(eager.attributes[1])
    assert lazy.attributes[2].model_dump() == eager.attributes[2].model_dump()
    assert lazy.model_dump_json() == eager.model_dump_json()
    assert list(lazy.attributes[0].__dict__) == fields  # made fields back in their declared order
    with pytest.raises(AttributeError):
        compute_fairness(**arguments, n_boot=20).attributes[0].no_such_field  # noqa: B018
    with pytest.raises(TypeError, match="made later"):
        AttributeResult.with_records_later({"between_groups": list}, **dict(eager.attributes[0]))


def test_only_frozen_records_are_made_in_bulk() -> None:
    from pydantic import BaseModel

    from governance.audit.fairness._records import Maker

    class Loose(BaseModel):
        value: float

    with pytest.raises(TypeError, match="not frozen"):
        Maker(Loose)


def test_resampled_intervals_in_blocks_equal_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUC and Brier intervals (and their comparisons) made a few groups at a time are the same numbers."""
    import governance.audit.fairness._attribute as attribute_module

    rng = np.random.default_rng(4)
    n = 3000
    sensitive = pd.DataFrame({"a": rng.choice(list("abcdefgh"), n), "b": rng.choice(list("xyz"), n)})
    y_true = rng.integers(0, 2, n)
    scores = np.clip(0.3 * y_true + rng.random(n) * 0.7, 0, 1)
    arguments = dict(
        y_pred=(scores > 0.5).astype(int), y_true=y_true, scores=scores, sensitive=sensitive, n_boot=40
    )
    whole = compute_fairness(**arguments).model_dump()  # type: ignore[arg-type]
    monkeypatch.setattr(attribute_module, "_RESAMPLED_VALUES", 50)  # one or two groups a block
    assert compute_fairness(**arguments).model_dump() == whole  # type: ignore[arg-type]
