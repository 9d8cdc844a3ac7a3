"""Oracle: each candidate decides exactly as fairlearn's own API does for the same seed and data, and survives
a round trip through skops' safe loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient, GridSearch
from mitigation_support import FEATURES, fit, make_frame

from governance.errors import InputError
from governance.intake.model_files import check_model_file, load_model, save_model
from governance.mitigate.methods import (
    Training,
    drop_candidate,
    inprocessing_candidate,
    threshold_candidate,
)

SEED = 7


@pytest.fixture(scope="module")
def case() -> tuple[object, Training, object]:
    train, holdout = make_frame(2000, seed=1), make_frame(1500, seed=2)
    training = Training(train[FEATURES], train["label"].to_numpy(), train["sex"], SEED, [0, 1], FEATURES)
    return fit(train), training, holdout


def _reloaded(estimator: object, tmp_path: Path) -> object:
    path = tmp_path / "candidate.skops"
    save_model(estimator, path)
    assert not check_model_file(path).needs_vouching  # on the allow-list: no one has to vouch for it
    return load_model(path).estimator


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_threshold_candidate_equals_threshold_optimizer(case, tmp_path: Path, constraint: str) -> None:
    model, training, holdout = case
    candidate = threshold_candidate(model, training, constraint)
    oracle = ThresholdOptimizer(
        estimator=model,
        constraints=constraint,
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    ).fit(training.X, training.y, sensitive_features=training.sensitive)
    expected = oracle.predict(holdout[FEATURES], sensitive_features=holdout["sex"], random_state=SEED)
    expected_pmf = oracle._pmf_predict(holdout[FEATURES], sensitive_features=holdout["sex"])
    reloaded = _reloaded(candidate.estimator, tmp_path)
    assert np.array_equal(reloaded.predict(holdout[FEATURES]), expected)
    assert np.allclose(reloaded.predict_proba(holdout[FEATURES]), expected_pmf, atol=1e-12, rtol=0)
    assert candidate.uses_sensitive_at_decision and "2000e-2(l)" in candidate.what_it_does


def test_exponentiated_gradient_candidate_equals_fairlearn(case, tmp_path: Path) -> None:
    model, training, holdout = case
    candidate = inprocessing_candidate(
        model, training, "exponentiated-gradient", "demographic_parity", ["sex"]
    )
    kept = ["income", "tenure"]
    oracle = ExponentiatedGradient(
        candidate_base(model), constraints=DemographicParity(), sample_weight_name="model__sample_weight"
    ).fit(training.X[kept], training.y, sensitive_features=training.sensitive)
    reloaded = _reloaded(candidate.estimator, tmp_path)
    assert np.array_equal(reloaded.predict(holdout), oracle.predict(holdout[kept], random_state=SEED))
    assert np.allclose(
        reloaded.predict_proba(holdout), oracle._pmf_predict(holdout[kept]), atol=1e-12, rtol=0
    )
    assert not candidate.uses_sensitive_at_decision


def test_grid_search_candidate_equals_fairlearn(case, tmp_path: Path) -> None:
    model, training, holdout = case
    candidate = inprocessing_candidate(model, training, "grid-search", "equalized_odds", ["sex"])
    kept = ["income", "tenure"]
    oracle = GridSearch(
        candidate_base(model),
        constraints=EqualizedOdds(),
        grid_size=10,
        sample_weight_name="model__sample_weight",
    ).fit(training.X[kept], training.y, sensitive_features=training.sensitive)
    reloaded = _reloaded(candidate.estimator, tmp_path)
    assert np.array_equal(reloaded.predict(holdout), oracle.predict(holdout[kept]))


def test_drop_sensitive_refits_without_the_column(case, tmp_path: Path) -> None:
    model, training, holdout = case
    candidate = drop_candidate(model, training, ["sex"])
    reloaded = _reloaded(candidate.estimator, tmp_path)
    assert list(reloaded.feature_names_in_) == ["income", "tenure"]
    assert set(np.unique(reloaded.predict(holdout[["income", "tenure"]]))) <= {0, 1}
    with pytest.raises(InputError, match="nothing to drop"):
        drop_candidate(model, training, [])


def test_a_model_without_scores_gets_a_clear_message(case) -> None:
    from sklearn.svm import LinearSVC

    _, training, _ = case
    plain = LinearSVC().fit(training.X[["income", "tenure"]], training.y)
    with pytest.raises(InputError, match="needs a model with predict_proba"):
        threshold_candidate(plain, training, "demographic_parity")


def candidate_base(model: object) -> object:
    """The model's own pipeline without the sex column, as the candidate refits it."""
    from sklearn.base import clone

    from governance.mitigate.methods import _without_columns

    return _without_columns(clone(model), ["sex"])
