"""Judging results against a policy, with uncertainty deciding the verdict.

A rule passes for a group only if the group's whole confidence interval meets the bound, fails only if the
whole interval misses it, and is inconclusive otherwise, or when the group (or its reference) has fewer rows
than the rule's minimum. A rule fails if any group fails; the audit fails if any blocking rule fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from governance.intervals import Kind, min_over_max
from governance.results.audit import Finding, PolicyVerdict, RuleOutcome, RuleStatus, Verdict
from governance.results.common import Estimate
from governance.results.fairness import AttributeResult, FairnessResult
from governance.results.wording import level_words, rate_words
from governance.rules._families import (
    GroupData,
    best_comparison,
    denominator_words,
    fixed_comparison,
    group_data,
    own_value,
    scaled,
    spread_over,
)
from governance.rules.schema import Bound, CalibrationRule, ExplainRule, MetricRule, Policy, outcome_words

if TYPE_CHECKING:
    from governance.results.explain import ExplanationResult
    from governance.results.tradeoff import CalibrationResult

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
    return f"{fmt(estimate.value)} ({level_words(confidence_level)} interval {fmt(estimate.low)} to {fmt(estimate.high)})"


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


def _judged(estimate: Estimate, bound: Bound, level: float) -> tuple[RuleStatus, str]:
    status = judge(estimate, bound)
    return status, _reason(status, estimate, bound, level)


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


@dataclass
class _Candidate:
    """A finding before its status: the plain estimate, sizes, and how to widen it for the rule's family."""

    attribute: str
    group: str
    reference: str | None
    estimate: Estimate
    n: int
    reference_n: int | None
    counted: str  # what n counts: rows, actual negatives ...
    widen: Callable[[int], Estimate | None]  # the interval adjusted for a family of that many findings
    too_small: str | None = None  # why it cannot be judged
    p_value_holm: float | None = None


def _metric_findings(rule: MetricRule, fairness: FairnessResult, min_size: int) -> list[Finding]:
    """Every finding of a metric rule: pass on its plain interval, fail only on the family-adjusted one."""
    level = fairness.confidence_level
    candidates = _candidates(rule, fairness, min_size)
    family = sum(1 for c in candidates if c.too_small is None)
    bound = rule.parsed_bound
    findings = []
    for c in candidates:
        if c.too_small is not None:
            status: RuleStatus = "inconclusive"
            reason = f"{c.too_small}: {describe_estimate(c.estimate, level)}"
        else:
            status, reason = _decide(c, bound, level, family)
        findings.append(
            Finding(
                attribute=c.attribute,
                group=c.group,
                reference=c.reference,
                estimate=c.estimate,
                status=status,
                n=c.n,
                reference_n=c.reference_n,
                counted=c.counted,
                reason=reason,
            )
        )
    return findings


def _decide(c: _Candidate, bound: Bound, level: float, family: int) -> tuple[RuleStatus, str]:
    if c.estimate.value is not None and not c.estimate.has_interval:
        return "inconclusive", (
            f"{fmt(c.estimate.value)} has no interval (the policy's n_boot is 0, or the group is too small to "
            f"resample), so the data cannot show whether it meets {bound.text}"
        )
    plain = judge(c.estimate, bound)
    if plain != "fail" or family <= 1:
        return plain, _reason(plain, c.estimate, bound, level) + _test_note(plain, c)
    adjusted = c.widen(family) or c.estimate
    if judge(adjusted, bound) == "fail":
        return "fail", (
            _reason("fail", c.estimate, bound, level)
            + f"; it misses it even allowing for the {family} comparisons this rule makes at once "
            f"({fmt(adjusted.low)} to {fmt(adjusted.high)})" + _test_note("fail", c)
        )
    return "inconclusive", (
        f"{describe_estimate(c.estimate, level)} lies beyond {bound.text}, but this rule makes {family} comparisons "
        f"at once and, allowing for that, the interval is {fmt(adjusted.low)} to {fmt(adjusted.high)}: one of "
        "that many can fall this far by chance, so more data is needed to be sure"
    )


def _test_note(status: RuleStatus, c: _Candidate) -> str:
    """Say so when the significance test seems to disagree with the verdict (they ask different questions)."""
    if status == "fail" and c.p_value_holm is not None and c.p_value_holm >= 0.05:
        return (
            f" (the test of no difference gives an adjusted p-value of {fmt(c.p_value_holm)}: it uses a different, "
            "exact test and asks whether the groups differ at all, so the two can disagree near the limit)"
        )
    return ""


