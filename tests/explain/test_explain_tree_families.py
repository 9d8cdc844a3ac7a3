"""Every common tree family is explained on the tree path, and its SHAP values add up to the model's own output.

Each family is fitted small (a few hundred rows, a dozen trees), alone and inside a Pipeline with a one-hot
column, for a binary, a three-class and a regression target. The check is against the estimator's own
``predict_proba`` / ``decision_function`` / raw margin, computed here and not taken from the explainer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from governance.audit.explain.attribution import background_sample, compute_attributions, make_engine
from governance.audit.explain.trees import MIN_BACKGROUND, CellSnap, background_for_budget, free_workers
from governance.audit.explain.view import view_model

# Trees whose leaves or arithmetic are 32-bit (XGBoost keeps leaf values as float32; shap's interventional
# code rounds its path weights) add up to within 1e-5 of the output, relative to max(1, |output|).
FLOAT32_TOLERANCE = 1e-5
EXACT_TOLERANCE = 1e-6


def families() -> list[Any]:
    cases: list[Any] = [
        (
            "decision-tree",
            lambda c: DecisionTreeClassifier(max_depth=5, random_state=0),
            lambda: DecisionTreeRegressor(max_depth=5, random_state=0),
            EXACT_TOLERANCE,
        ),
        (
            "random-forest",
            lambda c: RandomForestClassifier(12, max_depth=6, random_state=0),
            lambda: RandomForestRegressor(12, max_depth=6, random_state=0),
            EXACT_TOLERANCE,
        ),
        (
            "extra-trees",
            lambda c: ExtraTreesClassifier(12, max_depth=6, random_state=0),
            lambda: ExtraTreesRegressor(12, max_depth=6, random_state=0),
            EXACT_TOLERANCE,
        ),
        (
            "gradient-boosting",
            lambda c: GradientBoostingClassifier(n_estimators=15, random_state=0),
            lambda: GradientBoostingRegressor(n_estimators=15, random_state=0),
            EXACT_TOLERANCE,
        ),
        (
            "hist-gradient-boosting",
            lambda c: HistGradientBoostingClassifier(max_iter=15, random_state=0),
            lambda: HistGradientBoostingRegressor(max_iter=15, random_state=0),
            FLOAT32_TOLERANCE,
        ),
    ]
    try:
        import xgboost

        cases.append(
            (
                "xgboost",
                lambda c: xgboost.XGBClassifier(n_estimators=15, max_depth=4, n_jobs=1),
                lambda: xgboost.XGBRegressor(n_estimators=15, max_depth=4, n_jobs=1),
                FLOAT32_TOLERANCE,
            )
        )
    except ImportError:  # pragma: no cover - xgboost is installed in the project's environment
        pass
    try:
        import lightgbm

        options = {"n_estimators": 15, "num_leaves": 15, "verbose": -1, "n_jobs": 1, "min_child_samples": 5}
        cases.append(
            (
                "lightgbm",
                lambda c: lightgbm.LGBMClassifier(**options),
                lambda: lightgbm.LGBMRegressor(**options),
                FLOAT32_TOLERANCE,
            )
        )
    except ImportError:  # pragma: no cover
        pass
    return cases


FAMILIES = families()


def data(task: str, n: int = 360, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric columns with repeated values (ties at thresholds are where shap and models used to disagree)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "income": rng.normal(size=n),
            "age": rng.integers(18, 80, size=n).astype(float),
            "rate": np.round(rng.normal(size=n), 1),
            "region": rng.choice(["north", "south", "east"], size=n),
        }
    )
    signal = X["income"] + 0.03 * (X["age"] - 50) + 0.7 * X["rate"] + 0.5 * (X["region"] == "north")
    signal = signal + rng.normal(scale=0.5, size=n)
    if task == "binary":
        return X, (signal > 0.2).astype(int).to_numpy()
    if task == "multiclass":
        return X, np.digitize(signal, [-0.5, 0.7])
    return X, signal.to_numpy()


def fit(estimator: Any, X: pd.DataFrame, y: np.ndarray, pipeline: bool) -> Any:
    if pipeline:
        prepare = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["region"]), remainder="passthrough"
        )
        return make_pipeline(prepare, estimator).fit(X, y)
    return estimator.fit(X.drop(columns="region"), y)


def own_output(model: Any, X: pd.DataFrame, space: str) -> np.ndarray:
    """The estimator's own output in the explained space: (rows, outputs)."""
    steps = getattr(model, "steps", None)
    final = steps[-1][1] if steps else model
    matrix = model[:-1].transform(X) if steps else X.to_numpy()
    matrix = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix, dtype=float)
    module = type(final).__module__
    if space == "probability":
        out = final.predict_proba(matrix)
    elif module.startswith("xgboost"):
        out = final.predict(matrix, output_margin=True)
    elif module.startswith("lightgbm"):
        out = final.predict(matrix, raw_score=True)
    elif hasattr(final, "decision_function"):
        out = final.decision_function(matrix)
    else:
        out = final.predict(matrix)
    return np.asarray(out, dtype=float).reshape(len(X), -1)


