"""The page of one audit: the verdict first in plain words, then the tables, figures and explanations.

The report module's ``render_report(published=True)`` writes the body when it is installed; until then (and if
it fails) a smaller built-in rendering is used, with the same masking of small groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from governance.policy.evaluate import METRIC_WORDS
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
from governance.results.fairness import REGRESSION_METRICS, AttributeResult
from governance.escaping import markup_text
from governance.site.markdown import VERDICT_WORDS, admonition, estimate, percent, table
from governance.site.vouch import AuditCheck

# The report's metric names, without their explanations in brackets (table headers stay short).
METRIC_LABELS = {key: words.split(" (")[0] for key, words in METRIC_WORDS.items()}
SHOWN_METRICS = ("selection_rate", "tpr", "fpr", "precision", "accuracy", *REGRESSION_METRICS)


def verdict_box(result: AuditResult) -> str:
    """The verdict as a coloured box: the word, the policy's one-sentence summary, what it means."""
    kind, word, meaning = VERDICT_WORDS.get(result.policy.verdict, ("note", result.policy.verdict, ""))
    body = f"{markup_text(result.policy.summary)}\n\n{meaning}"
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
) -> str:
    """The whole page; ``figures`` are file names already copied next to it under ``figures/``."""
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
    details = body.find("## Details for auditors")
    body = body[:details] + card + body[details:] if details >= 0 else card + body
    unreferenced = [name for name in figures if name.endswith(".svg") and f"figures/{name}" not in body]
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