def _candidates(rule: MetricRule, fairness: FairnessResult, min_size: int) -> list[_Candidate]:
    level = fairness.confidence_level
    if rule.comparison == "overall":
        estimate = fairness.overall.get(rule.metric)
        if estimate is None:
            return []
        return [
            _Candidate(
                "(everyone)", "(everyone)", None, estimate, fairness.n_rows, None, "rows", lambda m: None
            )
        ]
    found: list[_Candidate] = []
    for attribute in fairness.attributes:
        if not _applies(rule, attribute):
            continue
        build = _BUILDERS.get(rule.comparison)
        if build is not None:
            found.extend(build(rule, attribute, level, min_size))
    return found


def _small(n: int, counted: str, min_size: int, whose: str = "this group") -> str | None:
    if n >= min_size:
        return None
    return f"only {n} {counted} in {whose} (the policy needs at least {min_size} to decide)"


def _impact_ratio(
    rule: MetricRule, attribute: AttributeResult, level: float, min_size: int
) -> list[_Candidate]:
    table = attribute.ll144
    if table is None:
        return []
    label, top = _label(attribute), table.most_selected
    data = group_data(attribute, "selection_rate", level)
    by_name = {row.category: row for row in table.rows}
    pool = np.array([i for i in (data.index(name) for name in table.reference_candidates) if i is not None])
    use_counts = table.rate_kind == "selection" and data.pairs is not None
    out = []
    for row in table.rows:
        if row.category == top:
            continue
        estimate = Estimate(value=row.impact_ratio, low=row.impact_ratio_low, high=row.impact_ratio_high)
        reference_n = by_name[top].n if top in by_name else None
        too_small = _small(row.n, "rows", min_size)
        if too_small is None and reference_n is not None:
            too_small = _small(reference_n, "rows", min_size, f"the most-selected category {top}")
        if top is None:
            too_small = (
                f"no category has at least {min_size} rows and 2 % of the rows to serve as the reference"
            )
        index = data.index(row.category)

        def widen(m: int, index: int | None = index, estimate: Estimate = estimate) -> Estimate | None:
            if use_counts and index is not None and pool.shape[0]:
                return best_comparison(data, index, pool, "ratio", level, m)
            return scaled(estimate, level, m, ratio=True)

        out.append(
            _Candidate(
                label,
                row.category,
                top,
                estimate,
                row.n,
                reference_n,
                "rows",
                widen,
                too_small,
                row.p_value_holm,
            )
        )
    return out


def _to_reference(
    rule: MetricRule, attribute: AttributeResult, level: float, min_size: int
) -> list[_Candidate]:
    kind: Kind = "ratio" if rule.comparison.startswith("ratio") else "difference"
    to_overall = rule.comparison.endswith("overall")
    data = group_data(attribute, rule.metric, level)
    counted = denominator_words(rule.metric)
    sizes = {group.group: int(data.sizes[i]) for i, group in enumerate(data.groups)}
    pool = data.judged(min_size)
    out = []
    for comparison in attribute.to_overall if to_overall else attribute.to_reference:
        if comparison.metric != rule.metric:
            continue
        estimate = comparison.ratio if kind == "ratio" else comparison.difference
        n = sizes.get(comparison.group, 0)
        reference_n = None if to_overall else sizes.get(comparison.reference)
        too_small = _small(n, counted, min_size)
        if too_small is None and reference_n is not None:
            too_small = _small(reference_n, counted, min_size, f"the reference group {comparison.reference}")
        index, ref = data.index(comparison.group), data.index(comparison.reference)

        def widen(
            m: int, index: int | None = index, ref: int | None = ref, estimate: Estimate = estimate
        ) -> Estimate | None:
            if to_overall or index is None or ref is None or data.pairs is None or data.pairs.k is None:
                return scaled(estimate, level, m, ratio=kind == "ratio")
            if attribute.reference_method == "highest":
                return best_comparison(data, index, pool, kind, level, m)
            return fixed_comparison(data, index, ref, kind, level, m)

        out.append(
            _Candidate(
                _label(attribute),
                comparison.group,
                comparison.reference,
                estimate,
                n,
                reference_n,
                counted,
                widen,
                too_small,
                comparison.p_value_holm,
            )
        )
    return out


def _between(rule: MetricRule, attribute: AttributeResult, level: float, min_size: int) -> list[_Candidate]:
    """The spread over the groups big enough to judge; each smaller group is its own inconclusive finding."""
    kind: Kind = "ratio" if rule.comparison.startswith("ratio") else "difference"
    return _spread_candidates(attribute, [rule.metric], kind, level, min_size)


