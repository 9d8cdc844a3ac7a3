"""The Markdown audit report: the verdict in plain words first, then what it means and what to do, then tables.

It reads only the :class:`AuditResult` (what ``audit.json`` holds) and never computes a metric. Output is
deterministic: sorted groups, fixed number formatting. ``published=True`` masks small cells (fewer than
``min_cell_size`` people) with complementary suppression, for the site.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

from governance.escaping import markdown_text
from governance.report.figures import (
    attribute_figure_stem,
    group_figure_alt,
    impact_figure_alt,
    impact_figure_stem,
)
from governance.report.suppression import (
    COMPLEMENT,
    SMALL,
    Cell,
    Reason,
    Table,
    published_explanation,
    suppress_tables,
)
from governance.results.audit import AuditResult, Finding, RuleOutcome
from governance.results.commands import command_of, options_worded
from governance.results.common import Estimate
from governance.results.fairness import AttributeResult
from governance.results.wording import level_words, rate_words, vouched_words
from governance.rules.evaluate import METRIC_WORDS, describe_estimate, fmt

VERDICT_WORDS = {
    "passed": ("Passed", "Every blocking rule of the policy is met, allowing for uncertainty."),
    "failed": ("Failed", "At least one blocking rule is clearly not met. Do not approve the model as it is."),
    "inconclusive": (
        "Inconclusive",
        "The audit cannot show whether every blocking rule is met: an interval is too wide, a group is too small, "
        "or a blocking rule could not be checked.",
    ),
    "reported": (
        "Reported",
        "The policy sets no pass mark, so this audit neither passes nor fails the model: it reports the numbers for a "
        "person to judge. Approval needs a recorded risk acceptance.",
    ),
}
STATUS_WORDS = {
    "pass": "met",
    "fail": "FAILED",
    "inconclusive": "inconclusive",
    "not_applicable": "not checked",
}
TABLE_METRICS = (
    "selection_rate",
    "base_rate",
    "tpr",
    "fpr",
    "precision",
    "accuracy",
    "auc",
    "mean_prediction",
    "mean_target",
    "mae",
    "rmse",
)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _interval(estimate: Estimate | None) -> str:
    if estimate is None or estimate.value is None:
        return "n/a"
    if not estimate.has_interval:
        return fmt(estimate.value)
    return f"{fmt(estimate.value)} [{fmt(estimate.low)}, {fmt(estimate.high)}]"


def _table(attribute: AttributeResult, *, outcomes: bool = False) -> Table:
    """An attribute's groups as a published table for the suppression module (unknown levels as ``None``).

    ``outcomes``: pass each group's number of selected people too (unweighted binary audits), so that masked
    groups of a margin never all share one outcome.
    """
    columns = tuple(attribute.columns)
    cells = []
    for group in attribute.groups:
        if group.is_unknown:
            key: tuple[str | None, ...] | None = (None,) if len(columns) == 1 else None
        else:
            key = tuple(group.levels.get(column) for column in columns)
        count = group.counts.get("selection_rate") if outcomes else None
        selected = round(count.k) if count is not None and count.rows == group.n else None
        cells.append(Cell(group.group, key, group.n, selected))
    return Table(attribute.attribute, columns, tuple(cells))


@lru_cache(maxsize=64)
def _masking(tables: tuple[Table, ...], k: int) -> dict[str, dict[str, Reason]]:
    out: dict[str, dict[str, Reason]] = {table.name: {} for table in tables}
    for (table, group), reason in suppress_tables(tables, k=k).items():
        out[table][group] = reason
    return out


def masking(result: AuditResult, min_cell_size: int) -> dict[str, dict[str, Reason]]:
    """Per attribute, the groups to mask on a published page and why ("small" or "complement").

    Every table of the audit is considered at once, since they are published together: a group's count in one
    table minus the visible groups under it in another would otherwise give a masked count back.
    """
    tables: dict[str, Table] = {}
    outcomes = result.fairness.task == "binary" and not result.fairness.weighted
    for attribute in result.fairness.attributes:  # multiclass repeats an attribute per class: same counts
        tables.setdefault(attribute.attribute, _table(attribute, outcomes=outcomes))
    masks = _masking(tuple(tables.values()), min_cell_size)
    return {name: dict(groups) for name, groups in masks.items()}


def masked_groups(attribute: AttributeResult, *, min_cell_size: int) -> set[str]:
    """Groups to mask when this attribute's table is published alone (with the overall total).

    Pages that publish several tables of one audit use :func:`hidden_groups`, which also protects the totals
    the tables give each other.
    """
    return set(_masking((_table(attribute),), min_cell_size).get(attribute.attribute, {}))


def hidden_groups(result: AuditResult, min_cell_size: int) -> dict[str, set[str]]:
    """Per attribute, the groups to mask on a published page (primary and complementary suppression)."""
    return {name: set(groups) for name, groups in masking(result, min_cell_size).items()}


def _rule_lines(outcome: RuleOutcome, hidden: Mapping[str, Collection[str]]) -> list[str]:
    lines = [
        f"- **{markdown_text(outcome.rule_id)}** ({'blocking' if outcome.severity == 'block' else 'warning'}): {markdown_text(options_worded(outcome.summary))}"
    ]
    left_out = 0
    for finding in outcome.findings:
        masked = hidden.get(finding.attribute, ())
        if outcome.comparison == "top_k":  # explanation rules: the reason says it all
            lines.append(f"    - {_capitalised(markdown_text(finding.reason))}.")
        elif finding.status not in {"fail", "inconclusive"}:
            continue
        elif (
            finding.group in masked
            or finding.reference in masked
            or any(part in masked for part in finding.group.split(" vs "))
        ):
            left_out += 1
        else:
            reference = f" vs {markdown_text(finding.reference)}" if finding.reference else ""
            sizes = f"{finding.n} {markdown_text(finding.counted)}"
            if finding.reference_n is not None:
                sizes += f"; reference {finding.reference_n} {markdown_text(finding.counted)}"
            lines.append(
                f"    - {markdown_text(finding.group)}{reference} ({markdown_text(finding.attribute)}, {sizes}): {markdown_text(finding.reason)}."
            )
    if left_out:
        lines.append(f"    - {left_out} more finding(s) about groups too small to publish are left out here.")
    lines.append(f"    - *What to do:* {markdown_text(options_worded(outcome.advice))}")
    return lines


def small_label(min_cell_size: int) -> str:
    """What a masked small group shows instead of its numbers."""
    return f"fewer than {min_cell_size}"


COMPLEMENT_LABEL = "hidden to protect a small group"
HIDDEN = "hidden"  # the other numbers of a masked row


def _mask_label(reason: str, min_cell_size: int) -> str:
    return small_label(min_cell_size) if reason == SMALL else COMPLEMENT_LABEL


def mask_legend(reasons: Collection[str], total: int, min_cell_size: int) -> str:
    """The sentence under a table with masked groups: what each label means, and how many groups are hidden."""
    parts = [f"{len(reasons)} of {total} groups hidden in this table."]
    if SMALL in reasons:
        parts.append(
            f"*{small_label(min_cell_size)}*: a group this small could identify people, so none of its numbers are published."
        )
    if COMPLEMENT in reasons:
        parts.append(
            f"*{COMPLEMENT_LABEL}*: a larger group, hidden because its numbers and the published totals would give a small group's count away."
        )
    return " ".join(parts)


def all_masked_sentence(total: int, min_cell_size: int) -> str:
    """Said instead of a table whose every group is masked: a table of hidden rows tells a reader nothing."""
    return (
        f"This table is not published: each of its {total} groups has fewer than {min_cell_size} people or would "
        "give a small group's count away."
    )


def _group_table(attribute: AttributeResult, hidden: Mapping[str, str], k: int) -> list[str]:
    if hidden and all(group.group in hidden for group in attribute.groups):
        return [all_masked_sentence(len(attribute.groups), k)]
    metrics = [m for m in TABLE_METRICS if any(m in group.metrics for group in attribute.groups)]
    header = [
        "Group",
        "Rows",
        "Share",
        *(_capitalised(METRIC_WORDS.get(m, m).split(" (")[0]) for m in metrics),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in attribute.groups:
        name = markdown_text(group.group) + (" (missing)" if group.is_unknown else "")
        if group.group in hidden:
            lines.append(
                "| "
                + " | ".join([name, _mask_label(hidden[group.group], k), *([HIDDEN] * (1 + len(metrics)))])
                + " |"
            )
            continue
        cells = [
            name,
            str(group.n),
            f"{group.share:.1%}",
            *(_interval(group.metrics.get(m)) for m in metrics),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if hidden:
        lines += ["", mask_legend(list(hidden.values()), len(attribute.groups), k)]
    return lines


def _ll144_table(attribute: AttributeResult, hidden: Mapping[str, str], k: int) -> list[str]:
    table = attribute.ll144
    if table is None:
        return []
    words = rate_words(table.rate_kind)
    rate, counted = _capitalised(words.rate), words.counted
    shown = [row for row in table.rows if row.category not in hidden]
    if table.rows and not shown:
        return [all_masked_sentence(len(table.rows), k)]
    # Every ratio divides by the most-selected category's rate: if that category is masked, so are the ratios.
    ratios_hidden = table.most_selected in hidden
    lines = [
        f"| Category | Rows | {counted} | {rate} | Impact ratio [interval] | Under 2 % |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.rows:
        if row.category in hidden:
            label = _mask_label(hidden[row.category], k)
            lines.append(
                f"| {markdown_text(row.category)} | {label} | {HIDDEN} | {HIDDEN} | {HIDDEN} | {'yes' if row.under_two_percent else 'no'} |"
            )
            continue
        if ratios_hidden:
            ratio = HIDDEN
        else:
            ratio = _interval(
                Estimate(value=row.impact_ratio, low=row.impact_ratio_low, high=row.impact_ratio_high)
            )
            if row.impact_ratio is not None and row.impact_ratio < 0.8:
                ratio += " ⚑"
        lines.append(
            f"| {markdown_text(row.category)} | {row.n} | {row.selected} | {fmt(row.rate)} | {ratio} | {'yes' if row.under_two_percent else 'no'} |"
        )
    masked_rows = [hidden[row.category] for row in table.rows if row.category in hidden]
    if masked_rows:
        lines += ["", mask_legend(masked_rows, len(table.rows), k)]
    if ratios_hidden:
        lines += [
            "",
            f"The impact ratios are hidden too: each divides by the rate of the {words.top}, which is masked, "
            "so they would give its rate away.",
        ]
    unknown_reason = next(
        (hidden[g.group] for g in attribute.groups if g.is_unknown and g.group in hidden), None
    )
    unknown = _mask_label(unknown_reason, k) if unknown_reason else str(table.unknown_count)
    lines.append("")
    median = (
        f" The median score used for scoring rates is {fmt(table.median_score)}."
        if table.median_score is not None
        else ""
    )
    most = (
        f"hidden ({COMPLEMENT_LABEL if hidden.get(table.most_selected or '') == COMPLEMENT else small_label(k)})"
        if ratios_hidden
        else markdown_text(table.most_selected or "n/a")
    )
    lines.append(
        f"{_capitalised(words.top)}: **{most}**. People with an unknown {markdown_text(attribute.attribute)}: "
        f"**{unknown}** (left out of the ratios, as NYC LL144 requires, and counted here).{median} "
        "⚑ marks an impact ratio below 0.8, the EEOC four-fifths *screening heuristic*, which is not a legal test."
    )
    return lines


def _comparison_table(attribute: AttributeResult, hidden: Collection[str]) -> list[str]:
    shown = [
        c
        for c in attribute.to_reference
        if c.metric in {"selection_rate", "tpr", "fpr", "mean_prediction", "mae"}
    ]
    if not shown:
        return []
    published = [c for c in shown if c.group not in hidden and c.reference not in hidden]
    if not published:
        if attribute.reference_group in hidden:
            return [
                f"No comparison can be published: the reference group, {markdown_text(attribute.reference_group or '')}, is masked."
            ]
        return ["No comparison can be published: every compared group is masked."]
    lines = [
        "| Group | Metric | vs | Difference [interval] | Ratio [interval] | p-value (Holm) |",
        "|---|---|---|---|---|---|",
    ]
    for comparison in published:
        p_value = "n/a" if comparison.p_value_holm is None else f"{comparison.p_value_holm:.3g}"
        lines.append(
            f"| {markdown_text(comparison.group)} | {METRIC_WORDS.get(comparison.metric, comparison.metric)} | {markdown_text(comparison.reference)} | "
            f"{_interval(comparison.difference)} | {_interval(comparison.ratio)} | {p_value} |"
        )
    lines += ["", P_VALUE_GLOSS]
    if len(published) < len(shown):
        lines += ["", f"{len(shown) - len(published)} comparison(s) with masked groups are left out."]
    return lines


METRIC_GLOSS = {
    "selection_rate": "the share of people the model selects",
    "base_rate": "the share of people who actually have the outcome",
    "tpr": "of the people who truly qualify, the share the model selects",
    "fpr": "of the people who do not qualify, the share the model selects anyway",
    "fnr": "of the people who truly qualify, the share the model misses",
    "tnr": "of the people who do not qualify, the share the model turns down",
    "precision": "of the people the model selects, the share who truly qualify",
    "npv": "of the people the model turns down, the share who truly do not qualify",
    "accuracy": "the share of all decisions that are right",
    "auc": "how well the scores put qualifying people above the others: 0.5 is chance, 1 is perfect",
    "brier": "the average squared gap between the predicted probability and what happened: 0 is perfect",
    "mean_prediction": "the average predicted value",
    "mean_target": "the average actual value",
    "mae": "the average size of a prediction's error",
    "rmse": "the typical size of a prediction's error, large errors counting more",
}
SUMMARY_GLOSS = {
    "demographic_parity_difference": "the widest gap in selection rate between two groups: 0 means every group is selected alike",
    "demographic_parity_ratio": "the lowest group's selection rate divided by the highest's: 1 means alike, below 0.8 fails the four-fifths screen",
    "equalized_odds_difference": "the wider of the gaps in true and false positive rate between two groups: 0 means alike",
    "equalized_odds_ratio": "the lower of the lowest-to-highest ratios of true and false positive rate: 1 means alike",
    "equal_opportunity_difference": "the widest gap in true positive rate (the share of deserving people the model finds) between two groups",
    "equal_opportunity_ratio": "the lowest group's true positive rate divided by the highest's: 1 means alike",
}
P_VALUE_GLOSS = (
    "p-value (Holm): how often a difference at least this large would turn up by chance if the group were truly treated "
    "like the reference, adjusted for the number of groups compared; below 0.05 it would be rare, so the difference is "
    "unlikely to be chance alone. A large p-value does not show that the groups are treated alike."
)


def _summaries_line(attribute: AttributeResult, hidden: Collection[str]) -> str:
    """The fairlearn summaries with what each means; left out where a masked group could be one of the extremes."""
    if any(group.group in hidden and not group.is_unknown for group in attribute.groups):
        return (
            "Summaries across groups (widest gaps and lowest ratios) are left out: they are computed over every group, "
            "masked ones included, and could give a masked group's rate away."
        )
    parts = [
        f"{key.replace('_', ' ')} {_interval(value)} ({SUMMARY_GLOSS[key]})"
        if key in SUMMARY_GLOSS
        else f"{key.replace('_', ' ')} {_interval(value)}"
        for key, value in sorted(attribute.summaries.items())
    ]
    return "Summaries: " + "; ".join(parts) + "."


def masking_sentence(
    masks: Mapping[str, Mapping[str, str]], result: AuditResult, min_cell_size: int, *, ll144: bool = False
) -> str:
    """How much the published tables hide, e.g. "3 of 40 groups are hidden ..."; ``ll144``: count only the
    categories of the impact-ratio tables."""
    counted: set[str] = set()
    total = small = complement = 0
    for attribute in result.fairness.attributes:
        if attribute.attribute in counted or (ll144 and attribute.ll144 is None):
            continue
        counted.add(attribute.attribute)
        names = (
            [row.category for row in attribute.ll144.rows]
            if ll144 and attribute.ll144
            else [g.group for g in attribute.groups]
        )
        reasons = masks.get(attribute.attribute, {})
        total += len(names)
        small += sum(reasons.get(name) == SMALL for name in names)
        complement += sum(reasons.get(name) == COMPLEMENT for name in names)
    if not small and not complement:
        return f"No group has fewer than {min_cell_size} people: every group's numbers are shown."
    if not complement:
        return f"{small} of {total} groups are hidden in the tables below, each with fewer than {min_cell_size} people."
    return (
        f"{small + complement} of {total} groups are hidden in the tables below: {small} with fewer than "
        f"{min_cell_size} people, and {complement} more that would give a small group's count away through the totals."
    )


def _override_lines(result: AuditResult) -> list[str]:
    """An audit run against its model's pinned specification says so near the top, with the reason."""
    if result.override is None:
        return []
    departures = "; ".join(markdown_text(d) for d in result.override.departures)
    return [
        f"**Audit specification overridden.** This audit departs from the specification pinned for "
        f"{markdown_text(result.model.name)} in governance.yaml: {departures}. The reason given: {markdown_text(result.override.reason)}. "
        "Approving this version needs an explicit risk acceptance.",
        "",
    ]


