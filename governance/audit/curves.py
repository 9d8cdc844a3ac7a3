"""The audit's optional curves (``--curves``): what another threshold would do, and calibration by group.

Both need the scores and the true outcomes; they follow the policy's key ratios, interval level and minimum group
size, so the figures show the same bounds the verdict used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.errors import InputError
from governance.results.tradeoff import CalibrationResult, TradeoffResult


def curves_for(
    scores: Any,
    audit_data: Any,
    *,
    target: str | None,
    label: Any,
    policy: Any,
    seed: int,
    threshold: float | None,
    from_model: bool = True,
) -> tuple[TradeoffResult, CalibrationResult | None]:
    """The trade-off curves, and calibration when the scores are probabilities (``None`` otherwise)."""
    from governance.audit.fairness.calibration import compute_calibration
    from governance.audit.fairness.tradeoff import CurveSettings, compute_tradeoff, key_ratios_of

    if scores is None or audit_data is None or target is None:
        raise InputError(
            "--curves needs a yes/no model's scores and the true outcomes: give --target, and a model with "
            "predict_proba or decision_function (or --scores COL); or leave --curves out."
        )
    values = np.asarray(scores, dtype=np.float64)
    positive = (audit_data.frame[target].astype(str) == str(label)).to_numpy().astype(int)
    probabilities = bool(values.min() >= 0.0 and values.max() <= 1.0)
    settings = CurveSettings(
        key_ratios=key_ratios_of(policy),
        confidence_level=policy.confidence_level,
        min_group_size=policy.min_group_size,
        current_threshold=_current(threshold, from_model=from_model, probabilities=probabilities),
    )
    sensitive = audit_data.sensitive_frame
    tradeoff = compute_tradeoff(scores=values, y_true=positive, sensitive=sensitive, settings=settings)
    calibration = None
    if probabilities:
        calibration = compute_calibration(
            scores=values,
            y_true=positive,
            sensitive=sensitive,
            confidence_level=policy.confidence_level,
            min_group_size=policy.min_group_size,
            seed=seed,
        )
    return tradeoff, calibration


def calibration_for(
    scores: Any, audit_data: Any, *, target: str | None, label: Any, policy: Any, seed: int
) -> CalibrationResult | None:
    """Calibration by group for a policy with a calibration rule, when the scores are probabilities and labels
    exist; ``None`` otherwise (the rule then says why it was not checked)."""
    from governance.audit.fairness.calibration import compute_calibration
    from governance.rules.schema import CalibrationRule

    if not any(isinstance(rule, CalibrationRule) for rule in getattr(policy, "rules", [])):
        return None
    if scores is None or audit_data is None or target is None:
        return None
    values = np.asarray(scores, dtype=np.float64)
    if not (values.min() >= 0.0 and values.max() <= 1.0):
        return None
    return compute_calibration(
        scores=values,
        y_true=(audit_data.frame[target].astype(str) == str(label)).to_numpy().astype(int),
        sensitive=audit_data.sensitive_frame,
        confidence_level=policy.confidence_level,
        min_group_size=policy.min_group_size,
        seed=seed,
    )


def _current(threshold: float | None, *, from_model: bool, probabilities: bool) -> float | None:
    """The threshold today's decisions use: the one given, or a model's own (0.5 on probabilities, else 0).

    Saved decisions without ``--threshold`` have no known threshold (``None``)."""
    if threshold is not None:
        return threshold
    if not from_model:
        return None
    return 0.5 if probabilities else 0.0
