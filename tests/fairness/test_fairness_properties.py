"""Invariants, checked with hypothesis: row order, group names and bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit.fairness import compute_fairness

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(min_value=8, max_value=80))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m", "x"], n)
    band = rng.choice(["young", "old"], n).astype(object)
    band[rng.random(n) < 0.1] = None
    y_true = rng.integers(0, 2, n)
    y_pred = rng.integers(0, 2, n)
    y_true[:2] = [0, 1]
    y_pred[:2] = [0, 1]
    scores = rng.random(n).round(2)  # rounded: ties happen
    weights = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    return {
        "sensitive": pd.DataFrame({"sex": sex, "band": band}),
        "y_true": y_true,
        "y_pred": y_pred,
        "scores": scores,
        "sample_weight": weights,
        "permutation": rng.permutation(n),
    }


def _run(data: dict[str, object], order: np.ndarray | None = None, sensitive: pd.DataFrame | None = None):
    def take(value: object) -> object:
        if value is None or order is None:
            return value
        return np.asarray(value)[order]

    frame = data["sensitive"] if sensitive is None else sensitive
    assert isinstance(frame, pd.DataFrame)
    if order is not None:
        frame = frame.iloc[order].reset_index(drop=True)
    return compute_fairness(
        y_pred=take(data["y_pred"]),
        y_true=take(data["y_true"]),
        scores=take(data["scores"]),
        sample_weight=take(data["sample_weight"]),
        sensitive=frame,
        n_boot=30,
        seed=5,
    )


@SETTINGS
@given(datasets())
def test_permuting_rows_changes_nothing(data: dict[str, object]) -> None:
    """Exact: the count table and the canonical row order do not depend on the input order."""
    original = _run(data).model_dump()
    permuted = _run(data, order=np.asarray(data["permutation"])).model_dump()
    if data["sample_weight"] is None:
        assert permuted == original
    else:  # summed weights differ in the last bit with the summation order
        _assert_close(permuted, original)


def _assert_close(left: object, right: object) -> None:
    if isinstance(left, dict) and isinstance(right, dict):
        assert left.keys() == right.keys()
        for key in left:
            _assert_close(left[key], right[key])
    elif isinstance(left, list) and isinstance(right, list):
        assert len(left) == len(right)
        for a, b in zip(left, right, strict=True):
            _assert_close(a, b)
    elif isinstance(left, float) and isinstance(right, float):
        assert abs(left - right) <= 1e-9 * max(1.0, abs(right))
    else:
        assert left == right


@SETTINGS
@given(datasets())
def test_renaming_groups_only_renames_results(data: dict[str, object]) -> None:
    """Order-preserving renames give identical numbers (intervals too); any rename keeps the points."""
    sensitive = data["sensitive"]
    assert isinstance(sensitive, pd.DataFrame)
    same_order = {"f": "a-female", "m": "b-male", "x": "c-other"}
    renamed = sensitive.assign(sex=sensitive["sex"].map(same_order))
    original = _run(data).model_copy(update={"notes": []}).model_dump_json()
    expected = original
    for old, new in same_order.items():
        expected = expected.replace(f'"{old}"', f'"{new}"').replace(f'"{old} × ', f'"{new} × ')
    assert _run(data, sensitive=renamed).model_copy(update={"notes": []}).model_dump_json() == expected

    reordered = {"f": "zeta", "m": "alpha", "x": "mid"}
    shuffled = _run(data, sensitive=sensitive.assign(sex=sensitive["sex"].map(reordered)))
    before = {g.group: g.metrics["selection_rate"].value for g in _run(data).attributes[0].groups}
    after = {g.group: g.metrics["selection_rate"].value for g in shuffled.attributes[0].groups}
    assert after == {reordered.get(name, name): value for name, value in before.items()}
    assert [g.group for g in shuffled.attributes[0].groups] == sorted(after)


@SETTINGS
@given(datasets())
def test_between_group_ratios_lie_in_unit_interval(data: dict[str, object]) -> None:
    result = _run(data)
    for item in result.attributes:
        for spread in item.between_groups:
            for number in (spread.ratio.value, spread.ratio.low, spread.ratio.high):
                assert number is None or 0.0 <= number <= 1.0
            for number in (spread.difference.value, spread.difference.low, spread.difference.high):
                assert number is None or number >= 0.0
        for key, estimate in item.summaries.items():
            if key.endswith("_ratio") and estimate.value is not None:
                assert 0.0 <= estimate.value <= 1.0
        for group in item.groups:
            for name, estimate in group.metrics.items():
                if estimate.value is not None and name != "brier":
                    assert 0.0 <= estimate.value <= 1.0
                    assert estimate.low is None or estimate.low <= estimate.high  # type: ignore[operator]