def explain(model: Any, X: pd.DataFrame, rows: int = 40, **kwargs: Any) -> Any:
    """(view, attributions, background positions) for the first ``rows`` rows against a 40-row background."""
    view = view_model(model, X)
    picks, method = background_sample(view, X, 40, 0)
    return (
        view,
        compute_attributions(
            view,
            X,
            rows=np.arange(rows),
            background=X.iloc[picks],
            background_method=method,
            budget_seconds=None,
            **kwargs,
        ),
        picks,
    )


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize(
    ("name", "classifier", "regressor", "tolerance"), FAMILIES, ids=[f[0] for f in FAMILIES]
)
def test_tree_family_is_explained_exactly_on_the_tree_path(
    name: str, classifier: Any, regressor: Any, tolerance: float, task: str, pipeline: bool
) -> None:
    X, y = data(task)
    estimator = regressor() if task == "regression" else classifier(task)
    model = fit(estimator, X, y, pipeline)
    frame = X if pipeline else X.drop(columns="region")
    view, result, picks = explain(model, frame, workers=1)
    assert result.kind == "tree", view.notes
    expected = own_output(model, frame.iloc[:40], result.output_space)
    base = own_output(model, frame.iloc[picks], result.output_space).mean(axis=0)  # mean over the background
    scale = max(1.0, float(np.abs(expected).max()))
    if task == "multiclass":
        assert result.per_output is not None and result.per_output.shape[2] == 3
        sums = result.per_output.sum(axis=1) + base.reshape(1, -1)
        np.testing.assert_allclose(sums, expected, atol=tolerance * scale, rtol=0)
    else:
        sums = result.values.sum(axis=1) + base[-1]
        np.testing.assert_allclose(sums, expected[:, -1], atol=tolerance * scale, rtol=0)
    assert result.additivity_max_error <= tolerance * scale


@pytest.mark.filterwarnings("ignore")
def test_values_at_a_threshold_route_like_the_model() -> None:
    # HistGradientBoosting puts thresholds on data values; shap compares in 32-bit floats and the model in
    # 64-bit ones, so without snapping the background rows on a threshold broke additivity by about 1e-2.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
    y = (X["a"] + rng.normal(size=600) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    view = view_model(model, X)
    result = compute_attributions(
        view, X, rows=np.arange(50), background=X.iloc[:50], background_method="test", budget_seconds=None
    )
    assert result.kind == "tree"
    expected = model.decision_function(X.iloc[:50])
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value[0], expected, atol=1e-6)
    np.testing.assert_allclose(result.base_value[0], model.decision_function(X.iloc[:50]).mean(), atol=1e-12)


@pytest.mark.parametrize("float32_input", [False, True], ids=["64-bit model", "32-bit model"])
def test_renumbered_values_and_thresholds_route_like_the_model(float32_input: bool) -> None:
    # Two thresholds within one 32-bit step of each other (a scikit-learn forest split "rate" at 1.7 this
    # way): no 32-bit value can stand for the cell between them, but their numbers can.
    cuts = np.array(
        [-0.8496059556101431, 0.1477918740539763, 1.699999988079071, 1.7000000476837158, 3.0000001]
    )
    ensemble = _FakeEnsemble(cuts)
    estimator = HistGradientBoostingClassifier() if not float32_input else RandomForestClassifier()
    snap = CellSnap.from_ensemble(ensemble, estimator)
    values = np.array(
        [-2.0, cuts[0], np.nextafter(cuts[0], 1), 0.3, 1.7, 1.6999999, 3.0, 3.0000001, 7.0, np.nan]
    )
    snapped = snap.apply(values.reshape(-1, 1))[:, 0]
    seen = values.astype(np.float32).astype(np.float64) if float32_input else values
    for number, threshold in zip(ensemble.thresholds[0][:-1], cuts, strict=True):
        want = seen[:-1] <= threshold  # the model's comparison
        assert np.array_equal(snapped[:-1] <= number, want)
        assert np.array_equal(snapped[:-1].astype(np.float32) <= np.float32(number), want)  # shap's
    assert np.isnan(snapped[-1])


