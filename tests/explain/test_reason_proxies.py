"""Reason codes never name a sensitive attribute or a likely stand-in for one without saying so plainly, and
their closing sentence is true: it claims only what was screened out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.audit.explain import reason_codes
from governance.cli.main import cli
from governance.intake.model_files import save_model

OLD_CLAIM = "Protected characteristics are never given as reasons."


def applicants(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Age drives the decision; the sensitive attribute is the age band, which age gives away."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 75, size=n)
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:04d}" for i in range(n)],
            "age": age,
            "housing": rng.choice(["own", "rent"], size=n),
            "duration": rng.integers(6, 60, size=n),
            "age_band": np.where(age < 25, "under 25", np.where(age < 50, "25-49", "50+")),
        }
    )
    logit = -2 + 0.06 * frame["age"] - 0.02 * frame["duration"] + 0.5 * (frame["housing"] == "own")
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def fit(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["housing"]), (StandardScaler(), ["age", "duration"])
        ),
        LogisticRegression(max_iter=1000),
    ).fit(frame[["age", "housing", "duration"]], frame["label"])


def test_a_reason_that_stands_in_for_a_sensitive_attribute_is_flagged_plainly() -> None:
    frame = applicants()
    model = fit(frame)
    X = frame[["age", "housing", "duration"]]
    statements = reason_codes(
        model, X, rows=None, sensitive_columns=["age_band"], sensitive_data=frame[["age_band"]]
    )
    naming_age = [s for s in statements if any(reason.feature == "age" for reason in s.reasons)]
    assert naming_age, "age should be a reason for some young applicants"
    for statement in naming_age:
        assert OLD_CLAIM not in statement.statement
        flagged = [reason for reason in statement.reasons if reason.feature == "age"]
        assert flagged[0].stands_in_for == "age_band"
        assert "age closely tracks age_band, a sensitive characteristic" in statement.statement
    for statement in statements:
        assert all(reason.feature != "age_band" for reason in statement.reasons)
        if not any(reason.feature == "age" for reason in statement.reasons):
            assert "closely tracks" not in statement.statement


def test_without_sensitive_columns_the_statement_claims_nothing_was_screened_out() -> None:
    frame = applicants()
    statements = reason_codes(
        fit(frame), frame[["age", "housing", "duration"]], rows=[0, 1], sensitive_columns=[]
    )
    for statement in statements:
        assert "never given as reasons" not in statement.statement
        assert "No sensitive characteristic was named for this check" in statement.statement


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    frame = applicants()
    data = tmp_path / "holdout.csv"
    frame.drop(columns="label").to_csv(data, index=False)
    model = tmp_path / "model.skops"
    save_model(fit(frame), model)
    return {"data": data, "model": model, "root": tmp_path}


def test_cli_reason_codes_flag_age_when_age_band_is_sensitive(files: dict[str, Path]) -> None:
    target = files["root"] / "reasons.csv"
    result = CliRunner().invoke(
        cli,
        [
            "explain",
            "--model",
            str(files["model"]),
            "--data",
            str(files["data"]),
            "--sensitive",
            "age_band",
            "--id-column",
            "applicant_id",
            "--features",
            "age",
            "--features",
            "housing",
            "--features",
            "duration",
            "--batch",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(target)
    with_age = rows[(rows[[f"reason_{i}" for i in range(1, 5)]] == "age").any(axis=1)]
    assert len(with_age) > 0
    assert with_age["statement"].str.contains("age closely tracks age_band, a sensitive characteristic").all()
    assert not rows["statement"].str.contains(OLD_CLAIM, regex=False).any()
