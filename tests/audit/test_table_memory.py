"""A model's audit of a table runs in memory that does not grow with the table (issue 14, point 3).

Each batch is scored and folded into the distinct scored rows with their counts; past a limit the amounts are
rounded, and the audit says by how much each metric may be off. Before, every row's prediction, score, outcome
and sensitive values were kept (about 240 bytes a row: 560 MB for a million rows).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_support import COMMON, assert_same, write_duckdb

from governance.audit import tables
from governance.audit.fairness import compute_fairness
from governance.audit.fairness import distinct as distinct_module
from governance.audit.fairness.distinct import DistinctRows, ScoredColumns, truncate
from governance.audit.run import audit
from governance.intake.model_files import save_model
from governance.workspace import Workspace


def _people(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], size=n, p=[0.4, 0.6]),
            "race": rng.choice(
                np.array(["a", "b", "c", None], dtype=object), size=n, p=[0.5, 0.3, 0.17, 0.03]
            ),
            "x1": x1,
            "x2": x2,
            "repaid": (rng.random(n) < 1 / (1 + np.exp(-(x1 - 0.5 * x2)))).astype(int),
            "w": rng.choice([0.5, 1.0, 1.5, 2.0], size=n),
        }
    )


def _model(frame: pd.DataFrame) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(frame[["x1", "x2"]], frame["repaid"])


def _scored_audit(url: str, model: Any, *, batch_rows: int, weights: str | None = None) -> Any:
    """``tables.model_inputs`` as ``audit()`` calls it, with small batches."""

    def score(features: pd.DataFrame) -> tuple[Any, Any, Any]:
        probability = model.predict_proba(features)[:, 1]
        return (probability >= 0.5).astype(int), probability, 1

    def compute(**inputs: Any) -> Any:
        extra = {"counts": inputs["counts"]} if "counts" in inputs else {}
        return compute_fairness(
            y_pred=inputs["y_pred"], y_true=inputs["y_true"], scores=inputs["scores"], task=inputs["task"],
            sample_weight=inputs["weights"], sensitive=inputs["sensitive"], positive_label=inputs["label"],
            n_boot=20, seed=3, **extra,
        )  # fmt: skip

    request = tables.TableRequest(
        connection=url, table="people", query=None, sensitive=["sex", "race"], target="repaid",
        weights=weights, features=["x1", "x2"], batch_rows=batch_rows,
    )  # fmt: skip
    return tables.model_inputs(
        request, model=model, score=score, check_task=lambda task, classes: None, compute=compute, seed=1,
        sample_rows=50,
    )  # fmt: skip


def _peak(url: str, model: Any) -> int:
    tracemalloc.start()
    try:
        _scored_audit(url, model, batch_rows=4_000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_model_audit_of_a_table_holds_memory_that_does_not_grow_with_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distinct_module, "DISTINCT_LIMIT", 5_000)
    small, large = _people(40_000), _people(200_000, seed=6)
    model = _model(small)
    urls = [
        write_duckdb(frame, tmp_path / f"{len(frame)}.duckdb", table="people") for frame in (small, large)
    ]
    _peak(urls[0], model)  # first run: imports and caches are not the audit's memory
    peaks = [_peak(url, model) for url in urls]
    # Five times the rows: the rows kept before would have taken five times the memory (about 240 bytes a row).
    assert peaks[1] < 1.5 * peaks[0], f"peak {peaks[1]:,} bytes for 200,000 rows, {peaks[0]:,} for 40,000"


@pytest.fixture(scope="module")
def rounded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One table audited past a small limit (amounts rounded), and the same rows as a file (exact)."""
    folder = tmp_path_factory.mktemp("rounded")
    frame = _people(30_000)
    csv = folder / "people.csv"
    frame.to_csv(csv, index=False)
    save_model(_model(frame), folder / "model.skops")
    shuffled = frame.sample(frac=1.0, random_state=11).reset_index(drop=True)
    return {
        "frame": frame,
        "csv": csv,
        "url": write_duckdb(frame, folder / "people.duckdb", table="people"),
        "shuffled": write_duckdb(shuffled, folder / "shuffled.duckdb", table="people"),
        "model": folder / "model.skops",
    }


def _audit(rounded: dict[str, Any], tmp_path: Path, **where: Any) -> Any:
    options = {
        **COMMON, "model": rounded["model"], "target": "repaid", "sensitive": ["sex", "race"],
        "features": ["x1", "x2"], "weights": "w", "explain_budget": 5.0, "explain_rows": 100,
        "workspace": Workspace(root=tmp_path),
    }  # fmt: skip
    return audit(**options, **where).result


def _metric(result: Any, name: str) -> dict[tuple[str, str], float]:
    return {
        (attribute.attribute, group.group): group.metrics[name].value
        for attribute in result.fairness.attributes
        for group in attribute.groups
        if name in group.metrics and group.metrics[name].value is not None
    }