def sensitive_inputs_sentence(names: list[str], escape: Callable[[str], str] = str) -> str:
    """Said next to the verdict: a sensitive attribute the model reads directly is the reviewer's first question."""
    quoted = ", ".join(f"'{escape(name)}'" for name in names)
    if len(names) == 1:
        return f"The model takes the sensitive attribute {quoted} as a direct input."
    return f"The model takes the sensitive attributes {quoted} as direct inputs."


NEXT_STEP = {
    "passed": "Approve with a second person's sign-off, keep this report with the approval, and audit again when the "
    "model, its data or its use changes, or within a year.",
    "reported": "Decide with the risk officer whether the differences in the tables are acceptable, and record that "
    "decision as a risk acceptance at approval.",
}
_BOUND = re.compile(r"^\s*(>=|<=|>|<)\s*(-?[0-9.]+)\s*$")


def _shortfall(finding: Finding, bound: str, *, side: str) -> float:
    """How far a finding is on the wrong side of its bound (negative: on the right side, by that much).

    ``side`` is which end of the interval is measured: "best" (the end nearest to meeting the bound: how clearly
    a finding misses) or "worst" (the end nearest to missing it: how narrowly a finding meets it).
    """
    match = _BOUND.match(bound)
    estimate = finding.estimate
    if match is None or estimate is None or estimate.value is None:
        return 0.0
    limit, above = float(match.group(2)), match.group(1) in {">=", ">"}
    ends = [v for v in (estimate.low, estimate.high) if v is not None] or [estimate.value]
    if above:
        end = max(ends) if side == "best" else min(ends)
        return limit - end
    end = min(ends) if side == "best" else max(ends)
    return end - limit


