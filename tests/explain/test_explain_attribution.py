"""SHAP values against hand computations: exact linear SHAP, folding, additivity, explainer choice, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.audit.explain import explain_model
from governance.audit.explain.attribution import (
    Attributions,
    background_sample,
    compute_attributions,
    make_engine,
    stratified_sample,
)
from governance.audit.explain.view import view_model
from governance.errors import ExplainError, InputError


def attribute(model, X: pd.DataFrame, *, background: pd.DataFrame | None = None, **kwargs) -> Attributions:  # type: ignore[no-untyped-def]
    view = view_model(model, X, positive_label=kwargs.pop("positive_label", None))
    frame = X if background is None else background
    return compute_attributions(
        view,
        X,
        rows=np.arange(len(X)),
        background=frame,
        background_method="test",
        budget_seconds=None,
        **kwargs,
    )


def numeric_data(n: int = 300, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)) * [1, 2, 0.5, 3] + [0, 5, -1, 2], columns=["a", "b", "c", "d"])
    y = (X["a"] - 0.3 * X["b"] + rng.normal(size=n) > -1.5).astype(int).to_numpy()
    return X, y


def test_logistic_regression_shap_is_w_times_x_minus_background_mean_exactly() -> None:
    X, y = numeric_data()
    model = LogisticRegression().fit(X, y)
    result = attribute(model, X)
    assert result.kind == "linear"
    assert result.output_space == "log_odds"
    expected = model.coef_[0] * (X.to_numpy() - X.to_numpy().mean(axis=0))
    np.testing.assert_allclose(result.values, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.base_value[0], model.decision_function(X).mean(), atol=1e-12)


def test_pipeline_linear_shap_folds_one_hot_columns_into_their_source_exactly(credit, linear_model) -> None:  # type: ignore[no-untyped-def]
    X, _, _ = credit
    result = attribute(linear_model, X)
    transformed = linear_model[:-1].transform(X)
    transformed = transformed.toarray() if hasattr(transformed, "toarray") else transformed
    unfolded = linear_model[-1].coef_[0] * (transformed - transformed.mean(axis=0))
    encoder = linear_model[0].named_transformers_["onehotencoder"]
    sizes = [len(c) for c in encoder.categories_]  # housing, savings; then duration, amount
    starts = np.cumsum([0, *sizes])
    expected = {
        "housing": unfolded[:, starts[0] : starts[1]].sum(axis=1),
        "savings": unfolded[:, starts[1] : starts[2]].sum(axis=1),
        "duration": unfolded[:, starts[2]],
        "amount": unfolded[:, starts[2] + 1],
    }
    for j, feature in enumerate(result.features):
        np.testing.assert_allclose(result.values[:, j], expected[feature], atol=1e-12)
    assert result.unfolded is not None
    np.testing.assert_allclose(result.unfolded, unfolded, atol=1e-12)


def tree_pipeline(X: pd.DataFrame, y: pd.Series, final) -> object:  # type: ignore[no-untyped-def]
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["housing", "savings"]), remainder="passthrough"
        ),
        final,
    ).fit(X, y)


def test_folded_tree_attributions_sum_to_the_unfolded_ones(credit) -> None:  # type: ignore[no-untyped-def]
    X, y, _ = credit
    model = tree_pipeline(X, y, GradientBoostingClassifier(n_estimators=30, random_state=0))
    result = attribute(model, X.iloc[:120], background=X.iloc[:60])
    assert result.kind == "tree"
    assert result.unfolded is not None
    assert result.unfolded.shape[1] == 9  # 3 housing + 4 savings levels, duration, amount
    np.testing.assert_allclose(result.values.sum(axis=1), result.unfolded.sum(axis=1), atol=1e-10)
    view = view_model(model, X)
    for j, columns in enumerate(view.groups):
        np.testing.assert_allclose(result.values[:, j], result.unfolded[:, columns].sum(axis=1), atol=1e-12)


@pytest.mark.parametrize(
    ("final", "kind", "space"),
    [
        (LogisticRegression(max_iter=1000), "linear", "log_odds"),
        (GradientBoostingClassifier(n_estimators=20, random_state=0), "tree", "log_odds"),
        (RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0), "tree", "probability"),
        (KNeighborsClassifier(n_neighbors=15), "permutation", "probability"),
    ],
    ids=["linear", "gradient-boosting", "random-forest", "permutation"],
)
def test_additivity_for_each_explainer(credit, final, kind: str, space: str) -> None:  # type: ignore[no-untyped-def]
    X, y, sensitive = credit
    model = tree_pipeline(X, y, final) if kind != "linear" else final
    if kind == "linear":
        model = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), ["housing", "savings"]),
                (StandardScaler(), ["duration", "amount"]),
            ),
            final,
        ).fit(X, y)
    rows = 6 if kind == "permutation" else 40
    result = explain_model(model, X, sensitive=sensitive, max_rows=rows, n_boot=20, budget_seconds=30)
    assert result.explainer == kind
    assert result.output_space == space
    assert result.additivity_ok
    assert result.additivity_max_error < 1e-6


def test_multiclass_is_explained_per_class() -> None:
    X, _ = numeric_data(240)
    y = np.digitize(X["a"].to_numpy(), [-0.5, 0.5])
    for model in (
        LogisticRegression().fit(X, y),
        RandomForestClassifier(10, max_depth=3, random_state=0).fit(X, y),
    ):
        result = attribute(model, X.iloc[:50], background=X.iloc[:40])
        assert result.per_output is not None and result.per_output.shape == (50, 4, 3)
        sums = result.per_output.sum(axis=1) + result.base_value.reshape(1, -1)[:, :1] * 0
        assert sums.shape == (50, 3)
        assert result.additivity_max_error < 1e-6
        # the primary output is the last class unless a favourable label is named
        np.testing.assert_allclose(result.values, result.per_output[:, :, 2])
    sensitive = pd.DataFrame({"g": np.where(X["d"] > 2, "x", "y")})
    explained = explain_model(
        LogisticRegression().fit(X, y), X, sensitive=sensitive, positive_label=2, n_boot=10
    )
    assert explained.task == "multiclass"
    assert sorted(explained.per_class_importance) == ["0", "1", "2"]
    assert explained.positive_label == "2"


def test_favourable_label_flips_the_sign_of_a_binary_explanation() -> None:
    X, y = numeric_data()
    model = LogisticRegression().fit(X, y)
    towards_one = attribute(model, X, positive_label=1)
    towards_zero = attribute(model, X, positive_label=0)
    np.testing.assert_allclose(towards_zero.values, -towards_one.values, atol=1e-12)
    assert "'0'" in towards_zero.output_label


def test_regression_is_explained_on_the_prediction() -> None:
    X, _y = numeric_data()
    model = LinearRegression().fit(X, X["a"] * 2 + X["b"])
    result = attribute(model, X)
    assert result.kind == "linear" and result.output_space == "raw"
    np.testing.assert_allclose(result.values[:, 0], 2 * (X["a"] - X["a"].mean()), atol=1e-10)


def test_a_model_shap_misreads_falls_back_to_the_permutation_explainer() -> None:
    # shap 0.51 reads HistGradientBoosting's categorical splits as numeric thresholds: its values do not add
    # up to the output, so the permutation explainer is used.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))
    X["kind"] = rng.integers(0, 6, size=500)
    y = ((X["a"] + np.isin(X["kind"], [1, 3, 4]) * 1.5 + rng.normal(size=500)) > 0.7).astype(int)
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features=[4], random_state=0).fit(X, y)
    sensitive = pd.DataFrame({"g": np.where(X["d"] > 0, "x", "y")})
    result = explain_model(model, X, sensitive=sensitive, max_rows=3, n_boot=10)
    assert result.explainer == "permutation"
    assert any("misread" in note for note in result.notes)
    assert result.additivity_ok


def test_histogram_gradient_boosting_on_numeric_splits_gets_the_tree_explainer() -> None:
    # Its thresholds sit on data values; once values are snapped onto the trees' cells, shap reads it exactly.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(500, 5)), columns=list("abcde"))
    y = (X["a"] + rng.normal(size=500) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    sensitive = pd.DataFrame({"g": np.where(X["e"] > 0, "x", "y")})
    result = explain_model(model, X, sensitive=sensitive, max_rows=30, n_boot=10)
    assert result.explainer == "tree" and result.output_space == "log_odds"
    assert result.additivity_ok and result.additivity_max_error < 1e-6


class Unknown:
    """Not a model shap or scikit-learn knows: predicts text labels, no classes_, no probabilities."""

    def fit(self, X: pd.DataFrame, y: object) -> Unknown:
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.array(["yes"] * len(X), dtype=object)


def test_an_unknown_estimator_gets_a_clear_explain_error(credit) -> None:  # type: ignore[no-untyped-def]
    X, _, sensitive = credit
    with pytest.raises(ExplainError, match="cannot explain"):
        explain_model(Unknown(), X, sensitive=sensitive)
    with pytest.raises(ExplainError, match="no predict method"):
        explain_model(object(), X, sensitive=sensitive)


def test_inputs_are_checked(credit, linear_model) -> None:  # type: ignore[no-untyped-def]
    X, _, sensitive = credit
    with pytest.raises(InputError, match="align them"):
        explain_model(linear_model, X, sensitive=sensitive.iloc[:10])
    with pytest.raises(InputError, match="positive number"):
        explain_model(linear_model, X, sensitive=sensitive, budget_seconds=0)
    with pytest.raises(ExplainError, match="not one of the model's classes"):
        explain_model(linear_model, X, sensitive=sensitive, positive_label="maybe")


def test_the_budget_is_honoured_when_only_the_permutation_explainer_applies(credit) -> None:  # type: ignore[no-untyped-def]
    X, y, sensitive = credit
    big = pd.concat([X] * 5, ignore_index=True)
    model = tree_pipeline(X, y, KNeighborsClassifier(n_neighbors=25))
    result = explain_model(
        model, big, sensitive=pd.concat([sensitive] * 5, ignore_index=True), budget_seconds=3
    )
    assert result.explainer == "permutation"
    # How close to the budget it stops is a speed figure, measured in benchmarks/explain, not asserted here.
    assert result.budget_limited and 4 <= result.rows_explained < len(big)
    assert any("budget" in note for note in result.notes)


def test_background_is_stratified_by_the_decision() -> None:
    strata = np.array([0] * 900 + [1] * 100)
    picks = stratified_sample(strata, 100, seed=3)
    assert len(picks) == 100 and len(set(picks)) == 100
    assert abs((strata[picks] == 1).sum() - 10) <= 1
    X, y = numeric_data(500)
    model = LogisticRegression().fit(X, y)
    view = view_model(model, X)
    rows, how = background_sample(view, X, 50, seed=0)
    share = model.predict(X).mean()
    assert abs(model.predict(X.iloc[rows]).mean() - share) <= 0.03
    assert "stratified" in how
    assert make_engine(view, X.iloc[rows], 0, X).kind == "linear"


class Scorer:
    """A model only the permutation explainer can read: a fixed function with a regression-style predict."""

    def __init__(self, function) -> None:  # type: ignore[no-untyped-def]
        self.function = function

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.function(X.to_numpy(dtype=float))


def test_permutation_shap_is_exact_for_two_features_with_an_interaction() -> None:
    # With two features, an order and its reverse cover every order: the estimate is the exact Shapley value.
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["u", "v"])
    model = Scorer(lambda m: m[:, 0] * m[:, 1] + np.sin(m[:, 0]))
    result = attribute(model, X)
    assert result.kind == "permutation"
    f = model.function
    b = X.to_numpy()
    for i, (u, v) in enumerate(b[:10]):
        empty = f(b).mean()
        only_u = f(np.column_stack([np.full(len(b), u), b[:, 1]])).mean()
        only_v = f(np.column_stack([b[:, 0], np.full(len(b), v)])).mean()
        full = f(np.array([[u, v]]))[0]
        phi_u = 0.5 * ((only_u - empty) + (full - only_v))
        phi_v = 0.5 * ((only_v - empty) + (full - only_u))
        np.testing.assert_allclose(result.values[i], [phi_u, phi_v], atol=1e-12)
    assert result.additivity_max_error < 1e-12


def test_permutation_shap_of_an_additive_model_is_exact_and_handles_text_columns() -> None:
    rng = np.random.default_rng(5)
    X = pd.DataFrame(
        {"n": rng.normal(size=60), "c": rng.choice(["a", "b", "c"], size=60), "m": rng.normal(size=60)}
    )
    bonus = {"a": 0.0, "b": 1.0, "c": -2.0}

    class Additive:
        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return (
                3 * frame["n"].to_numpy()
                + frame["c"].map(bonus).to_numpy(dtype=float)
                - frame["m"].to_numpy()
            )

    model = Additive()
    result = attribute(model, X)
    assert result.kind == "permutation"
    np.testing.assert_allclose(result.values[:, 0], 3 * (X["n"] - X["n"].mean()), atol=1e-12)
    c = X["c"].map(bonus)
    np.testing.assert_allclose(result.values[:, 1], c - c.mean(), atol=1e-12)
    np.testing.assert_allclose(result.values[:, 2], -(X["m"] - X["m"].mean()), atol=1e-12)


@pytest.mark.parametrize(
    ("package", "estimator"), [("lightgbm", "LGBMClassifier"), ("xgboost", "XGBClassifier")]
)
def test_lightgbm_and_xgboost_get_the_tree_explainer_when_installed(
    credit, package: str, estimator: str
) -> None:  # type: ignore[no-untyped-def]
    library = pytest.importorskip(package)
    X, y, sensitive = credit
    numeric = X[["duration", "amount"]]
    options = {"verbose": -1} if package == "lightgbm" else {"max_depth": 3}
    model = getattr(library, estimator)(n_estimators=20, **options).fit(numeric, y)
    result = explain_model(model, numeric, sensitive=sensitive, n_boot=10, max_rows=60)
    assert result.explainer == "tree" and result.output_space == "log_odds"
    assert result.additivity_ok and result.additivity_max_error < 1e-6


def test_the_models_own_columns_are_used_and_a_sensitive_input_is_borrowed(credit) -> None:  # type: ignore[no-untyped-def]
    X, y, sensitive = credit
    with_sex = X.assign(sex=sensitive["sex"])
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["housing", "sex"]), (StandardScaler(), ["duration"])
        ),
        LogisticRegression(max_iter=1000),
    ).fit(with_sex[["housing", "duration", "sex"]], y)
    # X as an audit passes it: no sensitive column, and one column the model never saw (amount, savings)
    result = explain_model(model, X, sensitive=sensitive, n_boot=10)
    assert result.features == ["housing", "duration", "sex"]
    assert result.sensitive_features_in_model == ["sex"]
    with pytest.raises(InputError, match="'sex'"):
        explain_model(model, X, sensitive=sensitive[["age"]], n_boot=10)


def test_a_logistic_regression_subclass_is_explained_in_log_odds() -> None:
    """LogisticRegressionCV is a LogisticRegression: its linear output is the log-odds, not a bare score."""
    from sklearn.linear_model import LogisticRegressionCV

    X, y = numeric_data()
    result = attribute(LogisticRegressionCV(max_iter=500).fit(X, y), X)
    assert result.kind == "linear"
    assert result.output_space == "log_odds"
    assert result.output_label == "log-odds of '1'"
