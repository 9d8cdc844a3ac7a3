"""The page of one audit: the verdict first in plain words, then the tables, figures and explanations.

The report module's ``render_report(published=True)`` writes the body when it is installed; until then (and if
it fails) a smaller built-in rendering is used, with the same masking of small groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from governance.escaping import markup_text
from governance.report.markdown import (
    COMPLEMENT_LABEL,
    HIDDEN,
    all_masked_sentence,
    mask_legend,
    masked_groups,
    masking,
    masking_sentence,
    small_label,
)
from governance.results.audit import AuditResult
from governance.results.commands import options_worded
from governance.results.fairness import REGRESSION_METRICS, AttributeResult
from governance.rules.evaluate import METRIC_WORDS
from governance.site.markdown import VERDICT_WORDS, admonition, estimate, percent, table
from governance.site.vouch import AuditCheck

# The report's metric names, without their explanations in brackets (table headers stay short).
METRIC_LABELS = {key: words.split(" (")[0] for key, words in METRIC_WORDS.items()}
SHOWN_METRICS = ("selection_rate", "tpr", "fpr", "precision", "accuracy", *REGRESSION_METRICS)


def verdict_box(result: AuditResult) -> str:
    """The verdict as a coloured box: the word, the policy's one-sentence summary, what it means."""
    kind, word, meaning = VERDICT_WORDS.get(result.policy.verdict, ("note", result.policy.verdict, ""))
    body = f"{markup_text(options_worded(result.policy.summary))}\n\n{meaning}"
    return admonition(kind, f"Verdict: {word}", body)


def group_table(
    attribute: AttributeResult, *, min_cell_size: int, hidden: Mapping[str, str] | None = None
) -> str:
    """One attribute's groups with sizes and metrics; masked groups labelled, with a legend under the table.

    ``hidden`` (group -> "small" or "complement") comes from :func:`masking` over the whole audit; without it
    the table is masked as if published alone.
    """
    if hidden is None:
        sizes = {group.group: group.n for group in attribute.groups}
        hidden = {
            name: "small" if sizes[name] < min_cell_size else "complement"
            for name in masked_groups(attribute, min_cell_size=min_cell_size)
        }
    if hidden and all(group.group in hidden for group in attribute.groups):
        return all_masked_sentence(len(attribute.groups), min_cell_size) + "\n"
    present = [
        metric for metric in SHOWN_METRICS if any(metric in group.metrics for group in attribute.groups)
    ]
    headers = ["Group", "People", "Share", *(METRIC_LABELS.get(metric, metric) for metric in present)]
    rows = []
    for group in attribute.groups:
        name = markup_text(group.group) + (" (unknown)" if group.is_unknown else "")
        if group.group in hidden:
            label = small_label(min_cell_size) if hidden[group.group] == "small" else COMPLEMENT_LABEL
            rows.append([name, label, *([HIDDEN] * (1 + len(present)))])
            continue
        rows.append(
            [name, str(group.n), percent(group.share), *(estimate(group.metrics.get(m)) for m in present)]
        )
    text = table(headers, rows, align=["l", "r", "r", *(["r"] * len(present))])
    if hidden:
        text += "\n" + mask_legend(list(hidden.values()), len(attribute.groups), min_cell_size) + "\n"
    return text


def no_register_note(check: AuditCheck | None) -> list[str]:
    """A note when the workspace has no register to check the audit's files against."""
    if check is None or check.status != "no-register":
        return []
    return [
        admonition(
            "note",
            "Not checked against a register",
            "This workspace has no model register, so nothing vouches that these results are the ones the "
            "audit wrote; record audits in the register (`governance audit NAME@VERSION ...`) to have them checked.",
        )
    ]


def vouch_box(check: AuditCheck | None) -> list[str]:
    """A red box, before the verdict, when the register does not vouch for the audit's files."""
    if check is None or check.status != "not-verified":
        return []
    listed = "\n".join(f"- {markup_text(problem)}" for problem in check.problems)
    return [
        admonition(
            "danger",
            "Not verified",
            "The register does not vouch for this audit: the verdict and figures below may have been changed "
            f"after the audit was recorded. Do not rely on them.\n\n{listed}",
        )
    ]