def _deciding(
    result: AuditResult, hidden: Mapping[str, Collection[str]], limit: int = 3
) -> list[tuple[RuleOutcome, Finding | None]]:
    """The few rule outcomes and findings that decide the verdict, the strongest evidence first.

    Failed: the blocking rules that failed, then those left undecided; inconclusive: the undecided blocking rules;
    passed: the blocking rules' findings closest to their bounds; reported: the warnings.
    """
    verdict = result.policy.verdict
    rules = result.policy.rules
    if verdict == "failed":
        chosen = [o for o in rules if o.severity == "block" and o.status == "fail"]
        chosen += [o for o in rules if o.severity == "block" and o.status == "inconclusive"]
    elif verdict == "inconclusive":
        chosen = [o for o in rules if o.severity == "block" and o.status in {"inconclusive", "fail"}]
    elif verdict == "passed":
        chosen = [o for o in rules if o.severity == "block"]
    else:
        chosen = [o for o in rules if o.status in {"fail", "inconclusive"}] or list(rules)
    minimum = result.fairness.min_group_size

    def published(finding: Finding) -> bool:
        masked = hidden.get(finding.attribute, ())
        names = [finding.group, *(finding.group.split(" vs ")), finding.reference or ""]
        return not any(name in masked for name in names)

    ranked: list[list[Finding]] = []
    for outcome in chosen:
        status = {"inconclusive": "inconclusive", "fail": "fail"}.get(outcome.status, "pass")
        findings = [f for f in outcome.findings if f.status == status and published(f)]
        side = "worst" if status == "pass" else "best"
        small = outcome.comparison != "top_k"

        def order(
            f: Finding, bound: str = outcome.bound, side: str = side, small: bool = small
        ) -> tuple[bool, float, int]:
            return (small and f.n < minimum, -_shortfall(f, bound, side=side), -f.n)

        findings.sort(key=order)
        ranked.append(findings)
    # a rule without findings (a sensitive input, a rule that could not be checked) decides a failure on its own;
    # beside a pass it says less than the closest call, so it comes last
    bare: list[tuple[RuleOutcome, Finding | None]] = [
        (o, None) for o, f in zip(chosen, ranked, strict=True) if not f
    ]
    picked: list[tuple[RuleOutcome, Finding | None]] = [] if verdict == "passed" else list(bare)
    depth = 0
    while len(picked) < limit and any(len(f) > depth for f in ranked):
        picked += [(o, f[depth]) for o, f in zip(chosen, ranked, strict=True) if len(f) > depth]
        depth += 1
    if verdict == "passed":
        picked += bare
    return picked[:limit]


