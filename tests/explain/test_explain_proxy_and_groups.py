"""Proxy screen, sensitive-in-top-k, global importance intervals and by-group means against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.audit.explain import explain_model, proxies_in_top_k, proxy_screen, sensitive_in_top_k
from governance.audit.explain.importance import bootstrap_means, by_group, global_importance
from governance.audit.explain.proxy import cramers_v, cross_validated_auc


def postcode_world(
    *, proxy: bool, n: int = 800, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Decisions driven by a postcode; with ``proxy`` the postcode is generated from the sensitive attribute."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n)
    if proxy:
        # group a lives mostly in postcodes 0-9, group b mostly in 10-19
        home = np.where(group == "a", 0, 10)
        postcode = np.where(rng.random(n) < 0.9, home, 10 - home) + rng.integers(0, 10, size=n)
    else:
        postcode = rng.integers(0, 20, size=n)
    income = rng.normal(size=n)
    X = pd.DataFrame({"postcode": [f"P{p:02d}" for p in postcode], "income": income})
    logit = 2.5 * (postcode < 10) - 1.25 + 0.3 * income
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    return X, y, pd.DataFrame({"group": group})


def fit(X: pd.DataFrame, y: pd.Series, categorical: list[str], numeric: list[str]):  # type: ignore[no-untyped-def]
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)


def test_a_postcode_generated_from_the_attribute_is_flagged_as_a_driving_proxy() -> None:
    X, y, sensitive = postcode_world(proxy=True)
    result = explain_model(fit(X, y, ["postcode"], ["income"]), X, sensitive=sensitive, n_boot=50)
    assert result.top_k_features[0] == "postcode"
    hits = proxies_in_top_k(result, 1, 0.5)
    assert [(h.feature, h.attribute) for h in hits] == [("postcode", "group")]
    assert hits[0].strength > 0.6
    assert [h.feature for h in result.likely_proxies] == ["postcode"]
    assert sensitive_in_top_k(result, 2) == []


def test_a_clean_postcode_is_not_flagged_even_with_many_levels() -> None:
    X, y, sensitive = postcode_world(proxy=False)
    result = explain_model(fit(X, y, ["postcode"], ["income"]), X, sensitive=sensitive, n_boot=50)
    assert result.top_k_features[0] == "postcode"
    assert proxies_in_top_k(result, 2, 0.5) == []
    scores = {s.feature: s for s in result.proxies}
    assert scores["postcode"].strength < 0.2
    # Cramér's V of a 20-level feature is inflated by chance; cross-validation keeps the strength honest.
    assert scores["postcode"].cramers_v > scores["postcode"].strength


def test_a_sensitive_attribute_used_by_the_model_is_found_among_the_top_features() -> None:
    X, y, sensitive = postcode_world(proxy=False)
    X = X.assign(group=sensitive["group"])
    y = pd.Series(np.where(X["group"] == "a", 1, y))
    result = explain_model(fit(X, y, ["postcode", "group"], ["income"]), X, sensitive=sensitive, n_boot=20)
    assert sensitive_in_top_k(result, 2) == ["group"]
    assert result.sensitive_features_in_model == ["group"]
    assert all(s.feature != "group" for s in result.proxies)  # the attribute is not its own proxy


def test_cramers_v_matches_scipy() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(0, 4, size=500)
    b = (a + rng.integers(0, 3, size=500)) % 3
    table = pd.crosstab(a, b).to_numpy()
    assert cramers_v(a, b) == pytest.approx(association(table, method="cramer"), abs=1e-12)


def test_cross_validated_auc_is_near_chance_for_noise_and_high_for_a_copy() -> None:
    rng = np.random.default_rng(3)
    target = rng.choice(["x", "y", "z"], size=900)
    noise = rng.integers(0, 50, size=900)
    copy = pd.factorize(target)[0]
    assert abs(cross_validated_auc(noise, target, seed=0) - 0.5) < 0.05
    assert cross_validated_auc(copy, target, seed=0) > 0.99


def test_proxy_screen_bands_numeric_features_and_skips_unknown_attribute_values() -> None:
    rng = np.random.default_rng(4)
    sensitive = pd.DataFrame({"g": rng.choice(["a", "b"], size=600)})
    height = np.where(sensitive["g"] == "a", 160, 175) + rng.normal(0, 5, size=600)
    sensitive.loc[:49, "g"] = None
    scores = proxy_screen(pd.DataFrame({"height": height}), sensitive)
    assert len(scores) == 1 and scores[0].likely_proxy and scores[0].auc > 0.9


def test_bootstrap_means_agree_with_a_naive_row_bootstrap() -> None:
    rng = np.random.default_rng(5)
    values = np.abs(rng.normal(size=(300, 3))) * [1, 2, 3]
    fast = bootstrap_means(values, n_boot=2000, seed=1)
    naive = np.array([values[rng.integers(0, 300, size=300)].mean(axis=0) for _ in range(2000)])
    np.testing.assert_allclose(fast.mean(axis=0), values.mean(axis=0), rtol=0.01)
    np.testing.assert_allclose(fast.std(axis=0), naive.std(axis=0), rtol=0.1)
    np.testing.assert_allclose(fast.std(axis=0), values.std(axis=0) / np.sqrt(300), rtol=0.1)


def test_global_importance_orders_features_and_measures_top_k_stability() -> None:
    rng = np.random.default_rng(6)
    values = rng.normal(size=(400, 4)) * [5, 1, 0.99, 0.1]
    items, top, stability = global_importance(
        values, ["big", "b", "c", "tiny"], top_k=1, n_boot=100, seed=0, sensitive=["c"]
    )
    assert items[0].feature == "big" and top == ["big"] and stability == 1.0
    assert items[0].mean_abs.value == pytest.approx(np.abs(values[:, 0]).mean())
    assert all(i.mean_abs.low <= i.mean_abs.value <= i.mean_abs.high for i in items)
    assert sum(i.share for i in items) == pytest.approx(1.0)
    assert [i.is_sensitive for i in items if i.feature == "c"] == [True]
    _, top2, unstable = global_importance(values, ["big", "b", "c", "tiny"], top_k=2, n_boot=200, seed=0)
    assert top2[0] == "big" and 0.0 < unstable < 1.0  # b and c are nearly tied for second place


def test_by_group_means_equal_masked_means_with_unknown_last_and_numeric_bands() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(200, 2))
    sensitive = pd.DataFrame(
        {"sex": rng.choice(["f", "m"], size=200).astype(object), "age": rng.integers(18, 80, size=200)}
    )
    sensitive.loc[:9, "sex"] = None
    result = by_group(values, ["x", "y"], sensitive, np.arange(200))
    sex = result[0]
    assert [g.group for g in sex.groups] == ["f", "m", "Unknown"]
    mask = (sensitive["sex"] == "f").to_numpy()
    assert sex.groups[0].n == mask.sum()
    assert sex.groups[0].mean["x"] == pytest.approx(values[mask, 0].mean(), abs=1e-12)
    assert sex.groups[0].mean_abs["y"] == pytest.approx(np.abs(values[mask, 1]).mean(), abs=1e-12)
    top = sex.most_different[0]
    f_mean, m_mean = sex.groups[0].mean[top.feature], sex.groups[1].mean[top.feature]
    assert top.spread == pytest.approx(abs(f_mean - m_mean), abs=1e-12)
    age = result[1]
    assert age.binned and len(age.groups) == 4 and sum(g.n for g in age.groups) == 200


def test_named_group_differences_carry_a_within_group_bootstrap_interval() -> None:
    rng = np.random.default_rng(8)
    groups = pd.DataFrame({"g": np.repeat(["a", "b"], 300)})
    shifted = rng.normal(size=(600, 2))
    shifted[:300, 0] += 1.0  # feature 0 pushes group a up by one unit; feature 1 is the same for both
    (attribute,) = by_group(shifted, ["real", "noise"], groups, np.arange(600), n_boot=400, seed=1)
    real = next(d for d in attribute.most_different if d.feature == "real")
    assert real.highest_group == "a" and real.clear
    assert real.difference is not None
    assert real.difference.low < real.spread < real.difference.high
    # the interval's width matches the standard error of a difference of two means of 300 unit-variance rows
    width = real.difference.high - real.difference.low
    assert width == pytest.approx(2 * 1.96 * np.sqrt(2 / 300), rel=0.2)
    noise = next(d for d in attribute.most_different if d.feature == "noise")
    assert noise.spread < real.spread
