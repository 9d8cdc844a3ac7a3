"""Small synthetic data sets and fitted models for the explanation tests (fast: a few hundred rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def credit_like(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Two numeric and two categorical features, a binary outcome, and two sensitive attributes."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n, p=[0.35, 0.65])
    age = rng.integers(19, 75, size=n)
    X = pd.DataFrame(
        {
            "duration": rng.integers(6, 60, size=n),
            "amount": rng.lognormal(8, 0.6, size=n).round(0),
            "housing": rng.choice(["own", "rent", "free"], size=n, p=[0.6, 0.3, 0.1]),
            "savings": rng.choice(["little", "moderate", "rich", "none"], size=n),
        }
    )
    logit = 1.2 - 0.05 * X["duration"] + 0.8 * (X["housing"] == "own") - 0.6 * (X["savings"] == "little")
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), name="good")
    sensitive = pd.DataFrame({"sex": sex, "age": age})
    return X, y, sensitive


def linear_pipeline(X: pd.DataFrame, y: pd.Series) -> Pipeline:
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["housing", "savings"]),
            (StandardScaler(), ["duration", "amount"]),
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)


@pytest.fixture(scope="session")
def credit() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    return credit_like()


@pytest.fixture(scope="session")
def linear_model(credit: tuple[pd.DataFrame, pd.Series, pd.DataFrame]) -> Pipeline:
    X, y, _ = credit
    return linear_pipeline(X, y)
