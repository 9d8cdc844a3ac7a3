"""Bootstrap intervals: the count-table resampling equals a row bootstrap (fairlearn's and a textbook one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
from fairness_helpers import attribute, binary_data, quantile_tolerance, resample_rows

from governance.audit.fairness import compute_fairness

LEVEL = 0.95
LOW_Q, HIGH_Q = 0.025, 0.975


def _row_bootstrap_selection(
    data: dict, n_boot: int, weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Textbook bootstrap (rows drawn with replacement) of female and male selection rates and their ratio."""
    n = len(data["y_pred"])
    m = resample_rows(n, n_boot, seed=99)
    w = np.ones(n) if weights is None else weights
    female = (data["sensitive"]["sex"] == "female").to_numpy()
    pred = data["y_pred"]
    positive = data["y_true"] == 1
    rate_f = (m * w * pred * female).sum(1) / (m * w * female).sum(1)
    rate_m = (m * w * pred * ~female).sum(1) / (m * w * ~female).sum(1)
    tpr_f = (m * w * pred * (female & positive)).sum(1) / (m * w * (female & positive)).sum(1)
    tpr_m = (m * w * pred * (~female & positive)).sum(1) / (m * w * (~female & positive)).sum(1)
    overall = (m * w * pred).sum(1) / (m * w).sum(1)
    return {
        "female": rate_f,
        "male": rate_m,
        "female - overall": rate_f - overall,
        "ratio": rate_f / rate_m,
        "tpr female": tpr_f,
        "tpr male": tpr_m,
    }


@pytest.mark.parametrize("weighted", [False, True])
def test_count_bootstrap_matches_textbook_row_bootstrap(weighted: bool) -> None:
    data = binary_data(n=400, seed=7)
    weights = data["weights"] if weighted else None
    ours_b, theirs_b = 4000, 4000
    result = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        sample_weight=weights,
        sensitive=data["sensitive"],
        n_boot=ours_b,
        reference="named",
        reference_groups={"sex": "male", "age_band": "25-44"},
        seed=1,
    )
    sex = attribute(result, "sex")
    textbook = _row_bootstrap_selection(data, theirs_b, weights)
    ours = {g.group: g.metrics["selection_rate"] for g in sex.groups}
    ratio = next(c.ratio for c in sex.to_reference if c.metric == "selection_rate")
    to_overall = next(
        c.difference for c in sex.to_overall if c.metric == "selection_rate" and c.group == "female"
    )
    for name, estimate in [
        ("female", ours["female"]),
        ("male", ours["male"]),
        ("ratio", ratio),
        ("female - overall", to_overall),
    ]:
        reference = textbook[name]
        low, high = np.quantile(reference, [LOW_Q, HIGH_Q])
        assert estimate.low == pytest.approx(low, abs=quantile_tolerance(reference, LOW_Q, ours_b, theirs_b))
        assert estimate.high == pytest.approx(
            high, abs=quantile_tolerance(reference, HIGH_Q, ours_b, theirs_b)
        )