def render_audit_page(
    result: AuditResult,
    *,
    figures: list[str],
    min_cell_size: int,
    model_link: str,
    warnings: list[str],
    check: AuditCheck | None = None,
    details: list[str] | None = None,
) -> str:
    """The whole page; ``figures`` are file names already copied next to it under ``figures/``.

    With a ``details`` list, the largest tables move off the page into it (see :func:`split_details`).
    """
    head = [
        f"# Audit of {markup_text(result.model.name)} {markup_text(result.model.version)}\n",
        *vouch_box(check),
        verdict_box(result),
        *no_register_note(check),
    ]
    # after the summary, so that the box and the summary fit one screen
    card = (
        f"Model card: [{markup_text(result.model.name)}]({model_link}). "
        f"{masking_sentence(masking(result, min_cell_size), result, min_cell_size)}\n\n"
    )
    from governance.report.markdown import render_report

    body = _drop_report_head(
        render_report(
            result,
            figures={PurePosixPath(name).stem: name for name in figures if name.endswith(".svg")},
            figures_dir="figures",
            published=True,
            min_cell_size=min_cell_size,
        )
    )
    cut = body.find("## Details for auditors")
    body = body[:cut] + card + body[cut:] if cut >= 0 else card + body
    shown = body
    if details is not None:
        body, moved = split_details(body, result)
        if moved:
            details.append(moved)
    unreferenced = [name for name in figures if name.endswith(".svg") and f"figures/{name}" not in shown]
    if unreferenced:
        body += "\n\n## More figures\n\n" + "\n".join(
            f"![Audit figure {index + 1}](figures/{name})\n" for index, name in enumerate(unreferenced)
        )
    return "\n".join(head) + "\n" + body.rstrip() + "\n"


def _drop_report_head(markdown: str) -> str:
    """The report starts with its own title and, in its summary, the verdict line; the page shows both above."""
    lines = markdown.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    for index, line in enumerate(lines[:8]):
        if line.startswith("**Verdict"):
            del lines[
                index : index + 2 if index + 1 < len(lines) and not lines[index + 1].strip() else index + 1
            ]
            break
    return "\n".join(lines).lstrip("\n")


__all__ = ["group_table", "masked_groups", "render_audit_page", "verdict_box"]


DETAILS_PAGE = "details.html"
COMPARISON_HEADING = "#### Differences and ratios to the reference group"


def split_details(body: str, result: AuditResult) -> tuple[str, str]:
    """The report body without its largest tables, and those tables (for the page's details file).

    Each combination of the sensitive attributes, and every table of differences and ratios to the reference
    group, moves to the details file; the page keeps the verdict, the rules, each attribute's groups, impact
    ratios, figures and summaries. Both parts come from the same published (masked) report.
    """
    moved_headings = {
        _attribute_heading(attribute) for attribute in result.fairness.attributes if attribute.is_intersection
    }
    page: list[str] = []
    details: list[str] = []
    where, heading = "page", ""
    for line in body.splitlines():
        if line.startswith("## "):
            where = "page"
        elif line.startswith("### "):
            heading = line
            where = "whole" if line[4:] in moved_headings else "page"
            if where == "whole":
                details.append("")
        elif line.startswith(COMPARISON_HEADING) and where == "page":
            where = "comparison"
            details += ["", heading, ""]
        elif line.startswith("#### ") and where == "comparison":
            where = "page"
        if where == "comparison" and line.startswith("Summaries"):
            page.append(line)  # the summaries across groups stay with the attribute's tables
            continue
        (page if where == "page" else details).append(line)
    if not details:
        return body, ""
    return _with_details_link(page), "\n".join(details).strip() + "\n"


def _attribute_heading(attribute: AttributeResult) -> str:
    """The attribute's heading as the report writes it."""
    from governance.escaping import markdown_text

    suffix = f" (class {markdown_text(attribute.positive_class)} vs rest)" if attribute.positive_class else ""
    return markdown_text(attribute.attribute) + suffix


def _with_details_link(page: list[str]) -> str:
    """The page, with a link to the details file before its first attribute under "Results by group"."""
    sentence = (
        f"The full tables, each combination of the sensitive attributes and every difference and ratio to the "
        f"reference group, are on [a page of their own]({DETAILS_PAGE}) (the same masking applies).\n"
    )
    try:
        start = page.index("## Results by group")
    except ValueError:
        return "\n".join([*page, "", sentence])
    for index in range(start + 1, len(page)):
        if page[index].startswith("### ") or page[index].startswith("## "):
            return "\n".join([*page[:index], sentence, *page[index:]])
    return "\n".join([*page, "", sentence])


DETAILS_STYLE = (
    "body{font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "max-width:1100px;margin:2rem auto;padding:0 1rem;color:#212121;line-height:1.5}"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.85rem;display:block;overflow-x:auto}"
    "th,td{border:1px solid #e0e0e0;padding:.25rem .6rem}th{background:#f5f5f5}img{max-width:100%}"
)


def render_details_html(result: AuditResult, details: str) -> str:
    """The details file: a plain HTML page (no theme, no nav, not in the search), cheap to build at any size."""
    import html

    from governance.site.details_html import to_html

    title = html.escape(f"Full tables: audit of {result.model.name} {result.model.version}")
    body = to_html(details)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"<style>{DETAILS_STYLE}</style></head><body>\n"
        f'<p><a href="index.html">Back to the audit</a></p>\n<h1>{title}</h1>\n{body}\n</body></html>\n'
    )
