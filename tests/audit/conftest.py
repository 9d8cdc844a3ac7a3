"""Small, fast audit fixtures: a synthetic credit-like data set and models saved with skops and pickle."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.intake.model_files import save_model


def make_frame(n: int = 600, *, bias: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Applicants with income, tenure and a region; ``bias`` lowers group B's chances."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=n, p=[0.6, 0.4])
    income = rng.normal(50, 10, size=n) - bias * (group == "B") * 10
    tenure = rng.integers(0, 20, size=n)
    region = rng.choice(["north", "south", "east"], size=n)
    logit = 0.15 * (income - 50) + 0.05 * tenure
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "income": income,
            "tenure": tenure,
            "region": region,
            "group": group,
            "label": label,
        }
    )


def fit(frame: pd.DataFrame) -> Pipeline:
    pipeline = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
                        ("num", StandardScaler(), ["income", "tenure"]),
                    ]
                ),
            ),
            ("model", LogisticRegression()),
        ]
    )
    return pipeline.fit(frame[["income", "tenure", "region"]], frame["label"])


@pytest.fixture
def fair_case(tmp_path: Path) -> dict[str, Path]:
    frame = make_frame()
    data = tmp_path / "holdout.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "model.skops"
    save_model(fit(frame), model)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(fit(frame)))
    return {"data": data, "model": model, "pickle": pickled, "root": tmp_path}


@pytest.fixture
def biased_case(tmp_path: Path) -> dict[str, Path]:
    frame = make_frame(3000, bias=1.5, seed=1)
    data = tmp_path / "holdout.parquet"
    frame.to_parquet(data, index=False)
    model = tmp_path / "model.skops"
    save_model(fit(frame), model)
    return {"data": data, "model": model, "root": tmp_path}
