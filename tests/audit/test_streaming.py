"""Predictions-only Parquet audits are streamed in batches; the result equals the in-memory audit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness.streaming import count_parquet
from governance.audit.run import audit
from governance.errors import InputError
from governance.workspace import Workspace


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male", None], size=n, p=[0.45, 0.5, 0.05]),
            "race": rng.choice(["a", "b", "c"], size=n),
            "hired": rng.integers(0, 2, size=n),
            "performed": rng.integers(0, 2, size=n),
        }
    )
    parquet, csv = tmp_path / "log.parquet", tmp_path / "log.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    return parquet, csv


def test_streamed_audit_equals_in_memory_audit(log: tuple[Path, Path], tmp_path: Path) -> None:
    parquet, csv = log
    common = {
        "name": "vendor",
        "version": "1",
        "sensitive": ["sex", "race"],
        "target": "performed",
        "predictions": "hired",
        "n_boot": 100,
        "workspace": Workspace(root=tmp_path),
        "write": False,
    }
    streamed = audit(data=parquet, **common).result  # type: ignore[arg-type]
    in_memory = audit(data=csv, **common).result  # type: ignore[arg-type]
    assert streamed.fairness.model_dump(exclude={"notes"}) == in_memory.fairness.model_dump(exclude={"notes"})
    assert streamed.policy.verdict == in_memory.policy.verdict
    sex = next(a for a in streamed.fairness.attributes if a.attribute == "sex")
    assert sex.unknown_count > 0 and sex.ll144 is not None and sex.ll144.unknown_count == sex.unknown_count


def test_small_batches_give_the_same_table(log: tuple[Path, Path]) -> None:
    whole = count_parquet(log[0], predictions="hired", sensitive=["sex", "race"], target="performed")
    batched = count_parquet(
        log[0], predictions="hired", sensitive=["sex", "race"], target="performed", batch_rows=333
    )
    np.testing.assert_array_equal(whole.table.n, batched.table.n)
    assert whole.n_rows == batched.n_rows == 5000


def test_streaming_errors(log: tuple[Path, Path]) -> None:
    with pytest.raises(
        InputError,
        match=r"There is no column 'hire' in log.parquet \(named by predictions\); did you mean 'hired'\?",
    ):
        count_parquet(log[0], predictions="hire", sensitive=["sex"])
    with pytest.raises(InputError, match="named by sensitive"):
        count_parquet(log[0], predictions="hired", sensitive=["gender"])


def test_streamed_audit_refuses_a_sensitive_column_missing_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "blank.parquet"
    pd.DataFrame({"sex": pd.Series([None] * 50, dtype="object"), "hired": [0, 1] * 25}).to_parquet(path)
    with pytest.raises(InputError, match=r"^The sensitive column 'sex' is entirely missing; fill it in"):
        audit(
            name="v",
            version="1",
            data=path,
            sensitive=["sex"],
            predictions="hired",
            policy="nyc-ll144",
            workspace=Workspace(root=tmp_path),
            write=False,
        )


def _three_paths(frame: pd.DataFrame, tmp_path: Path, **options: object) -> list[str]:
    """The error sentence of the same audit run on CSV, on Parquet read in memory, and on Parquet streamed."""
    frame = frame.assign(id=range(len(frame)))
    csv, parquet = tmp_path / "log.csv", tmp_path / "log.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    demographics = tmp_path / "people.csv"
    frame[["id", "sex"]].to_csv(demographics, index=False)
    common = {
        "name": "v",
        "version": "1",
        "sensitive": ["sex"],
        "predictions": "hired",
        "n_boot": 20,
        "workspace": Workspace(root=tmp_path),
        "write": False,
        **options,
    }
    messages = []
    for extra in (
        {"data": csv},
        {"data": parquet, "sensitive_data": demographics, "id_column": "id"},
        {"data": parquet},
    ):
        with pytest.raises(InputError) as caught:
            audit(**common, **extra)  # type: ignore[arg-type]
        messages.append(str(caught.value))
    return messages


def _decisions(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], n),
            "hired": rng.integers(0, 2, n).astype(float),
            "performed": rng.integers(0, 2, n),
        }
    )


def test_one_infinite_prediction_is_refused_on_every_path(tmp_path: Path) -> None:
    frame = _decisions()
    frame.loc[17, "hired"] = np.inf
    assert (
        _three_paths(frame, tmp_path, policy="four-fifths")
        == [
            "The predictions in column 'hired' include non-finite values (inf); drop those rows or replace them with real values."
        ]
        * 3
    )


def test_an_infinite_label_is_refused_on_every_path(tmp_path: Path) -> None:
    frame = _decisions().assign(performed=lambda f: f["performed"].astype(float))
    frame.loc[3, "performed"] = -np.inf
    assert (
        _three_paths(frame, tmp_path, target="performed", policy="four-fifths")
        == [
            "The labels in the target column 'performed' include non-finite values (-inf); drop those rows or replace them "
            "with real values."
        ]
        * 3
    )


def test_text_labels_against_numeric_predictions_on_every_path(tmp_path: Path) -> None:
    frame = _decisions().assign(performed=lambda f: f["performed"].map({0: "no", 1: "yes"}))
    assert (
        _three_paths(frame, tmp_path, target="performed", policy="four-fifths")
        == [
            "The labels in the target column 'performed' are text (no, yes) but the predictions in column 'hired' are "
            "numbers (0, 1); code both the same way, for example 0/1 in both."
        ]
        * 3
    )


def test_a_stray_third_value_on_every_path(tmp_path: Path) -> None:
    frame = _decisions()
    frame.loc[9, "hired"] = 7
    assert (
        _three_paths(frame, tmp_path, target="performed", policy="four-fifths")
        == [
            "The labels in the target column 'performed' (0, 1) and the predictions in column 'hired' (0, 1, 7) are not the "
            "same classes: 7 appears in only one of them; fix or drop the rows with that value, or code both columns the "
            "same way."
        ]
        * 3
    )


def test_a_binary_policy_on_three_classes_on_every_path(tmp_path: Path) -> None:
    frame = _decisions().assign(hired=lambda f: f["hired"].astype(int) + (f.index % 5 == 0))
    assert (
        _three_paths(frame, tmp_path, policy="nyc-ll144")
        == [
            "The predictions in column 'hired' have 3 classes (0, 1, 2), but the policy's rule 'impact-ratio-screen' "
            "(impact_ratio) needs a yes/no decision; map the predictions and labels to two values, or use a policy "
            "without impact_ratio or summary rules."
        ]
        * 3
    )


def test_a_genuine_multiclass_log_is_audited_the_same_streamed_and_in_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    n = 600
    frame = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "grade": rng.choice(["a", "b", "c"], n)})
    frame["hired"] = np.where(rng.random(n) < 0.6, frame["grade"], "a")
    frame.to_csv(tmp_path / "g.csv", index=False)
    frame.to_parquet(tmp_path / "g.parquet", index=False)
    policy = tmp_path / "multi.yaml"
    policy.write_text(
        "name: multi\nrules:\n  - id: rate-gap\n    description: gap\n    metric: selection_rate\n"
        "    comparison: difference_between_groups\n    bound: '<= 0.5'\n    severity: block\n"
    )
    common = {
        "name": "v",
        "version": "1",
        "sensitive": ["sex"],
        "predictions": "hired",
        "target": "grade",
        "n_boot": 20,
        "policy": str(policy),
        "workspace": Workspace(root=tmp_path),
        "write": False,
    }
    streamed = audit(data=tmp_path / "g.parquet", **common).result  # type: ignore[arg-type]
    in_memory = audit(data=tmp_path / "g.csv", **common).result  # type: ignore[arg-type]
    assert streamed.fairness.task == in_memory.fairness.task == "multiclass"
    assert streamed.policy.verdict == in_memory.policy.verdict


def test_a_regression_log_in_parquet_is_audited_like_the_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 300
    frame = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "amount": rng.normal(100, 10, n)})
    frame["hired"] = frame["amount"] + rng.normal(0, 1, n)
    frame.to_csv(tmp_path / "r.csv", index=False)
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    policy = tmp_path / "regression.yaml"
    policy.write_text(
        "name: r\nrules:\n  - id: mae-gap\n    description: gap\n    metric: mae\n"
        "    comparison: difference_between_groups\n    bound: '<= 5'\n    severity: block\n"
    )
    common = {
        "name": "v",
        "version": "1",
        "sensitive": ["sex"],
        "predictions": "hired",
        "target": "amount",
        "n_boot": 20,
        "workspace": Workspace(root=tmp_path),
        "write": False,
    }
    parquet = audit(data=tmp_path / "r.parquet", policy=str(policy), **common).result  # type: ignore[arg-type]
    csv = audit(data=tmp_path / "r.csv", policy=str(policy), **common).result  # type: ignore[arg-type]
    assert parquet.fairness.task == csv.fairness.task == "regression"
    assert parquet.fairness.model_dump() == csv.fairness.model_dump()
    messages = []
    for path in (tmp_path / "r.parquet", tmp_path / "r.csv"):
        with pytest.raises(InputError) as caught:
            audit(data=path, policy="four-fifths", **common)  # type: ignore[arg-type]
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and messages[0].startswith(
        "The predictions of the column 'hired' are continuous"
    )


def test_missing_labels_and_predictions_get_the_same_sentence_on_every_path(tmp_path: Path) -> None:
    frame = _decisions().assign(performed=lambda f: f["performed"].astype(float))
    frame.loc[[2, 30], "performed"] = np.nan
    assert (
        _three_paths(frame, tmp_path, target="performed", policy="four-fifths")
        == [
            "The target column 'performed' has 2 missing label(s); drop or fill those rows, or leave out target to audit "
            "selection rates only."
        ]
        * 3
    )
    frame = _decisions()
    frame.loc[11, "hired"] = np.nan
    assert (
        _three_paths(frame, tmp_path, policy="four-fifths")
        == ["The predictions column 'hired' has 1 missing value(s); every row needs a prediction."] * 3
    )
