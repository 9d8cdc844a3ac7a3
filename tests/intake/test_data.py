"""Data intake: clear errors for wrong columns and bad values; demographics joined by id with unknowns counted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from governance.errors import InputError
from governance.intake.data import load_audit_data


@pytest.fixture
def data(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {"id": [1, 2, 3, 4], "income": [10, 20, 30, 40], "sex": ["f", "m", None, "m"], "label": [0, 1, 1, 0]}
    )
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_features_default_to_the_remaining_columns(data: Path) -> None:
    audit_data = load_audit_data(data, target="label", sensitive=["sex"], id_column="id")
    assert audit_data.features == ["income"]
    assert audit_data.sensitive_frame["sex"].isna().sum() == 1  # becomes the Unknown group downstream


def test_wrong_column_names_suggest_the_right_one(data: Path) -> None:
    """The library names the argument (``sensitive``); the command line names the option the user typed."""
    from governance.results.commands import cli_message

    with pytest.raises(
        InputError,
        match=r"^There is no column 'sexx' in data.csv \(named by sensitive\); did you mean 'sex'\?$",
    ) as caught:
        load_audit_data(data, target="label", sensitive=["sexx"])
    assert (
        cli_message(caught.value)
        == "There is no column 'sexx' in data.csv (named by --sensitive); did you mean 'sex'?"
    )
    with pytest.raises(InputError, match="named by target"):
        load_audit_data(data, target="outcome", sensitive=["sex"])


def test_missing_labels_and_all_missing_sensitive(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "s": [None, None], "y": [1.0, None]}).to_parquet(path)
    with pytest.raises(InputError, match="1 missing label"):
        load_audit_data(path, target="y", sensitive=["x"])
    with pytest.raises(InputError, match="empty in every row"):
        load_audit_data(path, target=None, sensitive=["s"])


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(InputError, match="neither CSV nor Parquet"):
        load_audit_data(tmp_path / "d.xlsx", target=None, sensitive=["s"])
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1garbage")
    with pytest.raises(InputError, match="could not be read as Parquet"):
        load_audit_data(broken, target=None, sensitive=["s"])
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    with pytest.raises(InputError, match="has no rows"):
        load_audit_data(empty, target=None, sensitive=["a"])


def test_demographics_from_another_file(tmp_path: Path, data: Path) -> None:
    demographics = tmp_path / "hr.csv"
    pd.DataFrame({"id": [1, 2, 3], "race": ["a", "b", "a"]}).to_csv(demographics, index=False)
    audit_data = load_audit_data(
        data, target="label", sensitive=["race"], sensitive_data=demographics, id_column="id"
    )
    assert audit_data.rows_without_demographics == 1
    assert list(audit_data.frame["race"].fillna("?")) == ["a", "b", "a", "?"]
    assert "race" not in audit_data.features and "id" not in audit_data.features
    pd.DataFrame({"id": [1, 1], "race": ["a", "b"]}).to_csv(demographics, index=False)
    with pytest.raises(InputError, match="more than one row for id 1"):
        load_audit_data(data, target="label", sensitive=["race"], sensitive_data=demographics, id_column="id")
    with pytest.raises(InputError, match="needs id_column COL"):
        load_audit_data(data, target="label", sensitive=["race"], sensitive_data=demographics)