def test_past_the_limit_the_amounts_are_rounded_within_the_stated_bounds(
    rounded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distinct_module, "DISTINCT_LIMIT", 6_000)
    exact = _audit(rounded, tmp_path, data=rounded["csv"])
    table = _audit(rounded, tmp_path, table="people", connection=rounded["url"])
    info = table.data.table
    assert info.rounded_to_bits is not None and info.distinct_rows <= 6_000
    bounds = info.rounding_bounds
    assert set(bounds) == {"auc", "brier"} and 0 < bounds["auc"] < 0.05
    for name in ("auc", "brier"):
        exact_values, table_values = _metric(exact, name), _metric(table, name)
        assert exact_values.keys() == table_values.keys()
        worst = max(abs(exact_values[k] - table_values[k]) for k in exact_values)
        assert worst <= bounds[name], f"{name}: off by {worst}, said at most {bounds[name]}"
    # Counts and rates are exact: the rounding touched only the scores (and weights' keys, not their sums).
    for name in ("selection_rate", "tpr", "fpr"):
        for key, value in _metric(exact, name).items():
            assert _metric(table, name)[key] == pytest.approx(value, rel=1e-12, abs=1e-12)
    note = next(n for n in table.fairness.notes if "significant bits" in n)
    assert f"rounded to {info.rounded_to_bits} significant bits" in note and "AUC is within ±" in note
    from governance.report.markdown import render_report

    report = render_report(table)
    assert f"rounded to {info.rounded_to_bits} significant bits to fit in memory" in report
    assert "For exact values, audit fewer rows at a time" in note
    assert f"from {info.distinct_rows:,} distinct combinations" in report and "AUC is within ±" in report


def test_rounded_audits_do_not_depend_on_the_order_of_the_rows(
    rounded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distinct_module, "DISTINCT_LIMIT", 6_000)
    first = _audit(rounded, tmp_path, table="people", connection=rounded["url"])
    again = _audit(rounded, tmp_path, table="people", connection=rounded["shuffled"])
    assert first.data.table.rounded_to_bits == again.data.table.rounded_to_bits
    assert_same(first.fairness.model_dump(), again.fairness.model_dump())


def test_under_the_limit_a_table_audit_is_exact(rounded: dict[str, Any], tmp_path: Path) -> None:
    exact = _audit(rounded, tmp_path, data=rounded["csv"])
    table = _audit(rounded, tmp_path, table="people", connection=rounded["url"])
    assert table.data.table.rounded_to_bits is None and table.data.table.rounding_bounds == {}
    assert not any("significant bits" in note for note in table.fairness.notes)
    assert_same(exact.fairness.model_dump(), table.fairness.model_dump())


