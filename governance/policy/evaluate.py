"""Judging results against a policy, with uncertainty deciding the verdict.

A rule passes for a group only if the group's whole confidence interval meets the bound, fails only if the
whole interval misses it, and is inconclusive otherwise, or when the group (or its reference) has fewer rows
than the rule's minimum. A rule fails if any group fails; the audit fails if any blocking rule fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from governance.policy.model import Bound, ExplainRule, MetricRule, Policy
from governance.results.audit import Finding, PolicyVerdict, RuleOutcome, RuleStatus, Verdict
from governance.results.common import Estimate
from governance.results.fairness import AttributeResult, FairnessResult
from governance.results.wording import rate_words

if TYPE_CHECKING:
    from governance.results.explain import ExplanationResult

EXIT_CODES: dict[Verdict, int] = {"passed": 0, "failed": 1, "inconclusive": 3, "reported": 0}
"""A reported audit exits 0: a policy without a pass mark gives nothing to gate on, so CI is not broken by it."""

METRIC_WORDS = {
    "selection_rate": "selection rate",
    "base_rate": "base rate (share actually positive)",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "tnr": "true negative rate",
    "precision": "precision",
    "npv": "negative predictive value",
    "accuracy": "accuracy",
    "auc": "AUC",
    "brier": "Brier score",
    "mean_prediction": "mean prediction",
    "mean_target": "mean target",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
}

DEFAULT_ADVICE = {
    "impact_ratio": (
        "Find out why fewer people in the flagged group are selected: compare their feature distributions, check "
        "for proxies in the explanation section, and consider a less discriminatory alternative before approval."
    ),
    "value": "Look at the flagged group's errors; collect more or better data for it, or adjust the model.",
    "overall": "The model does not reach the required performance; improve it before approval.",
}


def fmt(number: float | None) -> str:
    """Fixed formatting used in every report: three significant decimals, 'n/a' for undefined."""
    if number is None:
        return "n/a"
    return f"{number:.3f}".rstrip("0").rstrip(".") if abs(number) < 1000 else f"{number:,.0f}"


def describe_estimate(estimate: Estimate, confidence_level: float) -> str:
    """``0.78 (95 % interval 0.61 to 0.97)``."""
    if not estimate.has_interval:
        return fmt(estimate.value)
    level = round(confidence_level * 100)
    return f"{fmt(estimate.value)} ({level} % interval {fmt(estimate.low)} to {fmt(estimate.high)})"


def judge(estimate: Estimate, bound: Bound) -> RuleStatus:
    """Pass if the whole interval meets the bound, fail if it misses it entirely, else inconclusive."""
    if estimate.value is None:
        return "inconclusive"
    if not estimate.has_interval:
        return "pass" if bound.holds(estimate.value) else "fail"
    low, high = float(estimate.low), float(estimate.high)  # type: ignore[arg-type]
    if bound.holds(low) and bound.holds(high):
        return "pass"
    # The interval misses a convex bound entirely when it lies wholly beyond one of its ends.
    below = bound.low is not None and (high < bound.low or (high == bound.low and not bound.low_inclusive))
    above = bound.high is not None and (low > bound.high or (low == bound.high and not bound.high_inclusive))
    return "fail" if below or above else "inconclusive"


def _reason(status: RuleStatus, estimate: Estimate, bound: Bound, level: float) -> str:
    text = describe_estimate(estimate, level)
    if estimate.value is None:
        return "undefined for this group (for example no actual positives), so it cannot be judged"
    if status == "pass":
        return f"{text} meets {bound.text}" + (" over the whole interval" if estimate.has_interval else "")
    if status == "fail":
        return f"{text} misses {bound.text}" + (" over the whole interval" if estimate.has_interval else "")
    return f"{text} straddles {bound.text}: the data cannot tell whether the bound is met"


def _applies(rule: MetricRule, attribute: AttributeResult) -> bool:
    if attribute.is_intersection and not rule.intersections:
        return False
    if rule.attributes is None:
        return True
    if attribute.attribute in rule.attributes:
        return True
    return attribute.is_intersection and all(column in rule.attributes for column in attribute.columns)


def _label(attribute: AttributeResult) -> str:
    if attribute.positive_class is not None:
        return f"{attribute.attribute} (class {attribute.positive_class})"
    return attribute.attribute


def _metric_findings(rule: MetricRule, fairness: FairnessResult, min_size: int) -> list[Finding]:
    bound = rule.parsed_bound
    level = fairness.confidence_level
    findings: list[Finding] = []

    def add(attribute: str, group: str, reference: str | None, estimate: Estimate, n: int) -> None:
        if n < min_size:
            status: RuleStatus = "inconclusive"
            reason = f"only {n} rows (the policy needs at least {min_size} to decide): {describe_estimate(estimate, level)}"
        else:
            status = judge(estimate, bound)
            reason = _reason(status, estimate, bound, level)
        findings.append(
            Finding(attribute=attribute, group=group, reference=reference, estimate=estimate, status=status, n=n, reason=reason)
        )

    if rule.comparison == "overall":
        estimate = fairness.overall.get(rule.metric)
        if estimate is not None:
            add("(everyone)", "(everyone)", None, estimate, fairness.n_rows)
        return findings

    for attribute in fairness.attributes:
        if not _applies(rule, attribute):
            continue
        label = _label(attribute)
        sizes = {group.group: group.n for group in attribute.groups}
        known = [group for group in attribute.groups if not group.is_unknown]
        if rule.comparison == "impact_ratio":
            if attribute.ll144 is None:
                continue
            top = attribute.ll144.most_selected
            for row in attribute.ll144.rows:
                if row.category == top:
                    continue
                estimate = Estimate(value=row.impact_ratio, low=row.impact_ratio_low, high=row.impact_ratio_high)
                add(label, row.category, top, estimate, min(row.n, sizes.get(top or "", row.n)))
        elif rule.comparison in {"ratio_to_reference", "difference_to_reference", "ratio_to_overall", "difference_to_overall"}:
            comparisons = attribute.to_reference if rule.comparison.endswith("reference") else attribute.to_overall
            for comparison in comparisons:
                if comparison.metric != rule.metric:
                    continue
                estimate = comparison.ratio if rule.comparison.startswith("ratio") else comparison.difference
                reference_n = sizes.get(comparison.reference, sizes.get(comparison.group, 0))
                n = sizes.get(comparison.group, 0)
                add(label, comparison.group, comparison.reference, estimate, min(n, reference_n) if comparison.reference in sizes else n)
        elif rule.comparison in {"ratio_between_groups", "difference_between_groups"}:
            for spread in attribute.between_groups:
                if spread.metric != rule.metric:
                    continue
                estimate = spread.ratio if rule.comparison.startswith("ratio") else spread.difference
                pair = f"{spread.min_group} vs {spread.max_group}" if spread.min_group else "all groups"
                n = min((group.n for group in known), default=0)
                add(label, pair, None, estimate, n)
        elif rule.comparison == "value":
            for group in known:
                group_estimate = group.metrics.get(rule.metric)
                if group_estimate is not None:
                    add(label, group.group, None, group_estimate, group.n)
        elif rule.comparison == "summary":
            summary = attribute.summaries.get(rule.metric)
            if summary is not None:
                add(label, "all groups", None, summary, min((group.n for group in known), default=0))
    return findings


def _rule_status(findings: Iterable[Finding]) -> RuleStatus:
    statuses = {finding.status for finding in findings}
    if not statuses:
        return "not_applicable"
    for status in ("fail", "inconclusive"):
        if status in statuses:
            return status
    return "pass"


def _ll144_rate_kind(fairness: FairnessResult) -> str:
    """``scoring`` when the LL144 tables (which impact-ratio rules judge) were built from scoring rates."""
    return next((a.ll144.rate_kind for a in fairness.attributes if a.ll144 is not None), "selection")


def _metric_summary(
    rule: MetricRule, status: RuleStatus, findings: list[Finding], level: float, *, rate_kind: str = "selection"
) -> str:
    words = METRIC_WORDS.get(rule.metric, rule.metric.replace("_", " "))
    if rule.comparison == "impact_ratio":  # judged on the LL144 table, which may hold scoring rates
        words = rate_words(rate_kind).metric
    what = f"{rule.comparison.replace('_', ' ')} of {words}"
    if status == "not_applicable":
        return f"Not checked: the audit has no {words} (it may need labels, scores, or a sensitive attribute the rule names)."
    if rule.comparison == "overall":
        verb = {"pass": "Met", "fail": "Failed", "inconclusive": "Inconclusive"}[status]
        return f"{verb}: the {words} for everyone is {describe_estimate(findings[0].estimate, level)}; the bound is {rule.bound}."
    if status == "pass":
        return f"Met: the {what} meets {rule.bound} for every group checked."
    flagged = [finding for finding in findings if finding.status == status]
    groups = ", ".join(f"{finding.group} ({finding.attribute})" for finding in flagged[:4])
    more = f" and {len(flagged) - 4} more" if len(flagged) > 4 else ""
    if status == "fail":
        return f"Failed: the {what} misses {rule.bound} for {groups}{more}, even allowing for uncertainty."
    return f"Inconclusive: for {groups}{more}, the {what} might or might not meet {rule.bound}; more data would settle it."


def _unchecked_blocking_rule(rule: MetricRule, fairness: FairnessResult) -> RuleOutcome:
    words = METRIC_WORDS.get(rule.metric, rule.metric.replace("_", " "))
    needs_labels = rule.metric not in {"selection_rate", "mean_prediction"} and not fairness.has_labels
    why = "it needs the true outcomes (--target)" if needs_labels else f"a {fairness.task} audit has no {words}"
    return RuleOutcome(
        rule_id=rule.id, description=rule.description, metric=rule.metric, comparison=rule.comparison,
        bound=rule.bound, severity=rule.severity, status="inconclusive",
        summary=f"Inconclusive: this blocking rule could not be checked, because {why}.",
        advice="Audit with the data the rule needs, or use a policy without this rule for this kind of audit.",
        not_checked_because=why,
    )


def _unexplained_outcome(rule: ExplainRule, error: str | None, skipped: str | None) -> RuleOutcome:
    """An explanation rule without an explanation: a blocking one is inconclusive, a warning is 'not checked'."""
    why = f"the explanation failed ({error})" if error else (skipped or "no model was explained")
    blocking = rule.severity == "block"
    if blocking:
        advice = ("Audit the model itself with its explanation (a model file, without --no-explain; raise "
                  "--explain-budget if it ran out of time), or record a risk acceptance with its reason at approval.")
    else:
        advice = rule.advice or ""
    return RuleOutcome(
        rule_id=rule.id, description=rule.description, metric=rule.check, comparison="top_k", bound=f"k = {rule.k}",
        severity=rule.severity, status="inconclusive" if blocking else "not_applicable",
        summary=(f"Inconclusive: this blocking rule could not be checked, because {why}." if blocking
                 else f"Not checked: {why}."),
        advice=advice, not_checked_because=why,
    )


def _explain_outcome(
    rule: ExplainRule, explanation: ExplanationResult | None, error: str | None, skipped: str | None = None
) -> RuleOutcome:
    if explanation is None:
        return _unexplained_outcome(rule, error, skipped)
    from governance.audit.explain import proxies_in_top_k, sensitive_in_top_k

    findings: list[Finding] = []
    if rule.check == "sensitive_in_top_k":
        hits = sensitive_in_top_k(explanation, rule.k)
        for name in hits:
            findings.append(Finding(attribute=name, group=name, reference=None, estimate=Estimate(value=None),
                                    status="fail", n=0, reason=f"the sensitive attribute '{name}' is among the top {rule.k} features"))
        summary = (f"Failed: the sensitive attribute(s) {', '.join(hits)} are among the model's top {rule.k} features."
                   if hits else f"Met: no sensitive attribute is among the model's top {rule.k} features.")
        advice = rule.advice or "Remove the sensitive attribute from the model's inputs, retrain, and audit again."
    else:
        threshold = float(rule.threshold or 0)
        proxies = proxies_in_top_k(explanation, rule.k, threshold)
        for hit in proxies:
            findings.append(Finding(attribute=hit.attribute, group=hit.feature, reference=None, estimate=Estimate(value=hit.strength),
                                    status="fail", n=0,
                                    reason=f"'{hit.feature}' predicts {hit.attribute} with strength {fmt(hit.strength)} (above {fmt(threshold)}) and is among the top {rule.k} features"))
        names = ", ".join(f"{hit.feature} (for {hit.attribute})" for hit in proxies)
        summary = (f"Failed: likely proxies among the top {rule.k} features: {names}." if proxies
                   else f"Met: no feature among the top {rule.k} is a strong proxy (above {fmt(threshold)}) for a sensitive attribute.")
        advice = rule.advice or (
            "Check whether the flagged feature is needed for the decision; if it mainly stands in for a protected "
            "attribute, drop or transform it, retrain, and audit again."
        )
    status: RuleStatus = "fail" if findings else "pass"
    return RuleOutcome(
        rule_id=rule.id, description=rule.description, metric=rule.check, comparison="top_k",
        bound=f"k = {rule.k}" + (f", proxy strength <= {fmt(rule.threshold)}" if rule.threshold is not None else ""),
        severity=rule.severity, status=status, summary=summary, advice=advice, findings=findings,
    )


def evaluate_policy(
    policy: Policy,
    fairness: FairnessResult,
    *,
    policy_path: str,
    policy_sha256: str,
    explanation: ExplanationResult | None = None,
    explanation_error: str | None = None,
    explanation_skipped: str | None = None,
    strict: bool = False,
) -> PolicyVerdict:
    """Judge every rule and reach the audit's verdict and exit code.

    ``explanation_skipped`` says in words why there is no explanation (for example "it was skipped with
    --no-explain"), so that a blocking explanation rule left unchecked names its reason.
    """
    outcomes: list[RuleOutcome] = []
    for rule in policy.rules:
        if isinstance(rule, ExplainRule):
            outcomes.append(_explain_outcome(rule, explanation, explanation_error, explanation_skipped))
            continue
        min_size = rule.min_group_size or policy.min_group_size
        findings = _metric_findings(rule, fairness, min_size)
        status = _rule_status(findings)
        if status == "not_applicable" and rule.severity == "block":
            # A blocking requirement that this audit cannot check is not met by default.
            outcomes.append(_unchecked_blocking_rule(rule, fairness))
            continue
        advice = rule.advice or DEFAULT_ADVICE.get(rule.comparison) or (
            "Look at the flagged groups in the tables below; find the cause (data, features, threshold) and fix it, "
            "or record a risk acceptance with its reason at approval."
        )
        if status == "inconclusive":
            advice = (
                "Audit on more data (the intervals are too wide to decide), or, if the groups are small by nature, "
                "decide with the risk officer and record the reason. " + advice
            )
        outcomes.append(
            RuleOutcome(
                rule_id=rule.id, description=rule.description, metric=rule.metric, comparison=rule.comparison,
                bound=rule.bound, severity=rule.severity, status=status,
                summary=_metric_summary(rule, status, findings, fairness.confidence_level,
                                        rate_kind=_ll144_rate_kind(fairness)), advice=advice, findings=findings,
            )
        )
    verdict, summary = _verdict(policy, outcomes, strict=strict)
    warnings = [outcome.rule_id for outcome in outcomes if outcome.severity == "warn" and outcome.status in {"fail", "inconclusive"}]
    if warnings:
        summary += f" Warnings to review: {', '.join(warnings)}."
    return PolicyVerdict(
        policy_name=policy.name, policy_path=policy_path, policy_sha256=policy_sha256, verdict=verdict, strict=strict,
        exit_code=EXIT_CODES[verdict], summary=summary, rules=outcomes, max_audit_age_days=policy.max_audit_age_days,
    )


def _verdict(policy: Policy, outcomes: list[RuleOutcome], *, strict: bool) -> tuple[Verdict, str]:
    """The verdict word and its sentence: reported without a pass mark, else failed > inconclusive > passed."""
    blocking = [outcome for outcome in outcomes if outcome.severity == "block"]
    name = policy.name
    if policy.reporting_only:
        return "reported", (
            f"Reported: the '{name}' policy sets no pass mark (as NYC Local Law 144 sets none), so the audit reports "
            "its numbers without passing or failing the model; read the impact-ratio tables below."
        )
    if not blocking:
        return "reported", (
            f"Reported: the '{name}' policy has no blocking rule, so it sets no pass mark and the audit cannot pass "
            "or fail the model; read the tables below, or add a rule with severity: block."
        )
    failed = [outcome.rule_id for outcome in blocking if outcome.status == "fail"]
    if failed:
        return "failed", f"Failed: {len(failed)} blocking rule(s) of the '{name}' policy failed ({', '.join(failed)})."
    undecided = [o.rule_id for o in blocking if o.status == "inconclusive" and o.not_checked_because is None]
    unchecked = [o for o in blocking if o.status == "inconclusive" and o.not_checked_because is not None]
    if not undecided and not unchecked:
        return "passed", f"Passed: every blocking rule of the '{name}' policy is met."
    reasons = "; ".join(f"{o.rule_id}, because {o.not_checked_because}" for o in unchecked)
    parts = []
    if undecided:
        parts.append(f"the data cannot decide {len(undecided)} blocking rule(s) of the '{name}' policy ({', '.join(undecided)})")
    if unchecked and undecided:
        parts.append(f"{len(unchecked)} blocking rule(s) could not be checked ({reasons})")
    elif unchecked:
        parts.append(f"{len(unchecked)} blocking rule(s) of the '{name}' policy could not be checked ({reasons})")
    head = "Failed (strict mode)" if strict else "Inconclusive"
    return ("failed" if strict else "inconclusive"), f"{head}: {', and '.join(parts)}."
