"""Significance tests against scipy, Holm by hand, LL144 tables by hand, count tables built in batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairness_helpers import attribute, binary_data
from scipy import stats

from governance.audit.fairness import (
    CountTable,
    build_count_table,
    compute_fairness,
    compute_fairness_from_counts,
)
from governance.audit.fairness._stats import fisher_exact_p, holm, two_by_two_p_value
from governance.errors import InputError


def _rows(counts: dict[str, tuple[int, int]]) -> tuple[list[str], list[int]]:
    """Category -> (rows, selected) as columns of group names and 0/1 predictions."""
    groups: list[str] = []
    predictions: list[int] = []
    for name, (n, selected) in counts.items():
        groups += [name] * n
        predictions += [1] * selected + [0] * (n - selected)
    return groups, predictions


def test_p_values_equal_scipy_and_holm_is_step_down() -> None:
    groups, predictions = _rows({"a": (200, 100), "b": (150, 60), "c": (8, 1), "d": (300, 180)})
    result = compute_fairness(
        y_pred=predictions,
        sensitive=pd.DataFrame({"g": groups}),
        n_boot=0,
        reference="named",
        reference_groups={"g": "a"},
    )
    comparisons = {c.group: c for c in attribute(result, "g").to_reference if c.metric == "selection_rate"}
    # b and d: large cells -> Pearson chi-square without continuity correction.
    for group, table in [("b", [[60, 90], [100, 100]]), ("d", [[180, 120], [100, 100]])]:
        expected = stats.chi2_contingency(table, correction=False).pvalue
        assert comparisons[group].p_value == pytest.approx(expected, rel=1e-9)
    # c: an expected count under 5 -> Fisher's exact test.
    fisher = stats.fisher_exact([[1, 7], [100, 100]]).pvalue
    assert comparisons["c"].p_value == pytest.approx(fisher, rel=1e-9)
    raw = [comparisons[g].p_value for g in "bcd"]
    order = np.argsort(raw)
    adjusted = np.empty(3)
    running = 0.0
    for rank, index in enumerate(order):  # Holm by hand: (m - rank) * p, made monotone, capped at 1
        running = max(running, min(1.0, (3 - rank) * raw[index]))  # type: ignore[operator]
        adjusted[index] = running
    assert [comparisons[g].p_value_holm for g in "bcd"] == pytest.approx(adjusted.tolist(), rel=1e-9)


def test_fisher_exact_equals_scipy_on_random_tables() -> None:
    rng = np.random.default_rng(0)
    for a, b, c, d in rng.integers(0, 40, size=(300, 4)).tolist():
        if min(a + b, c + d, a + c, b + d) == 0:
            continue
        expected = stats.fisher_exact([[a, b], [c, d]]).pvalue
        assert fisher_exact_p(a, b, c, d) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_holm_and_two_by_two_edge_cases() -> None:
    assert holm([0.01, None, 0.04, 0.03]) == pytest.approx([0.03, None, 0.06, 0.06])  # type: ignore[arg-type]
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # 2 x 0.5 caps at 1, and the steps never go down
    assert two_by_two_p_value(0, 10, 0, 12) is None  # nobody selected: nothing to test
    assert two_by_two_p_value(3, 4, 5, 6) == pytest.approx(stats.fisher_exact([[3, 4], [5, 6]]).pvalue)


def test_tpr_and_fpr_tests_use_positives_and_negatives() -> None:
    data = binary_data(n=800, seed=4)
    result = compute_fairness(
        y_pred=data["y_pred"], y_true=data["y_true"], sensitive=data["sensitive"][["sex"]], n_boot=0
    )
    sex = attribute(result, "sex")
    female = (data["sensitive"]["sex"] == "female").to_numpy()
    y, p = data["y_true"], data["y_pred"]
    for metric, subset in [("tpr", y == 1), ("fpr", y == 0)]:
        comparison = next(c for c in sex.to_reference if c.metric == metric)
        assert comparison.reference == "male" and comparison.group == "female"
        table = [
            [int((p[female & subset] == 1).sum()), int((p[female & subset] == 0).sum())],
            [int((p[~female & subset] == 1).sum()), int((p[~female & subset] == 0).sum())],
        ]
        assert comparison.p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue)
    assert all(
        c.p_value is None for c in sex.to_reference if c.metric not in {"selection_rate", "tpr", "fpr"}
    )


def test_ll144_selection_table_by_hand() -> None:
    groups, predictions = _rows({"female": (40, 10), "male": (60, 30), "nonbinary": (1, 1)})
    sensitive = pd.DataFrame({"sex": [*groups, None, None, None, None, None]})
    predictions = [*predictions, 1, 0, 0, 0, 1]
    result = compute_fairness(y_pred=predictions, sensitive=sensitive, n_boot=200)
    table = attribute(result, "sex").ll144
    assert table is not None and table.rate_kind == "selection"
    assert table.most_selected == "male"  # nonbinary has the top rate but under 2 % of known rows
    assert table.unknown_count == 5
    rows = {r.category: r for r in table.rows}
    assert [r.category for r in table.rows] == ["female", "male", "nonbinary"]
    assert (rows["female"].n, rows["female"].selected, rows["female"].rate) == (40, 10, 0.25)
    assert rows["female"].impact_ratio == pytest.approx(0.25 / 0.5)
    assert rows["male"].impact_ratio == 1.0
    assert rows["nonbinary"].impact_ratio == pytest.approx(2.0)
    assert rows["female"].share == pytest.approx(40 / 101)
    assert [r.under_two_percent for r in table.rows] == [False, False, True]
    low, high = rows["female"].impact_ratio_low, rows["female"].impact_ratio_high
    assert low is not None and high is not None and low < 0.5 < high


def test_ll144_scoring_rate_uses_the_median_of_all_scores() -> None:
    rng = np.random.default_rng(0)
    n = 400
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "race": rng.choice(["a", "b", "c"], n)})
    scores = rng.random(n) + 0.1 * (sensitive["sex"] == "m").to_numpy()
    scores[:10] = np.median(scores)  # ties at the median are not "above"
    result = compute_fairness(
        y_pred=(scores > 0.7).astype(int),
        scores=scores,
        sensitive=sensitive,
        ll144_rate="scoring",
        n_boot=100,
    )
    median = float(np.median(scores))
    for name, key in [
        ("sex", sensitive["sex"]),
        ("sex × race", sensitive["sex"] + " × " + sensitive["race"]),
    ]:
        table = attribute(result, name).ll144
        assert table is not None and table.rate_kind == "scoring" and table.median_score == median
        above = pd.Series(scores > median).groupby(key.to_numpy()).agg(["mean", "sum", "size"])
        best = above["mean"].max()
        for row in table.rows:
            assert row.rate == pytest.approx(above.loc[row.category, "mean"], abs=1e-12)
            assert row.selected == above.loc[row.category, "sum"] and row.n == above.loc[row.category, "size"]
            assert row.impact_ratio == pytest.approx(above.loc[row.category, "mean"] / best, abs=1e-12)


def test_count_table_in_batches_gives_the_same_result() -> None:
    data = binary_data(n=900, seed=12, missing=True)
    whole = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        sensitive=data["sensitive"],
        sample_weight=data["weights"],
    )
    batches = []
    for start in range(0, 900, 250):
        part = slice(start, start + 250)
        batches.append(
            build_count_table(
                y_pred=data["y_pred"][part],
                y_true=data["y_true"][part],
                sensitive=data["sensitive"].iloc[part],
                sample_weight=data["weights"][part],
            )
        )
    table = CountTable.combine(batches)
    from_counts = compute_fairness_from_counts(table)
    for left, right in zip(from_counts.attributes, whole.attributes, strict=True):
        assert [g.group for g in left.groups] == [g.group for g in right.groups]
        for a, b in zip(left.groups, right.groups, strict=True):
            assert a.n == b.n and a.weight == pytest.approx(b.weight)
            for metric, estimate in a.metrics.items():
                other = b.metrics[metric]
                assert estimate.value == pytest.approx(other.value, abs=1e-12)
                assert estimate.low == pytest.approx(other.low, abs=1e-9)  # same seed, same draws
        assert left.empty_cells == right.empty_cells and left.unknown_count == right.unknown_count


def test_batches_with_one_label_value_or_an_all_missing_column_combine() -> None:
    """A batch may hold only 'hire' (its negative is a placeholder) or no known value of a column."""
    first = build_count_table(
        y_pred=["hire", "hire"], sensitive=pd.DataFrame({"sex": [None, None]}), positive_label="hire"
    )
    second = build_count_table(
        y_pred=["reject", "hire", "reject"],
        sensitive=pd.DataFrame({"sex": ["f", "m", "m"]}),
        positive_label="hire",
    )
    table = CountTable.combine([first, second])
    assert table.classes == ["reject", "hire"]
    assert table.levels == [["f", "m", "Unknown"]]
    result = compute_fairness_from_counts(table, n_boot=0)
    rates = {g.group: g.metrics["selection_rate"].value for g in result.attributes[0].groups}
    assert rates == {"f": 0.0, "m": 0.5, "Unknown": 1.0}
    assert result.positive_label == "hire"
    with pytest.raises(InputError, match="'sex' is entirely missing"):
        compute_fairness_from_counts(first, n_boot=0)
