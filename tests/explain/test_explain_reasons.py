"""Reason codes: only scored, non-sensitive features, at most four, worded plainly, against a chosen reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.audit.explain import reason_codes
from governance.errors import ExplainError, InputError


def world(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], size=n),
            "housing": rng.choice(["own", "rent", "free"], size=n),
            "duration": rng.integers(6, 60, size=n),
            "amount": rng.lognormal(8, 0.5, size=n).round(),
            "unused": rng.normal(size=n),  # in the data, but dropped by the model's ColumnTransformer
        }
    )
    logit = 1 - 0.06 * X["duration"] + 1.0 * (X["housing"] == "own") + 0.8 * (X["sex"] == "male")
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    return X, y


def model_using_sex(X: pd.DataFrame, y: pd.Series, final=None):  # type: ignore[no-untyped-def]
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["sex", "housing"]),
            (StandardScaler(), ["duration", "amount"]),
            remainder="drop",
        ),
        LogisticRegression(max_iter=1000) if final is None else final,
    ).fit(X, y)


@pytest.mark.parametrize(
    "final", [None, GradientBoostingClassifier(n_estimators=30, random_state=0)], ids=["linear", "tree"]
)
def test_reasons_only_name_scored_non_sensitive_features(final) -> None:  # type: ignore[no-untyped-def]
    X, y = world()
    model = model_using_sex(X, y, final)
    statements = reason_codes(model, X, rows=None, sensitive_columns=["sex"])
    adverse = (model.predict(X) != 1).sum()
    assert len(statements) == adverse > 10
    for statement in statements:
        assert statement.adverse and statement.decision == "0"
        assert 1 <= len(statement.reasons) <= 4
        names = [reason.feature for reason in statement.reasons]
        assert set(names) <= {"housing", "duration", "amount"}
        assert "sex" not in statement.statement and "male" not in statement.statement
        assert all(reason.contribution < 0 for reason in statement.reasons)
        assert [r.contribution for r in statement.reasons] == sorted(
            r.contribution for r in statement.reasons
        )


def test_linear_reason_contributions_are_exact_against_the_reference_population() -> None:
    X, y = world()
    model = model_using_sex(X, y)
    (statement,) = reason_codes(model, X, rows=[5], sensitive_columns=["sex"], max_reasons=4)
    transformed = model[:-1].transform(X)
    contributions = model[-1].coef_[0] * (transformed[5] - transformed.mean(axis=0))
    scaler_columns = {"duration": -2, "amount": -1}
    for reason in statement.reasons:
        if reason.feature in scaler_columns:
            assert reason.contribution == pytest.approx(
                contributions[scaler_columns[reason.feature]], abs=1e-10
            )
    assert statement.score == pytest.approx(model.predict_proba(X.iloc[[5]])[0, 1])
    assert statement.reference == "all" and statement.reference_rows == len(X)


def test_near_threshold_reference_and_row_names() -> None:
    X, y = world()
    model = model_using_sex(X, y)
    names = [f"id-{i}" for i in range(len(X))]
    adverse = int(np.flatnonzero(model.predict(X) == 0)[0])
    (statement,) = reason_codes(
        model,
        X,
        rows=[adverse],
        sensitive_columns=["sex"],
        reference="near_threshold",
        row_names=names,
        max_reasons=2,
    )
    assert statement.row == f"id-{adverse}"
    assert statement.reference_rows == 30  # ten per cent of 300 rows, but at least 30
    assert len(statement.reasons) <= 2
    assert "closest to the decision threshold" in statement.statement
    assert statement.statement.startswith(f"The decision for id-{adverse} was '0'.")


def test_a_threshold_decides_the_outcome_for_a_binary_classifier() -> None:
    X, y = world()
    model = model_using_sex(X, y)
    strict = reason_codes(model, X, rows=None, sensitive_columns=["sex"], threshold=0.9)
    lenient = reason_codes(model, X, rows=None, sensitive_columns=["sex"], threshold=0.1)
    assert len(strict) > len(lenient)
    assert all(s.score is not None and s.score < 0.9 for s in strict)


def test_reason_codes_refuse_what_they_cannot_word() -> None:
    X, y = world()
    numeric = X[["duration", "amount"]]
    regressor = LinearRegression().fit(numeric, X["amount"])
    with pytest.raises(ExplainError, match="need threshold:"):
        reason_codes(regressor, numeric, rows=[0], sensitive_columns=[])
    low = reason_codes(
        regressor, numeric, rows=None, sensitive_columns=[], threshold=float(X["amount"].median())
    )
    assert len(low) == int((regressor.predict(numeric) < X["amount"].median()).sum())
    model = model_using_sex(X, y)
    with pytest.raises(InputError):
        reason_codes(model, X, rows=[len(X)], sensitive_columns=["sex"])
    with pytest.raises(InputError):
        reason_codes(model, X, rows=[0], sensitive_columns=["sex"], max_reasons=5)
