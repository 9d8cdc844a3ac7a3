"""Candidate models made by mitigation, as plain estimators that skops saves and loads without running code.

Each holds only numbers, strings and fitted scikit-learn estimators, so the file is checked by skops' safe loader;
the two classes are on the allow-list in :mod:`governance.intake.model_files`. Their decisions equal fairlearn's
for the same seed: fairlearn draws one uniform number per row from ``RandomState(seed)`` and says yes where the
row's probability of a yes is at least that number; so do these, on the rows in the order given.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _decide(positive: np.ndarray, seed: int, classes: np.ndarray) -> np.ndarray:
    """fairlearn's randomised decision: yes where the probability of a yes is at least a uniform draw."""
    draws = np.random.RandomState(seed).rand(positive.shape[0])
    return np.asarray(np.asarray(classes)[(positive >= draws).astype(int)])


class _SeededDecisions:
    """What both candidates share: their inputs and classes as scikit-learn names them, and fairlearn's
    seeded decision from the probability of a yes (``predict_proba`` is each class's own)."""

    seed: int
    classes_: np.ndarray
    feature_names_in_: np.ndarray
    n_features_in_: int

    def _inputs(self, features: list[str], classes: list[Any], seed: int) -> None:
        self.seed = seed
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = len(features)

    def predict_proba(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:
        return _decide(self.predict_proba(X)[:, 1], self.seed, self.classes_)


class GroupThresholdClassifier(_SeededDecisions):
    """Group-specific thresholds on a model's score (fairlearn's ThresholdOptimizer, saved as numbers).

    It reads the sensitive column ``column`` at decision time: each group has two threshold rules
    (``operator`` ``>`` or ``<``, ``threshold``) mixed with probabilities ``p0`` and ``p1``. Unseen groups get no.
    """

    def __init__(
        self,
        estimator: Any,
        column: str,
        rules: dict[str, list[Any]],
        *,
        seed: int,
        features: list[str],
        classes: list[Any],
    ) -> None:
        self.estimator = estimator
        self.column = column
        # group -> [p0, operator0, threshold0, p1, operator1, threshold1, p_ignore, constant]
        self.rules = rules
        self.base_features = features
        self._inputs([*features, column] if column not in features else features, classes, seed)

    def _scores(self, X: Any) -> np.ndarray:
        proba = self.estimator.predict_proba(X[self.base_features])
        return np.asarray(proba)[:, 1]

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of a yes: the mix of the row's group's two threshold rules (fairlearn's pmf)."""
        scores = self._scores(X)
        groups = np.asarray(X[self.column]).astype(str)
        positive = np.zeros(scores.shape[0])
        for group, (p0, op0, t0, p1, op1, t1, ignore, constant) in self.rules.items():
            mask = groups == group
            mixed = p0 * _apply(op0, t0, scores[mask]) + p1 * _apply(op1, t1, scores[mask])
            positive[mask] = ignore * constant + (1 - ignore) * mixed if ignore else mixed
        return np.column_stack([1.0 - positive, positive])


def _apply(operator: str, threshold: float, scores: np.ndarray) -> np.ndarray:
    return np.asarray(scores > threshold if operator == ">" else scores < threshold, dtype=float)


class RandomizedClassifier(_SeededDecisions):
    """A weighted mix of fitted classifiers (fairlearn's ExponentiatedGradient, saved as its predictors)."""

    def __init__(
        self,
        predictors: list[Any],
        weights: list[float],
        *,
        seed: int,
        features: list[str],
        classes: list[Any],
    ) -> None:
        self.predictors = predictors
        self.weights = weights
        self._inputs(features, classes, seed)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of a yes: the weighted share of predictors that say yes (fairlearn's pmf)."""
        columns = list(self.feature_names_in_)
        positive = np.zeros(len(X))
        for predictor, weight in zip(self.predictors, self.weights, strict=True):
            if weight != 0:
                positive = positive + weight * np.asarray(predictor.predict(X[columns]), dtype=float)
        return np.column_stack([1.0 - positive, positive])
