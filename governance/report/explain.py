"""The explanation section of the Markdown report: plain words first, then the tables and figures.

Reads only an ExplanationResult; computes nothing. Every user-supplied name (features, attributes, groups,
values) is escaped, so a column called ``<script>`` or ``a|b`` cannot break the page or the tables.
"""

from __future__ import annotations

import html
import re

from governance.results.commands import command_of, options_worded
from governance.results.explain import (
    AttributeExplanation,
    ExplanationResult,
    GroupDifference,
    ReasonStatement,
)
from governance.results.wording import level_words

MAX_TABLE_FEATURES = 15
MAX_GROUP_FEATURES = 8
MAX_PROXY_ROWS = 12
STABLE = 0.8  # top-k sets that come back in at least 80 % of resamples are called stable

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#+|~>])")


def escape(text: object) -> str:
    """Text safe inside Markdown (tables included) and HTML: entities for <>&, backslashes for Markdown."""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _code(text: object) -> str:
    return f"**{escape(text)}**"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(share: float) -> str:
    return f"{round(100 * share)} %"


def _join(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _spread(difference: GroupDifference) -> str:
    text = _num(difference.spread)
    if difference.difference is not None and difference.difference.has_interval:
        text += f", {_num(difference.difference.low)} to {_num(difference.difference.high)}"
    return text


def summary_paragraphs(result: ExplanationResult) -> list[str]:
    """The plain-language findings, one paragraph each."""
    top = [_code(f) for f in result.top_k_features]
    share = sum(i.share for i in result.importance[: result.top_k])
    paragraphs = [
        f"**What drives the model.** Its output ({escape(result.output_label)}) depends most on {_join(top)}; "
        f"these {len(top)} features carry {_pct(share)} of the total attribution."
    ]
    if result.n_boot == 0 or result.rows_explained < 2:
        paragraphs.append("**How sure.** No bootstrap was run, so the ranking comes without intervals.")
    elif result.top_k_stability >= STABLE:
        paragraphs.append(
            f"**How sure.** The same top {len(top)} came out in {_pct(result.top_k_stability)} of "
            f"{result.n_boot} bootstrap resamples of the explained rows: this ranking is stable."
        )
    else:
        paragraphs.append(
            f"**How sure.** The same top {len(top)} came out in only {_pct(result.top_k_stability)} of "
            f"{result.n_boot} bootstrap resamples: features near the cut swap places, so do not read much into "
            f"the exact order. Explaining more rows (a larger {options_worded('explain_budget')}) narrows this."
        )
    ranked = {i.feature: i.rank for i in result.importance}
    if result.sensitive_features_in_model:
        listed = _join(
            [f"{_code(f)} (rank {ranked.get(f, '?')})" for f in result.sensitive_features_in_model]
        )
        paragraphs.append(
            f"**Sensitive attributes.** The model takes {listed} as input. Using a protected attribute directly "
            "is unlawful for many decisions; check with your policy owner whether it must be removed."
        )
    else:
        paragraphs.append(
            "**Sensitive attributes.** The model does not take any sensitive attribute as input."
        )
    if result.likely_proxies:
        pairs = _join(
            [
                f"{_code(h.feature)} reveals {_code(h.attribute)} (strength {_num(h.strength, 2)})"
                for h in result.likely_proxies[:5]
            ]
        )
        in_top = [h.feature for h in result.likely_proxies if h.feature in result.top_k_features]
        advice = (
            f" {_join([_code(f) for f in dict.fromkeys(in_top)])} is also among the top {result.top_k}: the "
            "model may be using it as a stand-in for the attribute. Ask whether the feature is needed, or "
            "whether a less revealing version would do."
            if in_top
            else " None of them is among the most important features."
        )
        paragraphs.append(f"**Possible proxies.** {pairs}.{advice}")
    else:
        paragraphs.append(
            f"**Possible proxies.** No feature reveals a sensitive attribute with a strength of "
            f"{_num(result.proxy_threshold, 2)} or more (0 reveals nothing, 1 gives it away)."
        )
    for attribute in result.by_group:
        if attribute.most_different:
            d = attribute.most_different[0]
            sentence = (
                f"**By {escape(attribute.attribute)}.** The feature whose push differs most between groups is "
                f"{_code(d.feature)}: on average it moves {_code(d.highest_group)} by {_num(d.highest)} and "
                f"{_code(d.lowest_group)} by {_num(d.lowest)} ({escape(result.output_label)})."
            )
            if d.difference is not None and d.difference.has_interval:
                interval = f"{_num(d.difference.low)} to {_num(d.difference.high)}"
                if d.clear:
                    sentence += f" The gap ({interval}) is larger than chance alone would give."
                else:
                    sentence += f" The gap ({interval}) could be chance."
            sentence += " A difference is not unfair in itself; it shows where to look."
            paragraphs.append(sentence)
    return paragraphs


def method_table(result: ExplanationResult) -> list[str]:
    """How the explanation was made: the facts a reviewer needs to trust or reproduce it."""
    additivity = (
        f"holds (largest gap {result.additivity_max_error:.1e})"
        if result.additivity_ok
        else f"does not fully hold (largest gap {result.additivity_max_error:.3g})"
    )
    rows = [
        ("Explainer", f"shap {result.explainer_class} ({result.explainer})"),
        ("Model", escape(result.estimator)),
        ("Output explained", escape(result.output_label)),
        ("Rows explained", f"{result.rows_explained} of {result.rows_total}"),
        ("Background", f"{result.background_size} rows: {escape(result.background_method)}"),
        ("Additivity check", additivity),
        ("Time", f"{result.seconds_taken:.1f} s of a {result.budget_seconds:g} s budget"),
        (
            "Bootstrap",
            f"{result.n_boot} resamples, {level_words(result.confidence_level)} intervals, seed {result.seed}",
        ),
    ]
    if result.folded_columns:
        folded = ", ".join(f"{escape(k)} ({v})" for k, v in sorted(result.folded_columns.items()))
        rows.append(("One-hot columns folded back", folded))
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def importance_table(result: ExplanationResult) -> list[str]:
    level = level_words(result.confidence_level)
    lines = [
        f"| Rank | Feature | Mean \\|SHAP\\| | {level} interval | Share | In top {result.top_k} (resamples) |",
        "|---:|---|---:|---|---:|---:|",
    ]
    for item in result.importance[:MAX_TABLE_FEATURES]:
        name = escape(item.feature) + (" (sensitive)" if item.is_sensitive else "")
        interval = (
            f"{_num(item.mean_abs.low)} to {_num(item.mean_abs.high)}"
            if item.mean_abs.has_interval
            else "n/a"
        )
        lines.append(
            f"| {item.rank} | {name} | {_num(item.mean_abs.value)} | {interval} | {_pct(item.share)} | "
            f"{_pct(item.top_k_frequency)} |"
        )
    if len(result.importance) > MAX_TABLE_FEATURES:
        lines.append(
            f"\n{len(result.importance) - MAX_TABLE_FEATURES} less important features are in audit.json."
        )
    return lines


def group_table(result: ExplanationResult, attribute: AttributeExplanation) -> list[str]:
    groups = attribute.groups
    header = "| Feature | " + " | ".join(
        f"{escape(g.group)} (n={g.n}{', few' if g.small else ''})" for g in groups
    )
    lines = [header + " |", "|---|" + "---:|" * len(groups)]
    for item in result.importance[:MAX_GROUP_FEATURES]:
        cells = " | ".join(f"{_num(g.mean[item.feature])} ({_num(g.mean_abs[item.feature])})" for g in groups)
        lines.append(f"| {escape(item.feature)} | {cells} |")
    return lines


def proxy_table(result: ExplanationResult) -> list[str]:
    ranked = sorted(result.proxies, key=lambda p: (-p.strength, p.feature, p.attribute))[:MAX_PROXY_ROWS]
    lines = [
        "| Feature | Sensitive attribute | Strength | AUC | Cramér's V | Likely proxy |",
        "|---|---|---:|---:|---:|---|",
    ]
    for p in ranked:
        flag = "**yes**" if p.likely_proxy else "no"
        lines.append(
            f"| {escape(p.feature)} | {escape(p.attribute)} | {_num(p.strength, 2)} | {_num(p.auc, 2)} | "
            f"{_num(p.cramers_v, 2)} | {flag} |"
        )
    return lines


def statement_block(statement: ReasonStatement) -> list[str]:
    lines = [f"> {escape(statement.statement)}", ""]
    if statement.reasons:
        lines += ["| Reason | Value | Typical | Contribution |", "|---|---|---|---:|"]
        for reason in statement.reasons:
            lines.append(
                f"| {escape(reason.feature)} | {escape(reason.value)} | {escape(reason.reference_value)} | "
                f"{_num(reason.contribution)} |"
            )
    return lines


def _figure(figures: dict[str, str] | None, key: str, alt: str, figures_dir: str) -> list[str]:
    if not figures or key not in figures:
        return []
    target = f"{figures_dir}/{figures[key]}" if figures_dir else figures[key]
    return [f"![{escape(alt)}]({target})", ""]


def render_explanation_markdown(
    result: ExplanationResult,
    *,
    figures: dict[str, str] | None,
    figures_dir: str = "",
    heading_level: int = 2,
) -> str:
    """The explanation section as Markdown.

    ``figures`` is what ``write_explanation_figures`` returned; ``figures_dir`` is that folder relative to
    the report (links are ``figures_dir/name``; give ``""`` when the names are already relative to it).
    """
    h = "#" * heading_level
    sub = "#" * (heading_level + 1)
    out = [f"{h} Explainability", ""]
    for paragraph in summary_paragraphs(result):
        out += [paragraph, ""]
    out += [
        f"Attributions are SHAP values on the model's raw input columns, in {escape(result.output_label)}: "
        "how far each value moved this person's output away from the average, positive towards the "
        f"favourable outcome{'' if result.positive_label is None else f' ({escape(result.positive_label)})'}.",
        "",
        f"{sub} How this was computed",
        "",
        *method_table(result),
        "",
        f"{sub} What drives the model",
        "",
        *_figure(figures, "importance", "Mean absolute SHAP value per feature with intervals", figures_dir),
        *importance_table(result),
        "",
        *_figure(figures, "beeswarm", "SHAP value of every sampled person, per feature", figures_dir),
    ]
    if result.per_class_importance:
        out += [f"{sub} By class", ""]
        for label, items in sorted(result.per_class_importance.items()):
            top = ", ".join(escape(i.feature) for i in items[: result.top_k])
            out.append(f"- class {escape(label)}: {top}")
        out.append("")
    if result.by_group:
        out += [f"{sub} By group", ""]
        out += [
            "Each cell: mean SHAP (how much, on average, the feature pushed that group's output up or down), "
            "then mean |SHAP| (how much it mattered) in brackets. Groups marked *few* have under 30 people.",
            "",
        ]
        for attribute in result.by_group:
            out += [
                f"**{escape(attribute.attribute)}**" + (" (in quartile bands)" if attribute.binned else ""),
                "",
            ]
            out += [*group_table(result, attribute), ""]
            if attribute.most_different:
                named = _join([f"{escape(d.feature)} ({_spread(d)})" for d in attribute.most_different])
                out += [
                    "Largest differences between groups (highest minus lowest group mean SHAP, with "
                    f"{level_words(result.confidence_level)} interval): {named}.",
                    "",
                ]
            out += _figure(
                figures, f"groups:{attribute.attribute}", f"Mean SHAP by {attribute.attribute}", figures_dir
            )
    if result.proxies:
        out += [
            f"{sub} Proxy screen",
            "",
            "Strength says how well the feature alone reveals the attribute: 0 means not at all, 1 that it "
            "gives the attribute away, 0.5 that it tells two people of different groups apart three times in "
            "four (it is 2 × AUC − 1, from a cross-validated guess of the attribute). Pairs at "
            f"{_num(result.proxy_threshold, 2)} or above are likely proxies. Cramér's V (0 to 1) measures the same "
            "link another way.",
            "",
            *proxy_table(result),
            "",
        ]
    if result.example_reasons is not None:
        out += [
            f"{sub} Example reason-code statement",
            "",
            "What an adverse-action or GDPR Art. 15 answer would say for one typical declined case "
            f"({command_of('explain_row', {})} gives it for anyone):",
            "",
            *statement_block(result.example_reasons),
            "",
        ]
    if result.notes:
        out += [f"{sub} Notes", "", *(f"- {escape(options_worded(note))}" for note in result.notes), ""]
    return "\n".join(out).rstrip() + "\n"
