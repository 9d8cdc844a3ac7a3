"""Rows that stand for several identical rows (``counts``) give the result of the rows repeated, intervals included.

An engine's ``GROUP BY`` and a table scored in batches hand the audit distinct rows with their counts; a file hands
it every row. Both must give the same audit for the same seed, or an audit would depend on where the data lives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness import compute_fairness
from governance.audit.fairness.compute import _median
from governance.errors import InputError


def _numbers(result: object) -> list[float]:
    """Every number of a result (points and interval ends), in a fixed order."""
    found: list[float] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                walk(value[key])
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            return
        elif isinstance(value, (int, float)):
            found.append(float(value))

    walk(result.model_dump(mode="json"))  # type: ignore[attr-defined]
    return found


def _scored(seed: int, n: int, *, regression: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], size=n, p=[0.4, 0.6]),
            "age": rng.choice(["young", "old", None], size=n, p=[0.5, 0.45, 0.05]),
            "y": rng.integers(0, 2, size=n),
            "w": rng.choice([0.5, 1.0, 2.0], size=n),
        }
    )
    frame["score"] = np.round(np.clip(0.3 * frame["y"] + rng.random(n) * 0.7, 0, 1), 2)  # ties on purpose
    frame["pred"] = (frame["score"] >= 0.5).astype(int)
    if regression:
        frame["pred"] = np.round(frame["score"] * 10, 1)
        frame["y"] = np.round(frame["pred"] + rng.normal(size=n), 0)
    return frame


def _counted(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    grouped = frame.groupby(keys, dropna=False, sort=False).size().reset_index(name="n__")
    shuffled = grouped.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return shuffled.drop(columns=["n__"]), shuffled["n__"].to_numpy()


@pytest.mark.parametrize("weighted", [False, True])
def test_counted_rows_give_the_audit_of_the_rows_repeated(weighted: bool) -> None:
    frame = _scored(1, 4000)
    keys = ["sex", "age", "y", "pred", "score", "w"]
    distinct, counts = _counted(frame, keys)
    assert len(distinct) < len(frame) / 2  # the test means something: many rows are repeated
    settings = {"n_boot": 300, "seed": 7, "ll144_rate": "scoring"}

    def run(data: pd.DataFrame, counts: np.ndarray | None) -> object:
        return compute_fairness(
            y_pred=data["pred"], y_true=data["y"], scores=data["score"], sensitive=data[["sex", "age"]],
            sample_weight=data["w"] if weighted else None, counts=counts, **settings,
        )  # fmt: skip

    whole, counted = run(frame, None), run(distinct, counts)
    assert counted.n_rows == whole.n_rows == len(frame)  # type: ignore[attr-defined]
    np.testing.assert_allclose(_numbers(counted), _numbers(whole), rtol=1e-12, atol=1e-12)


def test_counted_rows_of_a_regression_give_the_audit_of_the_rows_repeated() -> None:
    frame = _scored(2, 3000, regression=True)
    distinct, counts = _counted(frame, ["sex", "age", "y", "pred"])
    assert len(distinct) < len(frame) / 2

    def run(data: pd.DataFrame, counts: np.ndarray | None) -> object:
        return compute_fairness(
            y_pred=data["pred"], y_true=data["y"], sensitive=data[["sex", "age"]], task="regression",
            counts=counts, n_boot=200, seed=3,
        )  # fmt: skip

    np.testing.assert_allclose(
        _numbers(run(distinct, counts)), _numbers(run(frame, None)), rtol=1e-12, atol=1e-12
    )


def test_rows_given_one_by_one_keep_the_stream_they_had() -> None:
    """Distinct rows (no count above one) draw exactly as before counts existed: same intervals as counts of 1."""
    frame = _scored(4, 500)
    frame["score"] = np.random.default_rng(0).random(len(frame))  # all distinct
    common = {"y_pred": frame["pred"], "y_true": frame["y"], "scores": frame["score"], "n_boot": 50}
    plain = compute_fairness(sensitive=frame[["sex"]], **common)
    ones = compute_fairness(sensitive=frame[["sex"]], counts=np.ones(len(frame)), **common)
    assert _numbers(plain) == _numbers(ones)


@pytest.mark.parametrize("values", [[3.0, 1.0, 2.0], [1.0, 2.0, 2.0, 5.0], [7.0]])
def test_median_of_counted_values_is_numpys_median_of_the_repeated_values(values: list[float]) -> None:
    rng = np.random.default_rng(len(values))
    for _ in range(20):
        counts = rng.integers(1, 5, size=len(values)).astype(float)
        repeated = np.repeat(np.array(values), counts.astype(int))
        assert _median(np.array(values), counts) == float(np.median(repeated))


@pytest.mark.parametrize("counts", [[1, 0, 2], [1, 1.5, 2], [1, 2]])
def test_bad_counts_are_refused_in_one_sentence(counts: list[float]) -> None:
    with pytest.raises(InputError, match="count"):
        compute_fairness(y_pred=[0, 1, 1], sensitive=pd.DataFrame({"g": ["a", "b", "a"]}), counts=counts)