def _deciding_line(result: AuditResult, outcome: RuleOutcome, finding: Finding | None) -> str:
    status = "not checked" if outcome.not_checked_because else STATUS_WORDS[outcome.status]
    head = f"- **{markdown_text(outcome.rule_id)}** ({'blocking' if outcome.severity == 'block' else 'warning'}, {status}): "
    if finding is None:
        return head + (
            markdown_text(options_worded(outcome.not_checked_because))
            if outcome.not_checked_because
            else markdown_text(options_worded(outcome.summary))
        )
    if outcome.comparison == "top_k":
        return head + _capitalised(markdown_text(finding.reason)) + "."
    reference = f" vs {markdown_text(finding.reference)}" if finding.reference else ""
    sizes = f"{finding.n} {markdown_text(finding.counted)}"
    reference_n = finding.reference_n if finding.reference_n is not None else _group_size(result, finding)
    if reference_n is not None:
        sizes += f" in the group, {reference_n} in the reference"
    metric = METRIC_WORDS.get(outcome.metric, outcome.metric).split(" (")[0]
    if outcome.comparison == "impact_ratio":
        table = next(
            (a.ll144 for a in result.fairness.attributes if a.attribute == finding.attribute and a.ll144),
            None,
        )
        metric = f"impact ratio of {rate_words(table.rate_kind).rate if table else metric}"
    value = (
        describe_estimate(finding.estimate, result.fairness.confidence_level)
        if finding.estimate.has_interval
        else ""
    )
    reason = markdown_text(finding.reason)
    if value and value not in finding.reason:
        reason = f"{value}: {reason}"
    return (
        head
        + f"{markdown_text(finding.group)}{reference} ({markdown_text(finding.attribute)}; {sizes}), {metric}: {reason}."
    )