class _FakeEnsemble:
    """The arrays CellSnap reads from shap's TreeEnsemble: one tree splitting feature 0 at each cut."""

    def __init__(self, cuts: np.ndarray) -> None:
        n = len(cuts)
        self.children_left = np.array([[1] * n + [-1]])
        self.features = np.array([[0] * n + [-2]])
        self.thresholds = np.array([[*cuts, 0.0]])
        self.threshold_types = np.zeros_like(self.features)


class CountingTransformer(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Passes rows through and counts how often it is asked to."""

    calls = 0
    rows = 0

    def fit(self, X: Any, y: Any = None) -> CountingTransformer:
        self.fitted_ = True
        return self

    def transform(self, X: Any) -> Any:
        CountingTransformer.calls += 1
        CountingTransformer.rows += len(X)
        return np.asarray(X, dtype=float)


@pytest.mark.filterwarnings("ignore")
def test_rows_are_transformed_once_and_the_model_called_once() -> None:
    X, y = data("binary")
    frame = X.drop(columns="region")
    model = make_pipeline(CountingTransformer(), GradientBoostingClassifier(n_estimators=10, random_state=0))
    model.fit(frame, y)
    view = view_model(model, frame)
    background = frame.iloc[:30]
    engine = make_engine(view, background, 0, frame)
    final = model[-1]
    calls = {"decision_function": 0}
    original = final.decision_function

    def counted(matrix: Any) -> Any:
        calls["decision_function"] += 1
        return original(matrix)

    final.decision_function = counted
    engine._truth = counted  # type: ignore[attr-defined]
    CountingTransformer.calls = CountingTransformer.rows = 0
    result = compute_attributions(
        view,
        frame,
        rows=np.arange(300),
        background=background,
        background_method="test",
        budget_seconds=600,
        engine=engine,
        workers=2,
    )
    assert len(result.rows) == 300 and not result.budget_limited
    assert CountingTransformer.calls == 1 and CountingTransformer.rows == 300
    assert calls["decision_function"] == 1


@pytest.mark.filterwarnings("ignore")
def test_parallel_chunks_give_the_serial_values() -> None:
    X, y = data("multiclass")
    model = fit(RandomForestClassifier(20, max_depth=6, random_state=0), X, y, pipeline=True)
    _, serial, _ = explain(model, X, rows=120, workers=1)
    import governance.audit.explain.attribution as attribution

    saved = attribution.PARALLEL_MIN_SECONDS
    attribution.PARALLEL_MIN_SECONDS = 0.0  # fork the workers even for this small job
    try:
        _, parallel, _ = explain(model, X, rows=120, workers=2)
    finally:
        attribution.PARALLEL_MIN_SECONDS = saved
    np.testing.assert_array_equal(parallel.rows, serial.rows)
    np.testing.assert_allclose(parallel.per_output, serial.per_output, atol=1e-12)


def test_the_background_shrinks_to_fit_the_time_left_and_no_further_than_its_floor() -> None:
    # 2,000 rows at 40 ms a row on 2 workers need 40 s: with 60 s left the full background fits.
    assert background_for_budget(100, 2000, 0.04, 60.0, 2) == 100
    # With 20 s left it is cut in proportion (80 % of the time left is planned for).
    assert background_for_budget(100, 2000, 0.04, 20.0, 2) == 40
    # It never goes below the floor; rows are cut instead.
    assert background_for_budget(100, 2000, 0.04, 1.0, 2) == MIN_BACKGROUND
    assert background_for_budget(10, 2000, 0.04, 1.0, 2) == 10


@pytest.mark.filterwarnings("ignore")
def test_a_tight_budget_shrinks_the_background_before_cutting_rows_and_says_so() -> None:
    # 600 rows of a 100-tree forest against 100 background rows take seconds; 0.3 s cannot hold them.
    X, y = data("binary", n=600)
    model = fit(RandomForestClassifier(100, max_depth=10, random_state=0), X, y, pipeline=True)
    view = view_model(model, X)
    picks, method = background_sample(view, X, 100, 0)
    result = compute_attributions(
        view,
        X,
        rows=np.arange(600)[::-1],
        background=X.iloc[picks],
        background_method=method,
        budget_seconds=0.3,
    )
    assert result.kind == "tree"
    assert MIN_BACKGROUND <= result.background_size < 100
    assert "to fit the budget" in result.background_method
    assert any(f"background of {result.background_size} of the 100 rows" in note for note in result.notes)
    np.testing.assert_array_equal(result.rows, np.arange(600)[::-1][: len(result.rows)])  # a prefix, in order
    assert result.additivity_max_error < 1e-6


def test_planning_counts_only_the_cores_other_jobs_leave_free() -> None:
    assert free_workers(1) == 1
    assert 1 <= free_workers(64) <= 64
