"""Building candidates with fairlearn: group thresholds, constrained refits, and dropping sensitive inputs.

Each method returns a :class:`Candidate`: a fitted estimator ready to save with skops, the fairlearn parameters
that made it, and what it does in plain words (for the comparison a manager decides from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from governance.errors import InputError

METHODS = ("threshold", "exponentiated-gradient", "grid-search", "drop-sensitive")
CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
)
GROUP_THRESHOLD_LAW = (
    "Group-specific thresholds are unlawful for many decisions: US employment law forbids adjusting scores or "
    "using different cutoffs by race, colour, religion, sex or national origin (42 U.S.C. 2000e-2(l)), and "
    "credit and insurance rules in many countries forbid deciding on sex at all; ask counsel before using it."
)


@dataclass(frozen=True)
class Training:
    """The data a candidate is fitted on: inputs, the outcome as 1/0, the sensitive column, the seed."""

    X: Any  # the model's input columns (a DataFrame)
    y: np.ndarray  # 1: the positive label, 0: any other
    sensitive: Any  # one column (a Series) of the attribute the constraint protects
    seed: int
    classes: list[Any]  # [the negative label, the positive label], as the model's classes
    features: list[str]  # the model's inputs


@dataclass(frozen=True)
class Candidate:
    """One mitigated model, how it was made, and what it does."""

    method: str
    constraint: str | None
    estimator: Any
    parameters: dict[str, Any]
    what_it_does: str
    uses_sensitive_at_decision: bool
    dropped_inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def constraint_for(policy: Any) -> str:
    """The fairlearn constraint nearest the policy's first blocking rule on a rate (four-fifths: parity of
    selection rates)."""
    for rule in getattr(policy, "rules", []):
        metric = getattr(rule, "metric", None)
        if getattr(rule, "severity", "") != "block" or metric is None:
            continue
        if metric == "tpr":
            return "true_positive_rate_parity"
        if metric == "fpr":
            return "false_positive_rate_parity"
        if metric == "selection_rate":
            return "demographic_parity"
    return "demographic_parity"


def _moment(constraint: str) -> Any:
    from fairlearn import reductions

    return {
        "demographic_parity": reductions.DemographicParity,
        "equalized_odds": reductions.EqualizedOdds,
        "true_positive_rate_parity": reductions.TruePositiveRateParity,
        "false_positive_rate_parity": reductions.FalsePositiveRateParity,
    }[constraint]()


def threshold_candidate(model: Any, training: Training, constraint: str) -> Candidate:
    """fairlearn's ThresholdOptimizer on the model's scores (no refit), saved as per-group threshold rules."""
    from fairlearn.postprocessing import ThresholdOptimizer

    from governance.mitigate.estimators import GroupThresholdClassifier

    if not hasattr(model, "predict_proba"):
        raise InputError(
            "The threshold method needs a model with predict_proba (a probability score); this model has none, so "
            "use {methods} drop-sensitive or a model that gives probabilities.",
            fields={"methods": "the method"},
        )
    optimizer = ThresholdOptimizer(
        estimator=model,
        constraints=constraint,
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(training.X, training.y, sensitive_features=training.sensitive)
    rules = {
        str(group): _rule(b) for group, b in optimizer.interpolated_thresholder_.interpolation_dict.items()
    }
    column = str(training.sensitive.name)
    wrapper = GroupThresholdClassifier(
        model, column, rules, seed=training.seed, features=training.features, classes=training.classes
    )
    return Candidate(
        method="threshold",
        constraint=constraint,
        estimator=wrapper,
        parameters={"objective": "accuracy_score", "thresholds": rules, "attribute": column},
        what_it_does=f"Uses the applicant's {column} at decision time: a different cutoff on the same score for "
        f"each {column} group. " + GROUP_THRESHOLD_LAW,
        uses_sensitive_at_decision=True,
    )


def _rule(bunch: Any) -> list[Any]:
    ignore = float(bunch.get("p_ignore", 0.0))
    constant = float(bunch.get("prediction_constant", 0.0))
    return [
        float(bunch.p0),
        bunch.operation0.operator,
        float(bunch.operation0.threshold),
        float(bunch.p1),
        bunch.operation1.operator,
        float(bunch.operation1.threshold),
        ignore,
        constant,
    ]


def _weight_name(estimator: Any) -> str:
    """How ``fit`` takes sample weights: ``sample_weight``, or ``step__sample_weight`` for a Pipeline's last step."""
    steps = getattr(estimator, "steps", None)
    return f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"


