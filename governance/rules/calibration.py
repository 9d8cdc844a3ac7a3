"""Judging a calibration rule (``check: calibration_gap``) on the audit's calibration by group."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from governance.results.audit import Finding, RuleOutcome, RuleStatus
from governance.rules.schema import outcome_words

if TYPE_CHECKING:
    from governance.results.common import Estimate
    from governance.results.tradeoff import CalibrationResult
    from governance.rules.schema import Bound, CalibrationRule

Judge = Callable[["Estimate", "Bound", float], tuple[RuleStatus, str]]
"""(estimate, bound, confidence level) -> status and reason: the policy engine's own judgement of a number."""
Combine = Callable[[list[Finding]], RuleStatus]

NO_CALIBRATION = "the audit computed no calibration by group (it needs probability scores from 0 to 1 and the true outcomes)"


def calibration_outcome(
    rule: CalibrationRule, calibration: CalibrationResult | None, *, judge: Judge, combine: Combine
) -> RuleOutcome:
    """The rule's outcome: each attribute's gap judged over its interval (by ``judge``, the engine's), its
    findings combined by ``combine``; unchecked without calibration."""
    common = outcome_words(rule)
    if calibration is None:
        blocking = rule.severity == "block"
        return RuleOutcome(
            **common,
            status="inconclusive" if blocking else "not_applicable",
            summary=("Inconclusive: " if blocking else "Not checked: ") + f"{NO_CALIBRATION}.",
            advice="Audit a model that gives probability scores, with target=COLUMN, so that calibration can be "
            "measured.",
            not_checked_because=NO_CALIBRATION,
        )
    bound = rule.parsed_bound
    findings = []
    for attribute in calibration.attributes:
        if rule.attributes is not None and attribute.attribute not in rule.attributes:
            continue
        if attribute.gap.value is None:
            status: RuleStatus = "not_applicable"
            reason = "fewer than two groups are large enough to compare"
        else:
            status, reason = judge(attribute.gap, bound, calibration.confidence_level)
        eligible = [g for g in attribute.groups if not g.below_min_size]
        findings.append(
            Finding(
                attribute=attribute.attribute,
                group="largest gap between groups",
                reference=None,
                estimate=attribute.gap,
                status=status,
                n=sum(g.n for g in eligible),
                reason=reason,
            )
        )
    status = combine(findings)
    words = {
        "pass": "Passed",
        "fail": "Failed",
        "inconclusive": "Inconclusive",
        "not_applicable": "Not checked",
    }
    detail = "; ".join(f"{f.attribute}: {f.reason}" for f in findings) or "no attribute to check"
    return RuleOutcome(
        **common,
        status=status,
        summary=f"{words[status]}: the calibration gap between groups — {detail}.",
        advice=rule.advice
        or "A score that means different chances in different groups misleads whoever reads it: recalibrate "
        "per group, or retrain, and audit again.",
        findings=findings,
    )