def _group_size(result: AuditResult, finding: Finding) -> int | None:
    """The reference group's row count, for findings recorded without it."""
    if not finding.reference:
        return None
    for attribute in result.fairness.attributes:
        if attribute.attribute == finding.attribute:
            return next((g.n for g in attribute.groups if g.group == finding.reference), None)
    return None


def _next_step(result: AuditResult, deciding: list[tuple[RuleOutcome, Finding | None]]) -> str:
    verdict = result.policy.verdict
    if verdict in NEXT_STEP:
        return NEXT_STEP[verdict]
    advice = options_worded(next((o.advice for o, _ in deciding if o.advice), ""))
    first = advice.split(". ")[0].rstrip(".")
    prefix = "Do not approve this version" if verdict == "failed" else "Do not approve yet"
    return f"{prefix}: {first[:1].lower()}{first[1:]}." if first else f"{prefix}."


def summary_lines(result: AuditResult, hidden: Mapping[str, Collection[str]] | None = None) -> list[str]:
    """The one-screen summary for a manager: verdict, what decides it, sensitive inputs, the next step."""
    title, meaning = VERDICT_WORDS[result.policy.verdict]
    deciding = _deciding(result, hidden or {})
    out = ["## Summary", "", f"**Verdict: {title}.** {meaning}", ""]
    if deciding:
        out += ["What decides it:", "", *(_deciding_line(result, o, f) for o, f in deciding), ""]
    if result.model.kind == "predictions":
        inputs = "not known: only saved predictions were audited, so the model's inputs could not be read."
    elif result.model.sensitive_inputs:
        inputs = "yes. " + sensitive_inputs_sentence(result.model.sensitive_inputs, markdown_text)
    else:
        inputs = (
            "no: none of "
            + ", ".join(markdown_text(s) for s in result.data.sensitive)
            + " is a direct input of the model."
        )
    out += [f"**Sensitive attribute used as a model input:** {inputs}", ""]
    out += [f"**Next step:** {_next_step(result, deciding)}", ""]
    return out