def _refittable(model: Any, drop: list[str]) -> Any:
    """A fresh copy of the model (unfitted) that takes its inputs without ``drop``; a clear error when it cannot."""
    from sklearn.base import clone

    try:
        fresh = clone(model)
    except Exception as error:
        raise InputError(
            f"The model cannot be refitted ({type(error).__name__}: {error}); a vendor's model or saved predictions "
            "can only get {methods} threshold.",
            fields={"methods": "the method"},
        ) from error
    return _without_columns(fresh, drop) if drop else fresh


def _without_columns(estimator: Any, drop: list[str]) -> Any:
    """The estimator with ``drop`` removed from every ColumnTransformer's column lists (in a Pipeline or alone)."""
    from sklearn.compose import ColumnTransformer

    steps = getattr(estimator, "steps", None)
    first = steps[0][1] if steps else estimator
    if not isinstance(first, ColumnTransformer):
        return estimator  # the columns are simply not passed
    kept = []
    for name, transformer, columns in first.transformers:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            if columns in drop:
                continue
            kept.append((name, transformer, columns))
            continue
        remaining = [c for c in columns if c not in drop]
        if remaining:
            kept.append((name, transformer, remaining))
    first.set_params(transformers=kept)
    return estimator


def inprocessing_candidate(
    model: Any, training: Training, method: str, constraint: str, drop: list[str]
) -> Candidate:
    """ExponentiatedGradient or GridSearch over a fresh copy of the model, without the sensitive inputs."""
    from fairlearn.reductions import ExponentiatedGradient, GridSearch

    from governance.mitigate.estimators import RandomizedClassifier

    features = [f for f in training.features if f not in drop]
    estimator = _refittable(model, drop)
    weight_name = _weight_name(estimator)
    X = training.X[features]
    column = str(training.sensitive.name)
    plain = (
        f"Does not use {column} at decision time; {column} is used only in training, to make the model meet "
        f"{constraint.replace('_', ' ')} as closely as it can."
    )
    if method == "grid-search":
        grid = GridSearch(
            estimator, constraints=_moment(constraint), grid_size=10, sample_weight_name=weight_name
        )
        _fit(grid, X, training)
        chosen = grid.predictors_[grid.best_idx_]
        wrapped = RandomizedClassifier(
            [chosen], [1.0], seed=training.seed, features=features, classes=training.classes
        )
        parameters = {"grid_size": 10, "constraint_weight": 0.5, "best_index": int(grid.best_idx_)}
        return Candidate(
            "grid-search", constraint, wrapped, {**parameters, "features": features}, plain, False, list(drop)
        )
    gradient = ExponentiatedGradient(
        estimator, constraints=_moment(constraint), sample_weight_name=weight_name
    )
    _fit(gradient, X, training)
    weights = [float(w) for w in gradient.weights_]
    wrapper = RandomizedClassifier(
        list(gradient.predictors_), weights, seed=training.seed, features=features, classes=training.classes
    )
    return Candidate(
        "exponentiated-gradient",
        constraint,
        wrapper,
        {"eps": 0.01, "max_iter": 50, "weights": weights, "features": features},
        plain
        + " It mixes several models at random, row by row (seeded, so the same rows give the same decisions).",
        False,
        list(drop),
    )


def _fit(reduction: Any, X: Any, training: Training) -> None:
    try:
        reduction.fit(X, training.y, sensitive_features=training.sensitive)
    except TypeError as error:
        raise InputError(
            f"The model cannot be refitted with sample weights ({error}); use {{methods}} threshold instead.",
            fields={"methods": "the method"},
        ) from error


def drop_candidate(model: Any, training: Training, drop: list[str]) -> Candidate:
    """The simplest baseline: the same model refitted without the sensitive inputs and their strongest proxies."""
    features = [f for f in training.features if f not in drop]
    if not drop:
        raise InputError(
            "The model takes no sensitive attribute or likely proxy as input, so there is nothing to drop; "
            "use {methods} threshold or exponentiated-gradient.",
            fields={"methods": "the method"},
        )
    estimator = _refittable(model, drop).fit(training.X[features], np.asarray(training.classes)[training.y])
    return Candidate(
        "drop-sensitive",
        None,
        estimator,
        {"dropped": list(drop), "features": features},
        f"The same kind of model, retrained without {', '.join(drop)}: it cannot use {', '.join(drop)} at "
        "decision time, though other inputs may still stand in for them.",
        False,
        list(drop),
    )