def _summary(rule: MetricRule, attribute: AttributeResult, level: float, min_size: int) -> list[_Candidate]:
    parts = {
        "demographic_parity": ["selection_rate"],
        "equalized_odds": ["tpr", "fpr"],
        "equal_opportunity": ["tpr"],
    }
    base, _, tail = rule.metric.rpartition("_")
    metrics = parts.get(base)
    if metrics is None or attribute.summaries.get(rule.metric) is None:
        return []
    kind: Kind = "ratio" if tail == "ratio" else "difference"
    return _spread_candidates(attribute, metrics, kind, level, min_size)


def _spread_candidates(
    attribute: AttributeResult, metrics: list[str], kind: Kind, level: float, min_size: int
) -> list[_Candidate]:
    """The spread over the groups big enough to judge (the worst of ``metrics``), then each smaller group."""
    datas = [group_data(attribute, metric, level) for metric in metrics]
    label = _label(attribute)
    out: list[_Candidate] = []
    judged_sets = [data.judged(min_size) for data in datas]
    for data, metric in zip(datas, metrics, strict=True):
        counted = denominator_words(metric)
        for i, group in enumerate(data.groups):
            if data.sizes[i] < min_size and np.isfinite(data.values[i]):
                words = f"{metric.replace('_', ' ')}: " if len(metrics) > 1 else ""
                out.append(
                    _Candidate(
                        label,
                        group.group,
                        None,
                        group.metrics.get(metric) or Estimate(value=None),
                        int(data.sizes[i]),
                        None,
                        counted,
                        lambda m: None,
                        f"{words}only {int(data.sizes[i])} {counted} (the policy needs at least {min_size}), "
                        "so this group is left out of the comparison and cannot be judged",
                    )
                )
    pick = max if kind == "difference" else min  # the worse of the parts: the larger gap, the smaller ratio

    def at(m: int) -> Estimate | None:
        parts = [
            spread_over(data, judged, kind, level, m) for data, judged in zip(datas, judged_sets, strict=True)
        ]
        defined = [p for p in parts if p is not None and p.value is not None]
        if not defined:
            return None

        def end(values: list[float | None]) -> float | None:
            known = [v for v in values if v is not None]
            return pick(known) if len(known) == len(values) else None

        return Estimate(
            value=pick(float(p.value) for p in defined),  # type: ignore[arg-type]
            low=end([p.low for p in defined]),
            high=end([p.high for p in defined]),
        )

    plain = at(1)
    if plain is None and not any(judged.shape[0] >= 2 for judged in judged_sets):
        return out
    worst = _worst_part(datas, judged_sets, pick)
    data, judged = datas[worst], judged_sets[worst]
    values = data.values[judged]
    pair = f"{data.groups[judged[np.argmin(values)]].group} vs {data.groups[judged[np.argmax(values)]].group}"
    smallest = int(data.sizes[judged].min())
    if (
        plain is None
    ):  # nothing to compute an interval from (no resamples): the value alone, judged inconclusive
        top, bottom = float(values.max()), float(values.min())
        plain = Estimate(value=top - bottom if kind == "difference" else min_over_max(top, bottom))
    out.insert(0, _Candidate(label, pair, None, plain, smallest, None, denominator_words(metrics[worst]), at))
    return out


def _worst_part(datas: list[GroupData], judged_sets: list[np.ndarray], pick: Callable[..., float]) -> int:
    """Which metric's spread decides (equalized odds: the larger of the TPR and FPR gaps)."""
    spreads = {}
    for index, (data, judged) in enumerate(zip(datas, judged_sets, strict=True)):
        values = data.values[judged]
        if values.shape[0] >= 2:
            top, bottom = float(values.max()), float(values.min())
            ratio = min_over_max(top, bottom)
            spreads[index] = top - bottom if pick is max else (ratio if np.isfinite(ratio) else float("inf"))
    ranked = sorted(spreads, key=spreads.__getitem__)
    return ranked[-1] if pick is max else ranked[0]


def _value(rule: MetricRule, attribute: AttributeResult, level: float, min_size: int) -> list[_Candidate]:
    data = group_data(attribute, rule.metric, level)
    counted = denominator_words(rule.metric)
    out = []
    for i, group in enumerate(data.groups):
        estimate = group.metrics.get(rule.metric)
        if estimate is None:
            continue

        def widen(m: int, i: int = i, estimate: Estimate = estimate) -> Estimate | None:
            if data.pairs is not None and data.pairs.k is not None:
                return own_value(data, i, level, m)
            return scaled(estimate, level, m, ratio=False)

        out.append(
            _Candidate(
                _label(attribute),
                group.group,
                None,
                estimate,
                int(data.sizes[i]),
                None,
                counted,
                widen,
                _small(int(data.sizes[i]), counted, min_size),
            )
        )
    return out