def _model_name(result: AuditResult) -> str:
    return f"{markdown_text(result.model.name)} {markdown_text(result.model.version)}"


def _auditor_lines(result: AuditResult) -> list[str]:
    """The start of the auditors' part: the policy's summary, how to read an interval, what was audited."""
    level = level_words(result.fairness.confidence_level)
    what = (
        markdown_text(result.model.estimator or "a model")
        if result.model.kind == "model"
        else (
            f"saved predictions (column {markdown_text(result.model.predictions_column)}) of a model that was not loaded"
        )
    )
    return [
        "## Details for auditors",
        "",
        markdown_text(options_worded(result.policy.summary)),
        "",
        f"How to read the numbers: a value with a {level} interval in brackets, such as 0.76 [0.64, 0.87], means "
        "the true value most likely lies between the two ends; a wide interval means too few people to be sure.",
        "",
        f"- **Model:** {_model_name(result)}: {what}",
        f"- **Data:** {markdown_text(result.data.path.rsplit('/', 1)[-1])}, {result.data.n_rows} rows",
        f"- **Sensitive attributes:** {', '.join(markdown_text(s) for s in result.data.sensitive)}",
        f"- **Labels:** {markdown_text(result.data.target) if result.data.target else 'none (selection rates and impact ratios only)'}",
        f"- **Policy:** {markdown_text(result.policy.policy_name)} ({markdown_text(result.policy.policy_path)})",
        f"- **Audited:** {result.provenance.created_at}",
        f"- **Audit id:** `{result.audit_id}`",
        "",
    ]


def _problem_lines(problems: list[RuleOutcome], hidden: Mapping[str, Collection[str]]) -> list[str]:
    """The rules not met: blocking ones first, then the warnings."""
    out: list[str] = []
    blocking = [o for o in problems if o.severity == "block"]
    warnings = [o for o in problems if o.severity == "warn"]
    if blocking:
        unchecked = any(o.not_checked_because is not None for o in blocking)
        out += [f"Blocking rules that are not met{' or could not be checked' if unchecked else ''}:", ""]
        for outcome in blocking:
            out += _rule_lines(outcome, hidden)
        out.append("")
    if warnings:
        out += ["Warnings to review (they do not change the verdict):", ""]
        for outcome in warnings:
            out += _rule_lines(outcome, hidden)
        out.append("")
    return out


def _what_to_do_lines(result: AuditResult, hidden: Mapping[str, Collection[str]]) -> list[str]:
    """What the verdict means for the reader, the rules not met, and what the audit could not do."""
    verdict = result.policy.verdict
    problems = [o for o in result.policy.rules if o.status in {"fail", "inconclusive"}]
    out = ["## What this means and what to do", ""]
    if verdict == "reported":
        out += [
            "This policy has no pass mark: read the tables below and decide with the risk officer whether the "
            "differences they show are acceptable; record that decision (a risk acceptance) at approval.",
            "",
        ]
    if not problems and verdict != "reported":
        out += [
            "Every rule the policy checks is met. Keep this report with the approval, and audit again when the model, "
            "its data or its use changes, or before the audit is a year old.",
            "",
        ]
    elif problems:
        out += _problem_lines(problems, hidden)
    if result.explanation_error:
        out += [
            f"The explanation could not be computed: {markdown_text(options_worded(result.explanation_error))}. The fairness results above are complete.",
            "",
        ]
    if result.data.rows_without_demographics:
        out += [
            f"{result.data.rows_without_demographics} rows had no match in the demographics file; they are counted in an "
            "'Unknown' group and left out of the ratios.",
            "",
        ]
    return out


def _rules_table_lines(result: AuditResult) -> list[str]:
    """Every rule checked, its result, and how a result is decided."""
    level = level_words(result.fairness.confidence_level)
    out = [
        "## Rules checked",
        "",
        "| Rule | Severity | Result | Bound | In plain words |",
        "|---|---|---|---|---|",
    ]
    for outcome in result.policy.rules:
        word = "not checked" if outcome.not_checked_because is not None else STATUS_WORDS[outcome.status]
        out.append(
            f"| {markdown_text(outcome.rule_id)} | {outcome.severity} | {word} | {markdown_text(outcome.bound)} | {markdown_text(outcome.description)} |"
        )
    return [
        *out,
        "",
        f"A rule is *met* only when every group's whole {level} interval meets the bound, *failed* only when an "
        "interval widened for the number of comparisons the rule makes still misses it, and *inconclusive* otherwise, "
        "or when a group or its reference has fewer people than the policy's minimum in what the rate counts.",
        "",
    ]


