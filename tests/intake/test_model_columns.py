"""The model's own input columns (``feature_names_in_``) decide what an audit feeds it; ``--features`` overrides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.errors import InputError
from governance.intake.data import choose_input_columns, load_audit_data, recorded_inputs


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 120
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "region": rng.choice(["n", "s"], n),
            "income": rng.normal(50, 10, n),
            "sex": rng.choice(["f", "m"], n),
            "tenure": rng.integers(0, 20, n),
            "label": rng.integers(0, 2, n),
        }
    )


def _uses_sex(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return make_pipeline(
        make_column_transformer((OneHotEncoder(), ["sex", "region"]), (StandardScaler(), ["income"])),
        LogisticRegression(),
    ).fit(frame[["sex", "income", "region"]], frame["label"])


def test_recorded_inputs_of_a_plain_model_a_pipeline_and_an_unnamed_fit(frame: pd.DataFrame) -> None:
    plain = LogisticRegression().fit(frame[["tenure", "income"]], frame["label"])
    assert recorded_inputs(plain) == ["tenure", "income"]
    assert recorded_inputs(_uses_sex(frame)) == ["sex", "income", "region"]
    assert recorded_inputs(LogisticRegression().fit(frame[["income"]].to_numpy(), frame["label"])) is None


def test_the_models_columns_in_its_order_a_sensitive_one_included(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    data = load_audit_data(path, target="label", sensitive=["sex"], id_column="id", model=_uses_sex(frame))
    assert data.features == ["sex", "income", "region"]
    assert data.features_source == "model"
    assert list(data.X.columns) == ["sex", "income", "region"]
    plain = LogisticRegression().fit(frame[["tenure", "income"]], frame["label"])
    assert load_audit_data(path, target="label", sensitive=["sex"], model=plain).features == [
        "tenure",
        "income",
    ]


def test_features_override_the_model_and_no_record_means_every_other_column(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    chosen = load_audit_data(
        path, target="label", sensitive=["sex"], features=["income"], model=_uses_sex(frame)
    )
    assert (chosen.features, chosen.features_source) == (["income"], "features")
    unnamed = LogisticRegression().fit(frame[["income"]].to_numpy(), frame["label"])
    rest = load_audit_data(path, target="label", sensitive=["sex"], id_column="id", model=unnamed)
    assert (rest.features, rest.features_source) == (["region", "income", "tenure"], "data")


def test_a_column_the_model_needs_but_the_data_lacks_is_named(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    frame.drop(columns=["sex", "region"]).assign(gender=frame["sex"]).to_csv(path, index=False)
    with pytest.raises(InputError) as caught:
        load_audit_data(path, target="label", sensitive=["gender"], model=_uses_sex(frame))
    assert str(caught.value) == (
        "The model was trained on the column(s) 'sex', 'region', which data.csv lacks; add them to the data, "
        "or name the model's input columns with features."
    )


def test_a_model_input_that_is_the_target_is_refused() -> None:
    with pytest.raises(InputError, match=r"^'label' cannot be both a model input and the target"):
        choose_input_columns(
            ["label", "x"], model=None, features=["label"], sensitive=[], excluded=["label"], source="d.csv"
        )


def test_a_model_trained_on_the_id_column_is_refused_with_the_reason(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    leaky = LogisticRegression().fit(frame[["id", "income"]], frame["label"])
    with pytest.raises(InputError) as caught:
        load_audit_data(path, target="label", sensitive=["sex"], id_column="id", model=leaky)
    assert str(caught.value) == (
        "'id' cannot be both a model input and the target, id, weights or predictions column; the model was trained "
        "on it, so check that the right model and columns were given."
    )