def test_intervals_agree_with_fairlearn_metricframe_bootstrap() -> None:
    """fairlearn re-runs the frame per resample, so it gets 100 resamples; the tolerance accounts for it."""
    data = binary_data(n=500, seed=8)
    sensitive = data["sensitive"][["sex"]]
    fairlearn_b, ours_b = 100, 4000
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate},
        y_true=data["y_true"],
        y_pred=data["y_pred"],
        sensitive_features=sensitive,
        n_boot=fairlearn_b,
        ci_quantiles=[LOW_Q, HIGH_Q],
        random_state=0,
    )
    result = compute_fairness(
        y_pred=data["y_pred"], y_true=data["y_true"], sensitive=sensitive, n_boot=ours_b, seed=2
    )
    sex = attribute(result, "sex")
    # The textbook bootstrap of the same data gives the spread that sets the Monte-Carlo tolerance.
    textbook = _row_bootstrap_selection(data, 2000)
    for metric in ["selection_rate", "tpr"]:
        for g in sex.groups:
            spread = textbook[g.group] if metric == "selection_rate" else textbook[f"tpr {g.group}"]
            low = frame.by_group_ci[0].loc[g.group, metric]
            high = frame.by_group_ci[1].loc[g.group, metric]
            assert g.metrics[metric].low == pytest.approx(
                low, abs=quantile_tolerance(spread, LOW_Q, fairlearn_b, ours_b)
            )
            assert g.metrics[metric].high == pytest.approx(
                high, abs=quantile_tolerance(spread, HIGH_Q, fairlearn_b, ours_b)
            )
    spreads = {s.metric: s for s in sex.between_groups}
    diff_low, diff_high = frame.difference_ci(method="between_groups")
    ratio_low, ratio_high = frame.ratio_ci(method="between_groups")
    gap = np.abs(textbook["female"] - textbook["male"])
    for metric in ["selection_rate"]:
        tolerance = quantile_tolerance(gap, LOW_Q, fairlearn_b, ours_b) * 1.5  # |.| is skewed: be generous
        assert spreads[metric].difference.low == pytest.approx(diff_low[metric], abs=tolerance)
        assert spreads[metric].difference.high == pytest.approx(diff_high[metric], abs=tolerance)
        ratio_spread = np.minimum(textbook["ratio"], 1 / textbook["ratio"])
        tolerance = quantile_tolerance(ratio_spread, LOW_Q, fairlearn_b, ours_b) * 1.5
        assert spreads[metric].ratio.low == pytest.approx(ratio_low[metric], abs=tolerance)
        assert spreads[metric].ratio.high == pytest.approx(ratio_high[metric], abs=tolerance)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_row_metric_bootstrap_matches_textbook(weighted: bool, ties: bool) -> None:
    """AUC and Brier (binary with scores) use a Poisson bootstrap over rows; tied scores take another path."""
    data = binary_data(n=300, seed=9)
    if not ties:
        data["scores"] = np.clip(data["scores"], 0.001, 0.999) + np.random.default_rng(0).uniform(
            0, 1e-4, 300
        )
        data["scores"] = data["scores"] / data["scores"].max()
        assert np.unique(data["scores"]).shape[0] == 300
    weights = data["weights"] if weighted else None
    n_boot = 3000
    result = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        scores=data["scores"],
        sample_weight=weights,
        sensitive=data["sensitive"][["sex"]],
        n_boot=n_boot,
        seed=4,
    )
    female = (data["sensitive"]["sex"] == "female").to_numpy()
    m = resample_rows(300, n_boot, seed=5)
    w = np.ones(300) if weights is None else weights
    y, s = data["y_true"], data["scores"]
    brier = (m * w * (s - y) ** 2 * female).sum(1) / (m * w * female).sum(1)
    # Weighted AUC over resamples, by brute force on pairs.
    fy, fs, fw = y[female], s[female], w[female]
    pos, neg = fy == 1, fy == 0
    pair = (fs[pos][:, None] > fs[neg][None, :]) + 0.5 * (fs[pos][:, None] == fs[neg][None, :])
    mf = m[:, female]
    wp, wn = mf[:, pos] * fw[pos], mf[:, neg] * fw[neg]
    auc = np.einsum("bi,ij,bj->b", wp, pair, wn) / (wp.sum(1) * wn.sum(1))
    group = next(g for g in attribute(result, "sex").groups if g.group == "female")
    for name, reference in [("brier", brier), ("auc", auc)]:
        low, high = np.quantile(reference, [LOW_Q, HIGH_Q])
        estimate = group.metrics[name]
        assert estimate.low == pytest.approx(low, abs=quantile_tolerance(reference, LOW_Q, n_boot, n_boot))
        assert estimate.high == pytest.approx(high, abs=quantile_tolerance(reference, HIGH_Q, n_boot, n_boot))