def test_rounded_amounts_of_a_regression_stay_a_regression_within_the_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At few bits, amounts above 32 round to whole numbers; the task is still read from the exact values."""
    monkeypatch.setattr(distinct_module, "DISTINCT_LIMIT", 12)
    rng = np.random.default_rng(2)
    n = 4_000
    amount = np.round(rng.normal(500, 80, n), 2)
    frame = pd.DataFrame(
        {"sex": rng.choice(["f", "m"], size=n), "amount": amount, "estimate": amount + rng.normal(0, 30, n)}
    )
    csv = tmp_path / "amounts.csv"
    frame.to_csv(csv, index=False)
    options = {
        **COMMON, "predictions": "estimate", "target": "amount", "sensitive": ["sex"], "policy": "regression",
        "workspace": Workspace(root=tmp_path),
    }  # fmt: skip
    exact = audit(data=csv, **options).result
    table = audit(
        table="people", connection=write_duckdb(frame, tmp_path / "a.duckdb", "people"), **options
    ).result
    assert table.fairness.task == "regression"
    bounds = table.data.table.rounding_bounds
    assert table.data.table.rounded_to_bits == 4 and set(bounds) >= {"mean_prediction", "mae", "rmse"}
    for name in ("mean_prediction", "mean_target", "mae", "rmse"):
        worst = max(
            abs(a - b)
            for a, b in zip(_metric(exact, name).values(), _metric(table, name).values(), strict=True)
        )
        assert worst <= bounds[name], f"{name}: off by {worst}, said at most {bounds[name]}"


def test_a_threshold_decides_on_the_exact_scores_before_any_rounding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distinct_module, "DISTINCT_LIMIT", 50)
    rng = np.random.default_rng(4)
    n = 5_000
    score = 0.5 + rng.normal(0, 0.002, n)  # all near the threshold: rounding would move many across it
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], size=n),
            "score": score,
            "hired": 0,
            "ok": (rng.random(n) < 0.5).astype(int),
        }
    )
    csv = tmp_path / "scores.csv"
    frame.to_csv(csv, index=False)
    options = {
        **COMMON, "predictions": "hired", "scores": "score", "threshold": 0.5, "target": "ok",
        "sensitive": ["sex"], "workspace": Workspace(root=tmp_path),
    }  # fmt: skip
    exact = audit(data=csv, **options).result
    table = audit(table="t", connection=write_duckdb(frame, tmp_path / "s.duckdb", "t"), **options).result
    assert table.data.table.rounded_to_bits is not None
    assert _metric(table, "selection_rate") == pytest.approx(_metric(exact, "selection_rate"), rel=1e-12)


def test_truncation_to_fewer_bits_is_the_same_from_a_rounded_value() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.normal(0, 1e3, 5_000), rng.random(5_000), 10.0 ** -rng.uniform(1, 12, 500),
         1 - 10.0 ** -rng.uniform(1, 12, 500), [0.0, 0.5, 1.0, -0.0, 1.0 + 1e-12, -1e-9]]
    )  # fmt: skip
    upper = (values > 0.5) & (values <= 1)
    for fine, coarse in ((30, 24), (20, 13), (10, 4)):
        cut = truncate(values, coarse)
        assert np.array_equal(truncate(truncate(values, fine), coarse), cut)
        # within 1 part in 2**bits of the value, or (between 0.5 and 1) of its distance to 1, and near 0 or 1
        # (closer than 1/16) within 2**-(bits + 4)
        distance = np.where(upper, 1.0 - values, np.abs(values))
        tail = (values >= 0) & (values <= 1) & (distance < 1 / 16)
        allowed = np.where(tail, 2.0 ** -(coarse + 4), distance * 2.0**-coarse)
        assert (np.abs(values - cut) <= allowed).all()
        assert ((cut >= 0) & (cut <= 1))[(values >= 0) & (values <= 1)].all()
        assert cut[values == 1.0].tolist() == [1.0] and cut[values == 0.5].tolist() == [0.5]


def test_the_bits_kept_do_not_depend_on_the_order_of_the_batches() -> None:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(
        {
            "g": rng.choice(["a", "b"], size=20_000),
            "p": 1,
            "s": rng.random(20_000),
            "y": rng.integers(0, 2, 20_000),
        }
    )
    kept = []
    for order in range(4):
        rows = DistinctRows(
            ScoredColumns(sensitive=["g"], predictions="p", target="y", scores="s"), limit=700
        )
        shuffled = frame.sample(frac=1.0, random_state=order)
        for start in range(0, len(shuffled), 1_500 + 500 * order):
            rows.add(shuffled.iloc[start : start + 1_500 + 500 * order])
        got, counts = rows.rows()
        assert len(got) <= 2_000 and counts.sum() == 20_000
        kept.append((rows.bits, sorted(map(tuple, got.assign(n=counts).to_numpy().tolist()))))
    assert all(k == kept[0] for k in kept)


def test_a_regression_whose_fractions_show_late_is_rounded_alike_in_any_order() -> None:
    """Amounts join the rounded columns when a fraction first shows; rows kept before are rounded too."""
    rng = np.random.default_rng(9)
    whole = pd.DataFrame(
        {"g": rng.choice(["a", "b"], 6_000), "p": rng.integers(0, 5_000, 6_000).astype(float)}
    )
    whole["y"] = whole["p"] + rng.integers(-50, 50, 6_000)
    fractional = whole.assign(p=whole["p"] + rng.random(6_000))
    kept = []
    for batches in ([whole, fractional], [fractional, whole]):
        rows = DistinctRows(ScoredColumns(sensitive=["g"], predictions="p", target="y"), limit=1_000)
        for batch in batches:
            for start in range(0, len(batch), 1_000):
                rows.add(batch.iloc[start : start + 1_000])
        got, counts = rows.rows()
        assert rows.label_values("p") != [] and counts.sum() == 12_000
        kept.append((rows.bits, sorted(map(tuple, got.assign(n=counts).to_numpy().tolist()))))
    assert kept[0] == kept[1]


def test_scoring_a_table_reports_its_progress_batch_by_batch(rounded: dict[str, Any], tmp_path: Path) -> None:
    """A long scoring pass shows a bar on a terminal: the library reports rows scored of rows in all."""
    heard: list[tuple[str, int, int]] = []
    options = {
        **COMMON, "model": rounded["model"], "target": "repaid", "sensitive": ["sex"], "features": ["x1", "x2"],
        "explain": False, "workspace": Workspace(root=tmp_path),
    }  # fmt: skip
    audit(table="people", connection=rounded["url"], progress=lambda *call: heard.append(call), **options)
    scoring = [(done, total) for stage, done, total in heard if stage == "scoring"]
    assert scoring and scoring[-1] == (30_000, 30_000)
    assert [done for done, _ in scoring] == sorted(done for done, _ in scoring)


def test_rounded_scores_bound_the_ll144_scoring_rates_instead_of_calling_them_exact(
    rounded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scoring rates compare scores with their median: rounding can move a person across it, so the note
    says so instead of calling every rate exact."""
    monkeypatch.setattr(distinct_module, "DISTINCT_LIMIT", 6_000)
    table = _audit(rounded, tmp_path, table="people", connection=rounded["url"], ll144_rate="scoring")
    note = next(n for n in table.fairness.notes if "significant bits" in n)
    assert "the LL144 scoring rates within ±" in note and "Other counts and rates are exact" in note
    assert "ll144_scoring_rate" in table.data.table.rounding_bounds
    plain = _audit(rounded, tmp_path, table="people", connection=rounded["url"])
    assert "LL144" not in next(n for n in plain.fairness.notes if "significant bits" in n)
