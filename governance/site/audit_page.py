"""The page of one audit: the verdict first in plain words, then the tables, figures and explanations.

The report module's ``render_report(published=True)`` writes the body when it is installed; until then (and if
it fails) a smaller built-in rendering is used, with the same masking of small groups.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from governance.results.audit import AuditResult
from governance.results.fairness import REGRESSION_METRICS, AttributeResult
from governance.site.escape import escape
from governance.site.markdown import MASKED, VERDICT_WORDS, admonition, estimate, facts, percent, table
from governance.site.suppression import suppress, suppress_grid

METRIC_LABELS = {
    "selection_rate": "selection rate",
    "base_rate": "base rate",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "tnr": "true negative rate",
    "precision": "precision",
    "npv": "negative predictive value",
    "accuracy": "accuracy",
    "mean_prediction": "mean prediction",
    "mean_target": "mean target",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "auc": "AUC",
    "brier": "Brier score",
}
SHOWN_METRICS = ("selection_rate", "tpr", "fpr", "precision", "accuracy", *REGRESSION_METRICS)


def verdict_box(result: AuditResult) -> str:
    """The verdict as a coloured box: the word, the policy's one-sentence summary, what it means."""
    kind, word, meaning = VERDICT_WORDS.get(result.policy.verdict, ("note", result.policy.verdict, ""))
    body = f"{escape(result.policy.summary)}\n\n{meaning}"
    return admonition(kind, f"Verdict: {word}", body)


def masked_groups(
    attribute: AttributeResult, *, min_cell_size: int, result: AuditResult | None = None
) -> set[str]:
    """Group names to mask: small groups plus complements, per row and column for an intersection.

    With ``result``, the groups the audit page (the report module) masks are added, so that no page of the
    site shows a group another page hides: reading two pages side by side reveals nothing either would not.
    """
    masked: set[str]
    keys = {
        group.group: tuple(group.levels.get(column, "") for column in attribute.columns)
        for group in attribute.groups
    }
    if attribute.is_intersection and len(attribute.columns) > 1 and len(set(keys.values())) == len(keys):
        hidden = suppress_grid({keys[group.group]: group.n for group in attribute.groups}, k=min_cell_size)
        masked = {name for name, key in keys.items() if key in hidden}
    else:
        masked = suppress({group.group: group.n for group in attribute.groups}, k=min_cell_size)
    if result is not None:
        try:
            from governance.report.markdown import hidden_groups
        except ImportError:
            return masked
        masked |= hidden_groups(result, min_cell_size).get(attribute.attribute, set())
    return masked


def group_table(attribute: AttributeResult, *, min_cell_size: int, result: AuditResult | None = None) -> str:
    """One attribute's groups with sizes and metrics; groups under ``min_cell_size`` masked (complementary)."""
    masked = masked_groups(attribute, min_cell_size=min_cell_size, result=result)
    present = [
        metric for metric in SHOWN_METRICS if any(metric in group.metrics for group in attribute.groups)
    ]
    headers = ["Group", "People", "Share", *(METRIC_LABELS.get(metric, metric) for metric in present)]
    rows = []
    for group in attribute.groups:
        name = escape(group.group) + (" (unknown)" if group.is_unknown else "")
        if group.group in masked:
            rows.append([name, MASKED, MASKED, *([MASKED] * len(present))])
            continue
        rows.append(
            [name, str(group.n), percent(group.share), *(estimate(group.metrics.get(m)) for m in present)]
        )
    return table(headers, rows, align=["l", "r", "r", *(["r"] * len(present))])


def fallback_report(result: AuditResult, *, figures: list[str], min_cell_size: int) -> str:
    """A compact published report: rules, groups (masked), figures."""
    parts = [
        "## What the policy found\n",
        table(
            ["Rule", "Result", "What it means", "What to do"],
            [
                [
                    escape(rule.description or rule.rule_id),
                    escape(rule.status),
                    escape(rule.summary),
                    escape(rule.advice),
                ]
                for rule in result.policy.rules
            ],
        ),
    ]
    for attribute in result.fairness.attributes:
        title = escape(attribute.attribute)
        if attribute.positive_class is not None:
            title += f" (class {escape(attribute.positive_class)})"
        parts.append(f"## Groups by {title}\n")
        parts.append(group_table(attribute, min_cell_size=min_cell_size, result=result))
        summaries = [
            [escape(key.replace("_", " ")), estimate(value)]
            for key, value in sorted(attribute.summaries.items())
        ]
        if summaries:
            parts.append("\n" + table(["Summary", "Value (interval)"], summaries, align=["l", "r"]))
    if figures:
        parts.append("## Figures\n")
        parts += [f"![Audit figure {index + 1}](figures/{name})\n" for index, name in enumerate(figures)]
    return "\n".join(parts)


def render_audit_page(
    result: AuditResult, *, figures: list[str], min_cell_size: int, model_link: str, warnings: list[str]
) -> str:
    """The whole page; ``figures`` are file names already copied next to it under ``figures/``."""
    head = [
        f"# Audit of {escape(result.model.name)} {escape(result.model.version)}\n",
        verdict_box(result),
        f"Model card: [{escape(result.model.name)}]({model_link}). "
        f"Groups with fewer than {min_cell_size} people are masked in the tables below.\n",
    ]
    key_facts = facts(
        [
            ["Audit", escape(result.audit_id)],
            ["Date", escape(result.provenance.created_at)],
            ["Data", f"{escape(PurePosixPath(result.data.path).name)}, {result.data.n_rows} rows"],
            ["Policy", escape(result.policy.policy_name)],
        ],
    )
    body: str | None = None
    try:
        from governance.report import markdown as report_markdown
    except ImportError:
        report_markdown = None  # type: ignore[assignment,unused-ignore]
    if report_markdown is not None:
        try:
            body = report_markdown.render_report(
                result,
                figures={PurePosixPath(name).stem: name for name in figures if name.endswith(".svg")},
                figures_dir="figures",
                published=True,
                min_cell_size=min_cell_size,
            )
        except Exception as exc:  # the report is another module's; the site still builds without it
            warnings.append(
                f"The report module could not render audit {result.audit_id} ({exc}); the short form is used."
            )
            body = None
    if body is None:
        body = key_facts + "\n" + fallback_report(result, figures=figures, min_cell_size=min_cell_size)
    else:
        body = _drop_report_head(body)
        unreferenced = [name for name in figures if name.endswith(".svg") and f"figures/{name}" not in body]
        if unreferenced:
            body += "\n\n## More figures\n\n" + "\n".join(
                f"![Audit figure {index + 1}](figures/{name})\n" for index, name in enumerate(unreferenced)
            )
    return "\n".join(head) + "\n" + body.rstrip() + "\n"


def _drop_report_head(markdown: str) -> str:
    """The report starts with its own title and verdict paragraph; the page shows them in the box above."""
    lines = markdown.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    if lines and lines[0].startswith("**Verdict"):
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
        if lines and not lines[0].startswith("|"):  # the verdict's meaning, already in the box
            lines = lines[1:]
    return "\n".join(lines).lstrip("\n")


__all__ = ["group_table", "masked_groups", "render_audit_page", "verdict_box"]