def _overall_lines(result: AuditResult) -> list[str]:
    """The metrics over everyone, when the audit has labels."""
    if not result.fairness.overall:
        return []
    out = [
        "## Performance for everyone",
        "",
        "| Metric | Value [interval] | In plain words |",
        "|---|---|---|",
    ]
    for metric, estimate in sorted(result.fairness.overall.items()):
        out.append(
            f"| {METRIC_WORDS.get(metric, metric)} | {_interval(estimate)} | {METRIC_GLOSS.get(metric, '')} |"
        )
    return [*out, ""]


@dataclass(frozen=True)
class _Figures:
    """Which figures the report links to (``names`` None: all of them) and the folder they are in."""

    names: dict[str, str] | None
    folder: str

    def has(self, stem: str) -> bool:
        return self.names is None or stem in self.names


def _ll144_lines(
    attribute: AttributeResult, masked: Mapping[str, str], k: int, figures: _Figures
) -> list[str]:
    """The impact-ratio table in NYC Local Law 144's format, and its figure unless it would give a rate away."""
    if attribute.ll144 is None or attribute.positive_class is not None:
        return []
    out = ["#### Impact ratios (NYC Local Law 144 format)", ""]
    out += _ll144_table(attribute, masked, k)
    out.append("")
    impact = impact_figure_stem(attribute)
    ratios_hidden = attribute.ll144.most_selected in masked  # the ratios would give its rate away
    if figures.has(impact) and not ratios_hidden:
        out += [
            f"![{markdown_text(impact_figure_alt(attribute, masked))}]({figures.folder}/{impact}.svg)",
            "",
        ]
    return out


def _attribute_lines(
    attribute: AttributeResult, masked: Mapping[str, str], k: int, figures: _Figures, confidence: float
) -> list[str]:
    """One sensitive attribute: its group table and figure, impact ratios, comparisons and summaries."""
    heading = markdown_text(attribute.attribute) + (
        f" (class {markdown_text(attribute.positive_class)} vs rest)" if attribute.positive_class else ""
    )
    out = [f"### {heading}", ""]
    if attribute.reference_group:
        out += [
            f"Reference group for comparisons: **{markdown_text(attribute.reference_group)}** ({attribute.reference_method}).",
            "",
        ]
    out += _group_table(attribute, masked, k)
    out.append("")
    stem = attribute_figure_stem(attribute)
    if figures.has(stem):
        alt = markdown_text(group_figure_alt(attribute, masked, confidence))
        out += [f"![{alt}]({figures.folder}/{stem}.svg)", ""]
    if attribute.empty_cells:
        out += [
            f"Combinations with no rows (left out): {', '.join(markdown_text(c) for c in attribute.empty_cells)}.",
            "",
        ]
    out += _ll144_lines(attribute, masked, k, figures)
    comparison = _comparison_table(attribute, masked)
    if comparison:
        out += ["#### Differences and ratios to the reference group", "", *comparison, ""]
    if attribute.summaries:
        out += [_summaries_line(attribute, masked), ""]
    return out


def _by_group_lines(
    result: AuditResult,
    hidden: Mapping[str, Mapping[str, str]],
    figures: _Figures,
    *,
    published: bool,
    min_cell_size: int,
) -> list[str]:
    """The results by group: how the intervals were made, then one section per sensitive attribute."""
    fairness = result.fairness
    out = [
        "## Results by group",
        "",
        f"Each cell shows the value and its {level_words(fairness.confidence_level)} interval in brackets: a score "
        f"interval for rates and their comparisons (computed from the counts), a percentile bootstrap for AUC, "
        f"Brier score and regression metrics ({fairness.n_boot} resamples, seed {fairness.seed}).",
    ]
    if published:
        out.append(masking_sentence(hidden, result, min_cell_size))
    out.append("")
    for attribute in fairness.attributes:
        masked = hidden.get(attribute.attribute, {})
        out += _attribute_lines(attribute, masked, min_cell_size, figures, fairness.confidence_level)
    return out


def _explanation_lines(
    result: AuditResult, hidden: Mapping[str, Collection[str]], figures: _Figures, *, published: bool
) -> list[str]:
    """The explanation's section (masked like the tables when published), when there is one."""
    if result.explanation is None:
        return []
    from governance.report.explain import render_explanation_markdown

    explanation = published_explanation(result.explanation, hidden) if published else result.explanation
    paths = {k: f"{figures.folder}/{v}" for k, v in (figures.names or {}).items()}
    return [render_explanation_markdown(explanation, figures=paths), ""]