_BUILDERS: dict[str, Callable[[MetricRule, AttributeResult, float, int], list[_Candidate]]] = {
    "impact_ratio": _impact_ratio,
    "ratio_to_reference": _to_reference,
    "difference_to_reference": _to_reference,
    "ratio_to_overall": _to_reference,
    "difference_to_overall": _to_reference,
    "ratio_between_groups": _between,
    "difference_between_groups": _between,
    "value": _value,
    "summary": _summary,
}


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
    rule: MetricRule,
    status: RuleStatus,
    findings: list[Finding],
    level: float,
    *,
    rate_kind: str = "selection",
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


def _metric_outcome(
    rule: MetricRule,
    *,
    status: RuleStatus,
    summary: str,
    advice: str,
    findings: list[Finding] | None = None,
    not_checked_because: str | None = None,
) -> RuleOutcome:
    """A metric rule's outcome: the rule's own words (id, metric, bound, severity) and what this audit found."""
    return RuleOutcome(
        **outcome_words(rule),
        status=status,
        summary=summary,
        advice=advice,
        findings=findings or [],
        not_checked_because=not_checked_because,
    )


def _unchecked_blocking_rule(rule: MetricRule, fairness: FairnessResult) -> RuleOutcome:
    why = _why_unchecked(rule, fairness)
    return _metric_outcome(
        rule,
        status="inconclusive",
        summary=f"Inconclusive: this blocking rule could not be checked, because {why}.",
        advice="Audit with the data the rule needs, or use a policy without this rule for this kind of audit.",
        not_checked_because=why,
    )


def _why_unchecked(rule: MetricRule, fairness: FairnessResult) -> str:
    """Why a metric rule found nothing to judge, in words that are true for this audit."""
    words = METRIC_WORDS.get(rule.metric, rule.metric.replace("_", " "))
    columns = {column for attribute in fairness.attributes for column in attribute.columns}
    if rule.attributes is not None and not columns & set(rule.attributes):
        return f"the audit has none of the sensitive attributes it names ({', '.join(rule.attributes)})"
    if rule.metric not in {"selection_rate", "mean_prediction"} and not fairness.has_labels:
        return "it needs the true outcomes (target=COLUMN)"
    present = rule.metric in fairness.overall or any(
        rule.metric in group.metrics or rule.metric in attribute.summaries
        for attribute in fairness.attributes
        for group in attribute.groups
    )
    if present and rule.comparison not in {"value", "overall"}:
        return f"no sensitive attribute has two groups with a {words} to compare (only one known group each)"
    return f"a {fairness.task} audit has no {words}"


def _unexplained_outcome(rule: ExplainRule, error: str | None, skipped: str | None) -> RuleOutcome:
    """An explanation rule without an explanation: a blocking one is inconclusive, a warning is 'not checked'."""
    why = f"the explanation failed ({error})" if error else (skipped or "no model was explained")
    blocking = rule.severity == "block"
    if blocking:
        advice = (
            "Audit the model itself with its explanation (a model file, without explain=False; raise "
            "explain_budget if it ran out of time), or record a risk acceptance with its reason at approval."
        )
    else:
        advice = rule.advice or ""
    return RuleOutcome(
        **outcome_words(rule),
        status="inconclusive" if blocking else "not_applicable",
        summary=(
            f"Inconclusive: this blocking rule could not be checked, because {why}."
            if blocking
            else f"Not checked: {why}."
        ),
        advice=advice,
        not_checked_because=why,
    )


