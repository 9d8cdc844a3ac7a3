"""Point estimates against fairlearn's MetricFrame and sklearn on masks (difference < 1e-12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    mean_prediction,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from fairness_helpers import attribute, binary_data
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    mean_absolute_error,
    precision_score,
    roc_auc_score,
    root_mean_squared_error,
)

from governance.audit.fairness import compute_fairness
from governance.results.fairness import AttributeResult

TOL = 1e-12


def _base_rate(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    return float(np.average(y_true, weights=sample_weight))


def _npv(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    return float(precision_score(1 - np.asarray(y_true), 1 - np.asarray(y_pred), sample_weight=sample_weight))


def _mean_target(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    return float(np.average(y_true, weights=sample_weight))


BINARY: dict[str, Callable[..., float]] = {
    "selection_rate": selection_rate,
    "base_rate": _base_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "precision": precision_score,
    "npv": _npv,
    "accuracy": accuracy_score,
}
REGRESSION: dict[str, Callable[..., float]] = {
    "mean_prediction": mean_prediction,
    "mean_target": _mean_target,
    "mae": mean_absolute_error,
    "rmse": root_mean_squared_error,
}

CONVERTERS: dict[str, Callable[[np.ndarray], Any]] = {
    "list": lambda a: a.tolist(),
    "ndarray": lambda a: a,
    "series": lambda a: pd.Series(a, index=np.arange(a.shape[0])[::-1]),  # index order must not matter
}


def _frame(
    metrics: dict[str, Callable[..., float]], y_true: Any, y_pred: Any, sensitive: Any, weights: Any = None
):
    params = None if weights is None else {name: {"sample_weight": weights} for name in metrics}
    return MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive, sample_params=params
    )


def _group_name(key: Any) -> str:
    return " × ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def _assert_groups_match(item: AttributeResult, frame: MetricFrame, metrics: list[str]) -> int:
    """Every (group, metric) equals MetricFrame.by_group; returns how many numbers were compared."""
    by_group = frame.by_group
    compared = 0
    groups = {g.group: g for g in item.groups}
    assert len(by_group.index) == len([g for g in item.groups if not g.is_unknown])
    for key, row in by_group.iterrows():
        ours = groups[_group_name(key)]
        for metric in metrics:
            expected = float(row[metric])
            assert ours.metrics[metric].value == pytest.approx(expected, abs=TOL, rel=0), (key, metric)
            compared += 1
    return compared


def _assert_spreads_match(item: AttributeResult, frame: MetricFrame, metrics: list[str]) -> None:
    between_difference = frame.difference(method="between_groups")
    between_ratio = frame.ratio(method="between_groups")
    overall_difference = frame.difference(method="to_overall")
    overall_ratio = frame.ratio(method="to_overall")
    spreads = {s.metric: s for s in item.between_groups}
    for metric in metrics:
        assert spreads[metric].difference.value == pytest.approx(between_difference[metric], abs=TOL, rel=0)
        assert spreads[metric].ratio.value == pytest.approx(between_ratio[metric], abs=TOL, rel=0)
        rows = [c for c in item.to_overall if c.metric == metric]
        worst_gap = max(abs(c.difference.value) for c in rows)  # type: ignore[arg-type]
        worst_ratio = min(min(c.ratio.value, 1 / c.ratio.value) for c in rows)  # type: ignore[type-var,operator]
        assert worst_gap == pytest.approx(overall_difference[metric], abs=TOL, rel=0)
        assert worst_ratio == pytest.approx(overall_ratio[metric], abs=TOL, rel=0)


@pytest.mark.parametrize("kind", sorted(CONVERTERS))
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_groups_equal_metricframe(kind: str, weighted: bool) -> None:
    data = binary_data(n=700, seed=3)
    if kind == "series":  # distinct scores: the AUC code path without ties
        data["scores"] = np.random.default_rng(1).random(700) * 0.5 + 0.5 * data["y_true"]
    convert = CONVERTERS[kind]
    weights = data["weights"] if weighted else None
    result = compute_fairness(
        y_pred=convert(data["y_pred"]),
        y_true=convert(data["y_true"]),
        scores=convert(data["scores"]),
        sample_weight=None if weights is None else convert(weights),
        sensitive=data["sensitive"],
        n_boot=0,
    )
    assert result.task == "binary" and result.weighted is weighted
    sensitive = data["sensitive"]
    compared = 0
    for name, columns in [
        ("sex", ["sex"]),
        ("age_band", ["age_band"]),
        ("sex × age_band", ["sex", "age_band"]),
    ]:
        frame = _frame(BINARY, data["y_true"], data["y_pred"], sensitive[columns], weights)
        item = attribute(result, name)
        compared += _assert_groups_match(item, frame, list(BINARY))
        _assert_spreads_match(item, frame, list(BINARY))
        scored = _frame(
            {"auc": roc_auc_score, "brier": brier_score_loss},
            data["y_true"],
            data["scores"],
            sensitive[columns],
            weights,
        )
        compared += _assert_groups_match(item, scored, ["auc", "brier"])
        _assert_spreads_match(item, scored, ["auc", "brier"])
        for metric, expected in frame.overall.items():
            assert result.overall[metric].value == pytest.approx(expected, abs=TOL, rel=0)
        for metric, expected in scored.overall.items():
            assert result.overall[metric].value == pytest.approx(expected, abs=TOL, rel=0)
    assert compared == (2 + 3 + 6) * (len(BINARY) + 2)


@pytest.mark.parametrize("weighted", [False, True])
def test_summaries_equal_fairlearn_functions(weighted: bool) -> None:
    data = binary_data(n=500, seed=5)
    weights = data["weights"] if weighted else None
    result = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        sample_weight=weights,
        sensitive=data["sensitive"],
        n_boot=0,
    )
    for name, columns in [("sex", ["sex"]), ("sex × age_band", ["sex", "age_band"])]:
        summaries = attribute(result, name).summaries
        arguments = {
            "y_true": data["y_true"],
            "y_pred": data["y_pred"],
            "sensitive_features": data["sensitive"][columns],
            "sample_weight": weights,
        }
        for key, function in [
            ("demographic_parity_difference", demographic_parity_difference),
            ("demographic_parity_ratio", demographic_parity_ratio),
            ("equalized_odds_difference", equalized_odds_difference),
            ("equalized_odds_ratio", equalized_odds_ratio),
            ("equal_opportunity_difference", equal_opportunity_difference),
            ("equal_opportunity_ratio", equal_opportunity_ratio),
        ]:
            assert summaries[key].value == pytest.approx(function(**arguments), abs=TOL, rel=0), key


@pytest.mark.parametrize("kind", sorted(CONVERTERS))
def test_multiclass_one_vs_rest_equals_masks(kind: str) -> None:
    rng = np.random.default_rng(11)
    n = 600
    y_true = rng.choice(["bronze", "gold", "silver"], n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.choice(["bronze", "gold", "silver"], n))
    sensitive = pd.DataFrame({"region": rng.choice(["north", "south", "west"], n)})
    convert = CONVERTERS[kind]
    result = compute_fairness(y_pred=convert(y_pred), y_true=convert(y_true), sensitive=sensitive, n_boot=0)
    assert result.task == "multiclass" and result.classes == ["bronze", "gold", "silver"]
    assert [a.positive_class for a in result.attributes] == ["bronze", "gold", "silver"]
    for cls in result.classes:
        frame = _frame(BINARY, (y_true == cls).astype(int), (y_pred == cls).astype(int), sensitive)
        item = attribute(result, "region", cls)
        _assert_groups_match(item, frame, list(BINARY))
        _assert_spreads_match(item, frame, list(BINARY))
    assert result.overall["accuracy"].value == pytest.approx(accuracy_score(y_true, y_pred), abs=TOL, rel=0)


@pytest.mark.parametrize("kind", sorted(CONVERTERS))
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_groups_equal_metricframe(kind: str, weighted: bool) -> None:
    rng = np.random.default_rng(2)
    n = 500
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "band": rng.choice(["a", "b", "c"], n)})
    y_true = rng.normal(50, 10, n) + 5 * (sensitive["sex"] == "m").to_numpy()
    y_pred = y_true + rng.normal(0, 4, n)
    weights = rng.uniform(0.2, 3.0, n) if weighted else None
    convert = CONVERTERS[kind]
    result = compute_fairness(
        y_pred=convert(y_pred),
        y_true=convert(y_true),
        sample_weight=None if weights is None else convert(weights),
        sensitive=sensitive,
        n_boot=0,
    )
    assert result.task == "regression"
    for name, columns in [("sex", ["sex"]), ("band", ["band"]), ("sex × band", ["sex", "band"])]:
        frame = _frame(REGRESSION, y_true, y_pred, sensitive[columns], weights)
        item = attribute(result, name)
        _assert_groups_match(item, frame, list(REGRESSION))
        _assert_spreads_match(item, frame, list(REGRESSION))


def test_intersection_with_unknowns_and_empty_cells() -> None:
    sensitive = pd.DataFrame(
        {
            "sex": ["f", "f", "m", "m", None, "m", "f", "m"],
            "race": ["a", "b", "a", "a", "b", None, "a", "a"],
        }
    )
    y_pred = [1, 0, 1, 1, 0, 1, 0, 0]
    y_true = [1, 1, 0, 1, 0, 1, 0, 0]
    result = compute_fairness(y_pred=y_pred, y_true=y_true, sensitive=sensitive, n_boot=0)
    sex = attribute(result, "sex")
    assert [(g.group, g.n, g.is_unknown) for g in sex.groups] == [
        ("f", 3, False),
        ("m", 4, False),
        ("Unknown", 1, True),
    ]
    assert sex.unknown_count == 1
    both = attribute(result, "sex × race")
    assert [g.group for g in both.groups] == ["f × a", "f × b", "m × a", "Unknown"]
    assert both.empty_cells == ["m × b"]
    assert both.unknown_count == 2
    assert both.groups[-1].levels == {} and both.groups[0].levels == {"sex": "f", "race": "a"}
    # Unknown rows count in the overall values and shares, never in comparisons.
    assert result.overall["selection_rate"].value == pytest.approx(4 / 8)
    assert sum(g.share for g in sex.groups) == pytest.approx(1.0)
    assert all(c.group != "Unknown" for c in sex.to_reference + sex.to_overall)
    assert sex.reference_group == "m"  # the largest known group
    selection = {g.group: g.metrics["selection_rate"].value for g in both.groups}
    assert selection == {"f × a": 0.5, "f × b": 0.0, "m × a": 2 / 3, "Unknown": 0.5}
