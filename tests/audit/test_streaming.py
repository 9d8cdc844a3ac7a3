"""Predictions-only Parquet audits are streamed in batches; the result equals the in-memory audit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.audit.run import audit
from governance.errors import InputError
from governance.intake.stream import count_parquet
from governance.workspace import Workspace


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame({
        "sex": rng.choice(["female", "male", None], size=n, p=[0.45, 0.5, 0.05]),
        "race": rng.choice(["a", "b", "c"], size=n),
        "hired": rng.integers(0, 2, size=n),
        "performed": rng.integers(0, 2, size=n),
    })
    parquet, csv = tmp_path / "log.parquet", tmp_path / "log.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    return parquet, csv


def test_streamed_audit_equals_in_memory_audit(log: tuple[Path, Path], tmp_path: Path) -> None:
    parquet, csv = log
    common = {"name": "vendor", "version": "1", "sensitive": ["sex", "race"], "target": "performed",
              "predictions": "hired", "n_boot": 100, "workspace": Workspace(root=tmp_path), "write": False}
    streamed = audit(data=parquet, **common).result  # type: ignore[arg-type]
    in_memory = audit(data=csv, **common).result  # type: ignore[arg-type]
    assert streamed.fairness.model_dump(exclude={"notes"}) == in_memory.fairness.model_dump(exclude={"notes"})
    assert streamed.policy.verdict == in_memory.policy.verdict
    sex = next(a for a in streamed.fairness.attributes if a.attribute == "sex")
    assert sex.unknown_count > 0 and sex.ll144 is not None and sex.ll144.unknown_count == sex.unknown_count


def test_small_batches_give_the_same_table(log: tuple[Path, Path]) -> None:
    whole = count_parquet(log[0], predictions="hired", sensitive=["sex", "race"], target="performed")
    batched = count_parquet(log[0], predictions="hired", sensitive=["sex", "race"], target="performed", batch_rows=333)
    np.testing.assert_array_equal(whole.table.n, batched.table.n)
    assert whole.n_rows == batched.n_rows == 5000


def test_streaming_errors(log: tuple[Path, Path]) -> None:
    with pytest.raises(InputError, match=r"There is no column 'hire' in log.parquet \(named by --predictions\); did you mean 'hired'\?"):
        count_parquet(log[0], predictions="hire", sensitive=["sex"])
    with pytest.raises(InputError, match="named by --sensitive"):
        count_parquet(log[0], predictions="hired", sensitive=["gender"])


def test_streamed_audit_refuses_a_sensitive_column_missing_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "blank.parquet"
    pd.DataFrame({"sex": pd.Series([None] * 50, dtype="object"), "hired": [0, 1] * 25}).to_parquet(path)
    with pytest.raises(InputError, match=r"^The sensitive column 'sex' is entirely missing; fill it in"):
        audit(name="v", version="1", data=path, sensitive=["sex"], predictions="hired", policy="nyc-ll144",
              workspace=Workspace(root=tmp_path), write=False)