def _curve_lines(
    result: AuditResult, figures: _Figures, hidden: Mapping[str, Collection[str]], *, published: bool
) -> list[str]:
    """The threshold trade-off and calibration by group. A published page leaves out the curves of an attribute
    with a masked group: each group's rate at every threshold would give its masked counts back."""
    if result.tradeoff is None and result.calibration is None:
        return []
    from governance.report.curves import calibration_lines, tradeoff_lines

    masked = {name for name, groups in hidden.items() if groups} if published else set()
    tradeoff, calibration = result.tradeoff, result.calibration
    if masked and tradeoff is not None:
        tradeoff = tradeoff.model_copy(
            update={"attributes": [a for a in tradeoff.attributes if a.attribute not in masked]}
        )
    if masked and calibration is not None:
        calibration = calibration.model_copy(
            update={"attributes": [a for a in calibration.attributes if a.attribute not in masked]}
        )
    out = tradeoff_lines(tradeoff, figures.folder, figures.has) if tradeoff else []
    if calibration is not None:
        out += calibration_lines(calibration, figures.folder, figures.has)
    if masked and out:
        left = ", ".join(sorted(masked))
        out += [
            f"The curves of {markdown_text(left)} are left out of this page: a group is masked there.",
            "",
        ]
    return out


def _table_lines(result: AuditResult) -> list[str]:
    """Where a table audit's rows live (never a password: the URL is stored redacted), or the file's hash."""
    info = result.data.table
    if info is None:
        return [f"- Data SHA-256: `{result.data.sha256}`"]
    source = (
        f"table {markdown_text(info.table)}" if info.table else f"the query {markdown_text(info.query or '')}"
    )
    where = markdown_text(info.connection or "an open connection")
    lines = [
        f"- Data: {source} through {markdown_text(info.backend)} at {where}, {info.n_rows} rows, read {info.queried_at}",
        f"- Data fingerprint: `{info.fingerprint}` ({markdown_text(info.fingerprint_method)}; "
        f"{command_of('refingerprint', {})} computes it again)",
    ]
    if info.explain_sample_rows is not None:
        lines.append(
            f"- Explanation sample: {info.explain_sample_rows} rows stratified by sensitive group, "
            f"seed {info.explain_sample_seed}"
        )
    if info.distinct_rows is not None:
        rounded = (
            f"; scores, weights and amounts rounded to {info.rounded_to_bits} significant bits to fit in memory "
            "(the notes give each metric's largest possible error)"
            if info.rounded_to_bits is not None
            else "; nothing rounded"
        )
        lines.append(
            f"- AUC, Brier score and amounts: from {info.distinct_rows:,} distinct combinations of groups, outcome, "
            f"prediction, score and weight, each with its count{rounded}"
        )
    return lines


def _provenance_lines(result: AuditResult) -> list[str]:
    """The fairness notes, then how the audit was made: hashes, loader, seed, library versions."""
    model = result.model
    out = [line for note in result.fairness.notes for line in (f"Note: {markdown_text(note)}", "")]
    trusted = (
        f"; types trusted beyond skops' defaults: {', '.join(markdown_text(t) for t in model.trusted_types)}"
        if model.trusted_types
        else ""
    )
    vouched = (
        [f"- Loading it can run code: {markdown_text(vouched_words(model.vouched_by, model.vouched_at))}"]
        if model.vouched_by
        else []
    )
    libraries = ", ".join(
        f"{k} {v}" for k, v in sorted(result.provenance.library_versions.items()) if k != "governance"
    )
    return [
        *out,
        "## How this audit was made",
        "",
        f"- Model file SHA-256: `{model.sha256 or 'n/a (predictions only)'}`",
        f"- Loaded with: {markdown_text(model.loader or 'n/a')}" + trusted,
        *vouched,
        *_table_lines(result),
        f"- Policy SHA-256: `{result.policy.policy_sha256}`",
        f"- Seed {result.provenance.seed}; {result.fairness.n_boot} bootstrap resamples (AUC, Brier, regression); "
        f"{level_words(result.fairness.confidence_level)} intervals; tool version {result.provenance.tool_version}",
        "- Libraries: " + libraries,
        "",
        "The four-fifths ratio is a screening heuristic from US employment guidance, not a legal test; NYC Local Law 144 "
        "sets no pass mark. A run of this tool is evidence for a human review and sign-off, not a substitute for it.",
        "",
    ]


def render_report(
    result: AuditResult,
    *,
    figures: dict[str, str] | None = None,
    figures_dir: str = "figures",
    published: bool = False,
    min_cell_size: int = 10,
) -> str:
    """The report as Markdown; figures are referenced under ``figures_dir``."""
    hidden = masking(result, min_cell_size) if published else {}
    linked = _Figures(figures, figures_dir)
    out = [f"# Audit of {_model_name(result)}", ""]
    out += summary_lines(result, hidden)
    out += _auditor_lines(result)
    out += _override_lines(result)
    out += _what_to_do_lines(result, hidden)
    out += _rules_table_lines(result)
    out += _overall_lines(result)
    out += _by_group_lines(result, hidden, linked, published=published, min_cell_size=min_cell_size)
    out += _curve_lines(result, linked, hidden, published=published)
    out += _explanation_lines(result, hidden, linked, published=published)
    out += _provenance_lines(result)
    return "\n".join(out)