def _explain_outcome(
    rule: ExplainRule, explanation: ExplanationResult | None, error: str | None, skipped: str | None = None
) -> RuleOutcome:
    if explanation is None:
        return _unexplained_outcome(rule, error, skipped)

    findings: list[Finding] = []
    if rule.check == "sensitive_in_top_k":
        hits = explanation.sensitive_in_top(rule.k)
        for name in hits:
            findings.append(
                Finding(
                    attribute=name,
                    group=name,
                    reference=None,
                    estimate=Estimate(value=None),
                    status="fail",
                    n=0,
                    reason=f"the sensitive attribute '{name}' is among the top {rule.k} features",
                )
            )
        summary = (
            f"Failed: the sensitive attribute(s) {', '.join(hits)} are among the model's top {rule.k} features."
            if hits
            else f"Met: no sensitive attribute is among the model's top {rule.k} features."
        )
        advice = (
            rule.advice or "Remove the sensitive attribute from the model's inputs, retrain, and audit again."
        )
    else:
        threshold = float(rule.threshold or 0)
        proxies = explanation.proxies_in_top(rule.k, threshold)
        for hit in proxies:
            findings.append(
                Finding(
                    attribute=hit.attribute,
                    group=hit.feature,
                    reference=None,
                    estimate=Estimate(value=hit.strength),
                    status="fail",
                    n=0,
                    reason=f"'{hit.feature}' predicts {hit.attribute} with strength {fmt(hit.strength)} (above {fmt(threshold)}) and is among the top {rule.k} features",
                )
            )
        names = ", ".join(f"{hit.feature} (for {hit.attribute})" for hit in proxies)
        summary = (
            f"Failed: likely proxies among the top {rule.k} features: {names}."
            if proxies
            else f"Met: no feature among the top {rule.k} is a strong proxy (above {fmt(threshold)}) for a sensitive attribute."
        )
        advice = rule.advice or (
            "Check whether the flagged feature is needed for the decision; if it mainly stands in for a protected "
            "attribute, drop or transform it, retrain, and audit again."
        )
    status: RuleStatus = "fail" if findings else "pass"
    proxy = f", proxy strength <= {fmt(rule.threshold)}" if rule.threshold is not None else ""
    return RuleOutcome(
        **outcome_words(rule, bound=f"k = {rule.k}{proxy}"),
        status=status,
        summary=summary,
        advice=advice,
        findings=findings,
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
    calibration: CalibrationResult | None = None,
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
        if isinstance(rule, CalibrationRule):
            from governance.rules.calibration import calibration_outcome

            outcomes.append(calibration_outcome(rule, calibration, judge=_judged, combine=_rule_status))
            continue
        min_size = rule.min_group_size or policy.min_group_size
        findings = _metric_findings(rule, fairness, min_size)
        status = _rule_status(findings)
        if status == "not_applicable" and rule.severity == "block":
            # A blocking requirement that this audit cannot check is not met by default.
            outcomes.append(_unchecked_blocking_rule(rule, fairness))
            continue
        advice = (
            rule.advice
            or DEFAULT_ADVICE.get(rule.comparison)
            or (
                "Look at the flagged groups in the tables below; find the cause (data, features, threshold) and fix it, "
                "or record a risk acceptance with its reason at approval."
            )
        )
        if status == "inconclusive":
            advice = (
                "Audit on more data (the intervals are too wide to decide), or, if the groups are small by nature, "
                "decide with the risk officer and record the reason. " + advice
            )
        outcomes.append(
            _metric_outcome(
                rule,
                status=status,
                summary=_metric_summary(
                    rule, status, findings, fairness.confidence_level, rate_kind=_ll144_rate_kind(fairness)
                ),
                advice=advice,
                findings=findings,
            )
        )
    verdict, summary = _verdict(policy, outcomes, strict=strict)
    warnings = [
        outcome.rule_id
        for outcome in outcomes
        if outcome.severity == "warn" and outcome.status in {"fail", "inconclusive"}
    ]
    if warnings:
        summary += f" Warnings to review: {', '.join(warnings)}."
    return PolicyVerdict(
        policy_name=policy.name,
        policy_path=policy_path,
        policy_sha256=policy_sha256,
        verdict=verdict,
        strict=strict,
        exit_code=EXIT_CODES[verdict],
        summary=summary,
        rules=outcomes,
        max_audit_age_days=policy.max_audit_age_days,
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
        return (
            "failed",
            f"Failed: {len(failed)} blocking rule(s) of the '{name}' policy failed ({', '.join(failed)}).",
        )
    undecided = [o.rule_id for o in blocking if o.status == "inconclusive" and o.not_checked_because is None]
    unchecked = [o for o in blocking if o.status == "inconclusive" and o.not_checked_because is not None]
    if not undecided and not unchecked:
        return "passed", f"Passed: every blocking rule of the '{name}' policy is met."
    reasons = "; ".join(f"{o.rule_id}, because {o.not_checked_because}" for o in unchecked)
    parts = []
    if undecided:
        parts.append(
            f"the data cannot decide {len(undecided)} blocking rule(s) of the '{name}' policy ({', '.join(undecided)})"
        )
    if unchecked and undecided:
        parts.append(f"{len(unchecked)} blocking rule(s) could not be checked ({reasons})")
    elif unchecked:
        parts.append(
            f"{len(unchecked)} blocking rule(s) of the '{name}' policy could not be checked ({reasons})"
        )
    head = "Failed (strict mode)" if strict else "Inconclusive"
    return ("failed" if strict else "inconclusive"), f"{head}: {', and '.join(parts)}."
