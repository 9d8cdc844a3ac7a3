"""Invariants: row order and group names do not change the explanation; the same seed gives the same result."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit.explain import explain_model
from governance.results.explain import ExplanationResult


def comparable(result: ExplanationResult) -> dict:  # type: ignore[type-arg]
    """The result without what depends on the clock."""
    return result.model_dump(exclude={"seconds_taken"})


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_permuting_rows_changes_no_point_estimate(credit, linear_model, seed: int) -> None:  # type: ignore[no-untyped-def]
    X, _, sensitive = credit
    order = np.random.default_rng(seed).permutation(len(X))
    base = explain_model(linear_model, X, sensitive=sensitive, n_boot=0)
    shuffled = explain_model(linear_model, X.iloc[order], sensitive=sensitive.iloc[order], n_boot=0)
    for a, b in zip(base.importance, shuffled.importance, strict=True):
        assert a.feature == b.feature
        assert abs((a.mean_abs.value or 0) - (b.mean_abs.value or 0)) < 1e-12
    for group_a, group_b in zip(base.by_group[0].groups, shuffled.by_group[0].groups, strict=True):
        assert group_a.n == group_b.n
        assert all(abs(group_a.mean[f] - group_b.mean[f]) < 1e-12 for f in base.features)
    assert [(p.feature, p.attribute) for p in base.proxies] == [
        (p.feature, p.attribute) for p in shuffled.proxies
    ]


def test_relabelling_groups_only_relabels_results(credit, linear_model) -> None:  # type: ignore[no-untyped-def]
    X, _, sensitive = credit
    renamed = sensitive.assign(sex=sensitive["sex"].map({"female": "F", "male": "M"}))
    a = explain_model(linear_model, X, sensitive=sensitive[["sex"]], n_boot=20)
    b = explain_model(linear_model, X, sensitive=renamed[["sex"]], n_boot=20)
    assert [g.group for g in b.by_group[0].groups] == ["F", "M"]
    assert [g.mean for g in a.by_group[0].groups] == [g.mean for g in b.by_group[0].groups]
    assert [p.strength for p in a.proxies] == [p.strength for p in b.proxies]


def test_the_same_seed_gives_the_same_result(credit, linear_model) -> None:  # type: ignore[no-untyped-def]
    X, _, sensitive = credit
    first = explain_model(linear_model, X, sensitive=sensitive, n_boot=50, seed=7)
    second = explain_model(linear_model, X, sensitive=sensitive, n_boot=50, seed=7)
    assert comparable(first) == comparable(second)
    other = explain_model(linear_model, X, sensitive=sensitive, n_boot=50, seed=8)
    assert comparable(other) != comparable(first)


def test_no_bootstrap_is_said_plainly(credit, linear_model) -> None:  # type: ignore[no-untyped-def]
    from governance.report.explain import render_explanation_markdown

    X, _, sensitive = credit
    result = explain_model(linear_model, X, sensitive=sensitive, n_boot=0)
    assert all(item.mean_abs.low is None for item in result.importance)
    assert "No bootstrap was run" in render_explanation_markdown(result, figures=None)
