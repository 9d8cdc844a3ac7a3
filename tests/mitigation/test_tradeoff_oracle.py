"""Oracle: every point of the trade-off curves equals sklearn / fairlearn computed on the decisions at that threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_ratio,
    false_positive_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, recall_score

from governance.audit.fairness.tradeoff import CurveSettings, KeyRatio, compute_tradeoff
from governance.errors import InputError

RULES = (
    KeyRatio("four-fifths-selection", "selection_rate", "impact_ratio", ">= 0.8"),
    KeyRatio("equal-opportunity", "tpr", "ratio_between_groups", ">= 0.8"),
    KeyRatio("false-positive-gap", "fpr", "difference_between_groups", "<= 0.1"),
)


def _data(n: int = 3000, seed: int = 1) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    y = rng.integers(0, 2, size=n)
    scores = np.clip(0.35 * y + rng.normal(0.3, 0.2, size=n) + (group == "a") * 0.08, 0, 1)
    scores = np.round(scores, 2)  # ties at the thresholds
    return scores, y, pd.DataFrame({"group": group})


def test_every_point_equals_sklearn_and_fairlearn_on_masks() -> None:
    scores, y, sensitive = _data()
    result = compute_tradeoff(
        scores=scores, y_true=y, sensitive=sensitive, settings=CurveSettings(thresholds=41, key_ratios=RULES)
    )
    curves = result.attributes[0]
    ratios = {r.rule_id: r for r in curves.ratios}
    for index, threshold in enumerate(result.thresholds):
        decided = (scores >= threshold).astype(int)
        assert result.performance[index].value == pytest.approx(accuracy_score(y, decided), abs=1e-12)
        for group in curves.groups:
            mask = sensitive["group"].to_numpy() == group.group
            assert group.selection_rate[index].value == pytest.approx(decided[mask].mean(), abs=1e-12)
            assert group.tpr[index].value == pytest.approx(
                recall_score(y[mask], decided[mask], zero_division=0), abs=1e-12
            )
            assert group.fpr[index].value == pytest.approx(
                false_positive_rate(y[mask], decided[mask]), abs=1e-12
            )
        frame_tpr = MetricFrame(
            metrics=true_positive_rate, y_true=y, y_pred=decided, sensitive_features=sensitive
        )
        frame_fpr = MetricFrame(
            metrics=false_positive_rate, y_true=y, y_pred=decided, sensitive_features=sensitive
        )
        if 0 < decided.sum() < len(decided):
            expected = demographic_parity_ratio(y, decided, sensitive_features=sensitive)
            assert ratios["four-fifths-selection"].values[index].value == pytest.approx(expected, abs=1e-12)
            assert ratios["false-positive-gap"].values[index].value == pytest.approx(
                frame_fpr.difference(), abs=1e-12
            )
        if frame_tpr.by_group.min() > 0:
            assert ratios["equal-opportunity"].values[index].value == pytest.approx(
                frame_tpr.ratio(), abs=1e-12
            )


def test_intervals_hold_the_value_and_bounds_are_judged() -> None:
    scores, y, sensitive = _data()
    result = compute_tradeoff(
        scores=scores, y_true=y, sensitive=sensitive, settings=CurveSettings(thresholds=21, key_ratios=RULES)
    )
    for ratio in result.attributes[0].ratios:
        for estimate, meets in zip(ratio.values, ratio.meets_bound, strict=True):
            if estimate.value is not None and estimate.low is not None and estimate.high is not None:
                assert estimate.low - 1e-9 <= estimate.value <= estimate.high + 1e-9
            if ratio.comparison != "difference_between_groups" and estimate.value is not None:
                assert meets == (estimate.value >= 0.8)


def test_each_rule_searches_its_intervals_once_with_the_numbers_of_one_search_per_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13, point 3: a search per threshold (two for a ratio) spent most of an audit's curve time in Python;
    one pass per ratio rule gives the same numbers, and a gap needs no search at all."""
    from governance import intervals

    scores, y, sensitive = _data()
    settings = CurveSettings(thresholds=21, key_ratios=RULES)
    searches: list[str] = []
    for name in ("ratio_ends", "ratio_end_minima"):
        real = getattr(intervals, name)

        def counted(*args: object, _real=real, _name=name) -> object:  # type: ignore[no-untyped-def]
            searches.append(_name)
            return _real(*args)

        monkeypatch.setattr(intervals, name, counted)
    result = compute_tradeoff(scores=scores, y_true=y, sensitive=sensitive, settings=settings)
    assert searches == ["ratio_end_minima", "ratio_end_minima"]  # the two ratio rules, the gap rule none
    monkeypatch.undo()
    thresholds = np.asarray(result.thresholds)
    z = intervals.z_for(settings.confidence_level)
    for rule, curve in zip(RULES, result.attributes[0].ratios, strict=True):
        kind = "difference" if rule.comparison == "difference_between_groups" else "ratio"
        for index, estimate in enumerate(curve.values):
            decided = scores[:, None] >= thresholds[None, :]
            k, n = [], []
            for group in ("a", "b", "c"):
                mask = sensitive["group"].to_numpy() == group
                wanted = {"selection_rate": mask, "tpr": mask & (y == 1), "fpr": mask & (y == 0)}[rule.metric]
                k.append(float(decided[wanted, index].sum()))
                n.append(float(wanted.sum()))
            pairs = intervals.Pairs.of_counts(np.array(k), np.array(n))
            groups = np.flatnonzero(np.isfinite(pairs.value))
            joint = intervals.z_for(settings.confidence_level, intervals.bonferroni_pairs(groups.shape[0]))
            one = intervals.spread(pairs, groups, kind, z_plain=z, z_joint=joint)
            expected = [float(one.point[0]), float(one.low[0]), float(one.high[0])]
            got = [estimate.value, estimate.low, estimate.high]
            assert [x if x is not None else float("nan") for x in got] == pytest.approx(
                expected, nan_ok=True, rel=0, abs=0
            )


def test_small_groups_are_left_out_of_the_ratios() -> None:
    scores, y, sensitive = _data(n=400)
    result = compute_tradeoff(
        scores=scores,
        y_true=y,
        sensitive=sensitive,
        settings=CurveSettings(key_ratios=RULES, min_group_size=100),
    )
    assert [g.below_min_size for g in result.attributes[0].groups] == [False, False, True]


def test_bad_inputs_say_what_is_wrong() -> None:
    scores, y, sensitive = _data(n=50)
    with pytest.raises(InputError, match="non-finite"):
        compute_tradeoff(scores=np.where(y == 1, np.nan, scores), y_true=y, sensitive=sensitive)
    with pytest.raises(InputError, match="1 \\(the positive outcome\\) or 0"):
        compute_tradeoff(scores=scores, y_true=y + 1, sensitive=sensitive)
    with pytest.raises(InputError, match="at least 2 thresholds"):
        compute_tradeoff(scores=scores, y_true=y, sensitive=sensitive, settings=CurveSettings(thresholds=1))