def test_regression_bootstrap_matches_textbook() -> None:
    rng = np.random.default_rng(3)
    n, n_boot = 300, 3000
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n)})
    y_true = rng.normal(10, 3, n)
    y_pred = y_true + rng.standard_t(3, n)
    result = compute_fairness(y_pred=y_pred, y_true=y_true, sensitive=sensitive, n_boot=n_boot, seed=1)
    female = (sensitive["sex"] == "f").to_numpy()
    m = resample_rows(n, n_boot, seed=2)
    error = np.abs(y_pred - y_true)
    mae_f = (m * error * female).sum(1) / (m * female).sum(1)
    mae_m = (m * error * ~female).sum(1) / (m * ~female).sum(1)
    sex = attribute(result, "sex")
    gap = next(s for s in sex.between_groups if s.metric == "mae").difference
    groups = {g.group: g.metrics["mae"] for g in sex.groups}
    for estimate, reference in [(groups["f"], mae_f), (gap, np.abs(mae_f - mae_m))]:
        low, high = np.quantile(reference, [LOW_Q, HIGH_Q])
        assert estimate.low == pytest.approx(
            low, abs=quantile_tolerance(reference, LOW_Q, n_boot, n_boot) * 1.5
        )
        assert estimate.high == pytest.approx(
            high, abs=quantile_tolerance(reference, HIGH_Q, n_boot, n_boot) * 1.5
        )


def test_same_seed_same_result_other_seed_other_intervals() -> None:
    data = binary_data(n=300, seed=1)
    arguments = {
        "y_pred": data["y_pred"],
        "y_true": data["y_true"],
        "scores": data["scores"],
        "sensitive": data["sensitive"],
        "n_boot": 50,
    }
    first = compute_fairness(**arguments, seed=3)
    assert compute_fairness(**arguments, seed=3) == first
    other = compute_fairness(**arguments, seed=4)
    assert other.overall["auc"].value == first.overall["auc"].value
    assert other.overall["auc"].low != first.overall["auc"].low
    # Rates have score intervals from their counts: no resampling, so the seed does not move them.
    assert other.overall["selection_rate"] == first.overall["selection_rate"]


def test_progress_reports_every_resample() -> None:
    data = binary_data(n=200, seed=1)
    calls: list[tuple[int, int]] = []
    compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        scores=data["scores"],
        sensitive=data["sensitive"],
        n_boot=40,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[-1] == (40, 40)  # only AUC and Brier are resampled; rates have score intervals
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_no_bootstrap_leaves_resampled_metrics_without_intervals_but_rates_keep_theirs() -> None:
    data = binary_data(n=200, seed=1)
    result = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        scores=data["scores"],
        sensitive=data["sensitive"],
        n_boot=0,
    )
    metrics = result.attributes[0].groups[0].metrics
    assert metrics["selection_rate"].has_interval
    assert metrics["auc"].value is not None and not metrics["auc"].has_interval


def test_row_metrics_use_fewer_resamples_on_large_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the rows x resamples budget, AUC and Brier intervals come from fewer resamples, with a note."""
    from governance.audit.fairness import compute

    monkeypatch.setattr(compute, "_ROW_RESAMPLE_BUDGET", 300 * 50)
    data = binary_data(n=300, seed=1)
    calls: list[tuple[int, int]] = []
    result = compute_fairness(
        y_pred=data["y_pred"],
        y_true=data["y_true"],
        scores=data["scores"],
        sensitive=data["sensitive"],
        n_boot=500,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[-1] == (200, 200)
    assert any("AUC and Brier score come from 200 resamples instead of 500" in note for note in result.notes)
    assert result.overall["auc"].has_interval and result.overall["selection_rate"].has_interval


def test_poisson_lookup_table_matches_poisson_one() -> None:
    """The 16-bit table behind the row bootstrap: each count's share within 1/65,536 of Poisson(1)."""
    from math import exp, factorial

    from governance.audit.fairness._rows import _POISSON

    counts = np.bincount(_POISSON.astype(int)) / _POISSON.shape[0]
    for k, share in enumerate(counts):
        assert abs(share - exp(-1) / factorial(k)) <= 1 / 65536
    assert _POISSON.mean() == pytest.approx(1.0, abs=1e-4) and _POISSON.var() == pytest.approx(1.0, abs=1e-3)
