"""Reference groups (largest, named, highest), comparisons to them, small groups and label-free cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairness_helpers import attribute, binary_data

from governance.audit.fairness import compute_fairness


def _comparisons(item, metric):  # type: ignore[no-untyped-def]
    return {c.group: c for c in item.to_reference if c.metric == metric}


def test_named_reference_differences_and_ratios_by_hand() -> None:
    data = binary_data(n=600, seed=2)
    result = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        sensitive=data["sensitive"],
        reference="named",
        reference_groups={"sex": "female", "age_band": "45+"},
        n_boot=100,
    )
    age = attribute(result, "age_band")
    assert age.reference_group == "45+"
    values = {g.group: g.metrics["tpr"].value for g in age.groups}
    for group, comparison in _comparisons(age, "tpr").items():
        assert comparison.reference == "45+"
        assert comparison.difference.value == pytest.approx(values[group] - values["45+"], abs=1e-12)
        assert comparison.ratio.value == pytest.approx(values[group] / values["45+"], abs=1e-12)
        assert comparison.difference.low <= comparison.difference.value <= comparison.difference.high
    # The intersection's reference is built from the named levels.
    assert attribute(result, "sex × age_band").reference_group == "female × 45+"


def test_highest_reference_differs_per_metric() -> None:
    sensitive = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4})
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0]  # a: selects more, higher FPR; b: lower TPR
    result = compute_fairness(
        y_pred=y_pred, y_true=y_true, sensitive=sensitive, reference="highest", n_boot=0
    )
    item = attribute(result, "g")
    assert item.reference_method == "highest" and item.reference_group == "a"
    assert _comparisons(item, "selection_rate")["b"].ratio.value == pytest.approx(0.25 / 0.75)
    assert _comparisons(item, "tnr")["a"].reference == "b"  # b has the higher TNR
    assert _comparisons(item, "tnr")["a"].ratio.value == pytest.approx(0.5 / 1.0)


def test_largest_reference_and_small_groups_are_flagged() -> None:
    rng = np.random.default_rng(0)
    sex = np.array(["f"] * 20 + ["m"] * 200)
    result = compute_fairness(
        y_pred=rng.integers(0, 2, 220), sensitive=pd.DataFrame({"sex": sex}), n_boot=0, min_group_size=30
    )
    item = attribute(result, "sex")
    assert item.reference_group == "m"
    assert [(g.group, g.below_min_size) for g in item.groups] == [("f", True), ("m", False)]
    assert result.min_group_size == 30
    assert any("fewer than 30 rows (sex = f)" in note for note in result.notes)


def test_without_labels_only_selection_rates_and_impact_ratios() -> None:
    data = binary_data(n=300, seed=1)
    result = compute_fairness(y_pred=data["y_pred"], sensitive=data["sensitive"], n_boot=50)
    assert not result.has_labels
    item = attribute(result, "sex")
    assert set(item.groups[0].metrics) == {"selection_rate"}
    assert set(item.summaries) == {"demographic_parity_difference", "demographic_parity_ratio"}
    assert item.ll144 is not None and item.ll144.most_selected is not None
    assert any("No labels" in note for note in result.notes)


def test_multiclass_has_one_ll144_table_per_class_and_regression_has_none() -> None:
    rng = np.random.default_rng(3)
    sensitive = pd.DataFrame({"g": rng.choice(["a", "b"], 300)})
    multiclass = compute_fairness(y_pred=rng.choice(["x", "y", "z"], 300), sensitive=sensitive, n_boot=20)
    assert [(a.attribute, a.positive_class) for a in multiclass.attributes] == [
        ("g", "x"),
        ("g", "y"),
        ("g", "z"),
    ]
    assert all(a.ll144 is not None for a in multiclass.attributes)
    assert set(multiclass.overall) == {"selection_rate[x]", "selection_rate[y]", "selection_rate[z]"}
    regression = compute_fairness(y_pred=rng.normal(size=300), sensitive=sensitive, n_boot=20)
    item = attribute(regression, "g")
    assert item.ll144 is None and set(item.groups[0].metrics) == {"mean_prediction"}
    assert item.groups[0].metrics["mean_prediction"].has_interval


def test_many_groups_all_get_intervals() -> None:
    """1,600 intersection groups: rates get score intervals, AUC its bootstrap (no longer skipped)."""
    rng = np.random.default_rng(0)
    n = 2500
    sensitive = pd.DataFrame(
        {"a": rng.integers(0, 40, n).astype(str), "b": rng.integers(0, 40, n).astype(str)}
    )
    scores = rng.random(n)
    result = compute_fairness(
        y_pred=(scores > 0.5).astype(int),
        y_true=rng.integers(0, 2, n),
        scores=scores,
        sensitive=sensitive,
        n_boot=1000,
    )
    single = attribute(result, "a").groups[0].metrics
    assert single["selection_rate"].has_interval and single["auc"].has_interval
    both = attribute(result, "a × b")
    assert len(both.groups) > 1000
    assert both.groups[0].metrics["selection_rate"].value is not None
    assert both.groups[0].metrics["selection_rate"].has_interval
    assert not any("no intervals" in note for note in result.notes)


def test_without_intersections_only_single_attributes() -> None:
    data = binary_data(n=200, seed=1)
    result = compute_fairness(
        y_pred=data["y_pred"], sensitive=data["sensitive"], intersections=False, n_boot=0
    )
    assert [a.attribute for a in result.attributes] == ["sex", "age_band"]
    assert not any(a.is_intersection for a in result.attributes)
