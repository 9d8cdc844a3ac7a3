"""The NYC Local Law 144 published summary of a bias audit (6 RCNY § 5-303), for each automated employment
decision tool (``is_aedt``): the audit date, the data source, the number of people of unknown category, and per
category the number of people, the selection or scoring rate and the impact ratio, with the categories under 2%
of the data named. Small categories are masked like every published table (``site.min_cell_size``).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from governance.escaping import markup_multiline, markup_text
from governance.report.markdown import (
    COMPLEMENT_LABEL,
    HIDDEN,
    all_masked_sentence,
    mask_legend,
    masking,
    masking_sentence,
    small_label,
)
from governance.report.suppression import SMALL
from governance.results.audit import AuditResult
from governance.results.fairness import AttributeResult
from governance.results.wording import rate_words
from governance.site.markdown import facts, number, table
from governance.site.sources import ModelEntry


def _ll144_table(attribute: AttributeResult, *, min_cell_size: int, result: AuditResult) -> str:
    assert attribute.ll144 is not None
    summary = attribute.ll144
    masked = masking(result, min_cell_size).get(attribute.attribute, {})
    words = rate_words(summary.rate_kind)
    rate_word = words.rate.capitalize()
    if summary.rows and all(row.category in masked for row in summary.rows):
        return all_masked_sentence(len(summary.rows), min_cell_size) + "\n"
    reference_hidden = summary.most_selected in masked
    rows = []
    for row in summary.rows:
        if row.category in masked:
            label = small_label(min_cell_size) if masked[row.category] == SMALL else COMPLEMENT_LABEL
            rows.append(
                [markup_text(row.category), label, HIDDEN, HIDDEN, "yes" if row.under_two_percent else "no"]
            )
            continue
        rows.append(
            [
                markup_text(row.category),
                str(row.n),
                number(row.rate, digits=3),
                HIDDEN if reference_hidden else number(row.impact_ratio, digits=3),
                "yes" if row.under_two_percent else "no",
            ]
        )
    reasons = [masked[row.category] for row in summary.rows if row.category in masked]
    unknown_reason = next(
        (masked[g.group] for g in attribute.groups if g.is_unknown and g.group in masked), None
    )
    parts = [
        table(
            ["Category", "Number of people", rate_word, "Impact ratio", "Under 2% of the data"],
            rows,
            align=["l", "r", "r", "r", "l"],
        ),
    ]
    if reasons:
        parts.append(mask_legend(reasons, len(summary.rows), min_cell_size) + "\n")
    parts += [
        "Number of people whose category is unknown: "
        + (
            (small_label(min_cell_size) if unknown_reason == SMALL else COMPLEMENT_LABEL) + " (hidden)."
            if unknown_reason
            else f"{summary.unknown_count}."
        )
        + "\n",
        f"Impact ratio: the category's rate divided by the rate of the {words.top}"
        + (f" ({markup_text(summary.most_selected)})" if summary.most_selected else "")
        + ".\n",
    ]
    if reference_hidden:
        parts.append(
            f"The {words.top} is hidden, so the impact ratios are hidden too: dividing a rate by its "
            "ratio would give the hidden category's rate. Leave categories under 2% out of the impact ratios "
            "in the audit to publish them.\n"
        )
    if summary.rate_kind == "scoring" and summary.median_score is not None:
        parts.append(
            f"Scoring rate: the share scoring above the median score ({summary.median_score:.4g}).\n"
        )
    small = [markup_text(row.category) for row in summary.rows if row.under_two_percent]
    if small:
        parts.append(
            "Categories with under 2% of the data (the auditor may leave them out of the impact ratios): "
            + ", ".join(small)
            + ".\n"
        )
    return "\n".join(parts)


def render_ll144_page(model: ModelEntry, *, audit_link: str | None, min_cell_size: int) -> str:
    """The published summary for one model, from its latest audit."""
    latest = model.latest_audit
    latest = latest.whole() if latest is not None else None  # already whole in a build
    lines = [f"# NYC Local Law 144 bias audit summary: {markup_text(model.name)}\n"]
    source = model.card.get("ll144_data_source") or model.card.get("data_source")
    distribution = model.card.get("distribution_date") or model.card.get("ll144_distribution_date")
    if latest is None:
        lines.append(
            "This tool has no audit yet; Local Law 144 needs a bias audit within the year before use.\n"
        )
        return "\n".join(lines)
    data = latest.result.data
    lines.append(
        facts(
            [
                [
                    "Date of the most recent bias audit",
                    f"[{markup_text(latest.created_at[:10])}]({audit_link})"
                    if audit_link
                    else markup_text(latest.created_at[:10]),
                ],
                [
                    "Source of the data",
                    markup_multiline(source)
                    if source
                    else f"{markup_text(PurePosixPath(data.path).name)} ({data.n_rows} rows; "
                    "say whether historical or test data under `ll144_data_source` in governance.yaml)",
                ],
                [
                    "Distribution date of the tool",
                    markup_text(distribution)
                    if distribution
                    else "not recorded: add `distribution_date` in governance.yaml",
                ],
                [
                    "Small groups",
                    masking_sentence(
                        masking(latest.result, min_cell_size), latest.result, min_cell_size, ll144=True
                    ),
                ],
            ],
        )
    )
    shown = [attribute for attribute in latest.result.fairness.attributes if attribute.ll144 is not None]
    if not shown:
        lines.append(
            "\nThe latest audit has no impact-ratio table; run the audit with the sex and race/ethnicity "
            "columns as sensitive attributes.\n"
        )
    for attribute in shown:
        lines.append(f"## By {markup_text(attribute.attribute)}\n")
        lines.append(_ll144_table(attribute, min_cell_size=min_cell_size, result=latest.result))
    return "\n".join(lines)
