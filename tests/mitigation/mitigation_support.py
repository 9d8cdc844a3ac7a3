"""A biased credit-like case for curves and mitigation: the model takes ``sex`` as an input and fails four-fifths.

A module of its own (not conftest) so that tests import it by a name no other test folder uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

FEATURES = ["income", "tenure", "sex"]


def make_frame(n: int, *, seed: int) -> pd.DataFrame:
    """Applicants whose recorded outcomes favour men: a model that uses sex learns it."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n, p=[0.4, 0.6])
    income = rng.normal(50, 10, size=n)
    tenure = rng.integers(0, 20, size=n)
    logit = 0.12 * (income - 50) + 0.06 * (tenure - 10) + 0.9 * (sex == "male") - 0.2
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"income": income, "tenure": tenure, "sex": sex, "label": label})


def fit(frame: pd.DataFrame) -> Pipeline:
    prepare = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["sex"]),
            ("num", StandardScaler(), ["income", "tenure"]),
        ]
    )
    return Pipeline([("prepare", prepare), ("model", LogisticRegression())]).fit(
        frame[FEATURES], frame["label"]
    )
