"""What moving the decision threshold would do, and how well the scores are calibrated, group by group.

An audit with scores and labels can show, besides the verdict at today's threshold, the whole trade-off: each
group's selection rate, true and false positive rates, the policy's key ratios and the accuracy at every
threshold of a grid (``TradeoffResult``), and whether a score of 0.7 means a 70 % chance in every group
(``CalibrationResult``). Both are in ``audit.json`` when the audit was asked for curves.
"""

from __future__ import annotations

from pydantic import Field

from governance.results.common import Estimate, Frozen

CURVE_METRICS = ("selection_rate", "tpr", "fpr")


class GroupCurve(Frozen):
    """One group's rates at every threshold of the grid (the same order as ``TradeoffResult.thresholds``)."""

    group: str
    n: int  # rows (unweighted)
    positives: int  # rows whose true outcome is the positive label
    negatives: int
    below_min_size: bool = False  # left out of the key ratios (too few rows to judge)
    selection_rate: list[Estimate]
    tpr: list[Estimate]
    fpr: list[Estimate]


class RatioCurve(Frozen):
    """A policy rule's between-group number (min / max or max - min of a rate) at every threshold."""

    rule_id: str
    metric: str  # selection_rate, tpr or fpr
    comparison: str  # impact_ratio, ratio_between_groups or difference_between_groups
    bound: str  # as written in the policy, e.g. ">= 0.8"
    values: list[Estimate]
    meets_bound: list[bool | None]  # the point value against the bound (None: undefined)


class AttributeCurves(Frozen):
    """The curves of one sensitive attribute (single attributes; intersections are left to the audit tables)."""

    attribute: str
    groups: list[GroupCurve]
    ratios: list[RatioCurve]


class TradeoffResult(Frozen):
    """Rates, key ratios and accuracy as functions of the threshold (a decision is ``score >= threshold``)."""

    thresholds: list[float]
    current_threshold: float | None  # the threshold the audited decisions use (None: not a threshold rule)
    performance_metric: str = "accuracy"
    performance: list[Estimate]  # overall, at every threshold
    main_ratio: str | None = None  # rule id of the ratio drawn against performance
    attributes: list[AttributeCurves]
    confidence_level: float
    interval_method: str = (
        "Rates: Wilson score intervals. Ratios and gaps between groups: score intervals for the extreme pair "
        "(Miettinen-Nurminen for ratios, Newcombe for differences), adjusted over the pairs like the audit's."
    )
    notes: list[str] = Field(default_factory=list)


class ReliabilityBin(Frozen):
    """One bin of a reliability curve: the scores in it, their mean, and how often the outcome was positive."""

    low: float
    high: float
    n: int
    mean_score: float | None
    observed: Estimate  # share of positive outcomes, with a Wilson interval


class GroupCalibration(Frozen):
    """One group's reliability curve and its expected calibration error (the bins' mean |observed - score|)."""

    group: str
    n: int
    below_min_size: bool = False
    bins: list[ReliabilityBin]
    calibration_error: Estimate


class AttributeCalibration(Frozen):
    """Calibration of the groups of one sensitive attribute, and the largest gap between their errors."""

    attribute: str
    groups: list[GroupCalibration]
    gap: Estimate  # max - min of the groups' calibration errors (groups of at least the minimum size)


class CalibrationResult(Frozen):
    """Whether a score means the same chance of a positive outcome in every group (scores from 0 to 1 only)."""

    n_bins: int
    overall: GroupCalibration
    attributes: list[AttributeCalibration]
    confidence_level: float
    interval_method: str = (
        "Observed rates: Wilson score intervals. Calibration errors and gaps: percentile intervals of a "
        "bootstrap that redraws each bin's positive count (binomial), scores held fixed."
    )
