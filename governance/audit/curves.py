"""The audit's optional curves (``--curves``): what another threshold would do, and calibration by group.

Both need the scores and the true outcomes; they follow the policy's key ratios, interval level and minimum group
size, so the figures show the same bounds the verdict used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.errors import InputError
from governance.results.tradeoff import CalibrationResult, TradeoffResult


@dataclass(frozen=True)
class ScoredOutcomes:
    """What both curves read: the audit's scores and data, its target and positive label, the policy and seed."""

    scores: Any
    audit_data: Any
    target: str | None
    label: Any
    policy: Any
    seed: int

    @property
    def complete(self) -> bool:
        """Whether there are scores, data and a target column to draw curves from."""
        return self.scores is not None and self.audit_data is not None and self.target is not None

    def positive(self) -> np.ndarray:
        """1 where the true outcome is the positive label, else 0."""
        assert self.target is not None
        positive: np.ndarray = (self.audit_data.frame[self.target].astype(str) == str(self.label)).to_numpy()
        return positive.astype(int)

    def calibration(self, values: np.ndarray, positive: np.ndarray) -> CalibrationResult:
        """Calibration by group at the policy's interval level and minimum group size."""
        from governance.audit.fairness.calibration import compute_calibration

        return compute_calibration(
            scores=values,
            y_true=positive,
            sensitive=self.audit_data.sensitive_frame,
            confidence_level=self.policy.confidence_level,
            min_group_size=self.policy.min_group_size,
            seed=self.seed,
        )


def _are_probabilities(values: np.ndarray) -> bool:
    return bool(values.min() >= 0.0 and values.max() <= 1.0)


def curves_for(
    inputs: ScoredOutcomes, *, threshold: float | None, from_model: bool = True
) -> tuple[TradeoffResult, CalibrationResult | None]:
    """The trade-off curves, and calibration when the scores are probabilities (``None`` otherwise)."""
    from governance.audit.fairness.tradeoff import CurveSettings, compute_tradeoff, key_ratios_of

    if not inputs.complete:
        raise InputError(
            "{curves} needs a yes/no model's scores and the true outcomes: give {target}, and a model with "
            "predict_proba or decision_function (or {scores} COL); or leave {curves} out.",
            fields=["curves", "target", "scores"],
        )
    policy = inputs.policy
    values = np.asarray(inputs.scores, dtype=np.float64)
    positive = inputs.positive()
    probabilities = _are_probabilities(values)
    settings = CurveSettings(
        key_ratios=key_ratios_of(policy),
        confidence_level=policy.confidence_level,
        min_group_size=policy.min_group_size,
        current_threshold=_current(threshold, from_model=from_model, probabilities=probabilities),
    )
    sensitive = inputs.audit_data.sensitive_frame
    tradeoff = compute_tradeoff(scores=values, y_true=positive, sensitive=sensitive, settings=settings)
    return tradeoff, inputs.calibration(values, positive) if probabilities else None


def calibration_for(inputs: ScoredOutcomes) -> CalibrationResult | None:
    """Calibration by group for a policy with a calibration rule, when the scores are probabilities and labels
    exist; ``None`` otherwise (the rule then says why it was not checked)."""
    from governance.rules.schema import CalibrationRule

    if not any(isinstance(rule, CalibrationRule) for rule in getattr(inputs.policy, "rules", [])):
        return None
    if not inputs.complete:
        return None
    values = np.asarray(inputs.scores, dtype=np.float64)
    if not _are_probabilities(values):
        return None
    return inputs.calibration(values, inputs.positive())


def _current(threshold: float | None, *, from_model: bool, probabilities: bool) -> float | None:
    """The threshold today's decisions use: the one given, or a model's own (0.5 on probabilities, else 0).

    Saved decisions without ``--threshold`` have no known threshold (``None``)."""
    if threshold is not None:
        return threshold
    if not from_model:
        return None
    return 0.5 if probabilities else 0.0
