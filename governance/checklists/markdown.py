"""Checklists and checklist status as Markdown pages for the policy site.

Everything that came from a person or the register (answers, model names, evidence text) is escaped with
:func:`governance.escaping.markdown_text`; item ids are safe by construction (the schema allows only ``a-z``, ``0-9``, ``.``
and ``-``). Item anchors are ``item_anchor(item_id)``, so other pages can link to ``page.md#anchor``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from governance.checklists.schema import CONDITIONS, Checklist, ChecklistItem
from governance.checklists.status import STATE_LABELS, ChecklistStatus, FrameworkStatus, ItemStatus
from governance.escaping import markdown_text

ItemLink = Callable[[str], str | None]

_EVIDENCE_WORDS = {
    "audit": "automatic, from the audit",
    "register": "automatic, from the register",
    "monitoring": "automatic, from the register's monitoring runs",
    "human": "a person's answer",
}
_STATE_MARKS = {
    "met": "**met**",
    "not_met": "**open**",
    "needs_answer": "needs a human answer",
    "not_applicable": "not applicable",
}


def item_anchor(item_id: str) -> str:
    """The HTML id of an item on a checklist page: the id with dots as dashes."""
    return item_id.replace(".", "-")


def evidence_words(item: ChecklistItem) -> str:
    """How the item is evidenced, in plain words (with the fields named for automatic items)."""
    words = _EVIDENCE_WORDS[item.evidence.type]
    if item.evidence.fields:
        words += f" ({', '.join(item.evidence.fields)})"
    if item.evidence.rules:
        words += f"; a failed audit still counts if its rule(s) {', '.join(item.evidence.rules)} passed"
    if item.evidence.max_age_days:
        what = "a run" if item.evidence.type == "monitoring" else "audit"
        words += f", {what} younger than {item.evidence.max_age_days} days"
    return words


def checklist_markdown(checklist: Checklist, *, heading_level: int = 1) -> str:
    """One framework's checklist as a page: what it is, its caveats, then every item with an anchor."""
    hashes = "#" * heading_level
    lines = [
        f"{hashes} {markdown_text(checklist.title)}",
        "",
        markdown_text(checklist.description),
        "",
        f"Source: {markdown_text(checklist.source)}. Checked against the source on {markdown_text(checklist.as_of)}.",
        "",
    ]
    for caveat in checklist.caveats:
        lines += [f"- {markdown_text(caveat)}"]
    if checklist.caveats:
        lines.append("")
    automatic = sum(item.evidence.automatic for item in checklist.items)
    lines += [
        f"{len(checklist.items)} items: {automatic} can be evidenced automatically, "
        f"{len(checklist.items) - automatic} need a person's answer.",
        "",
    ]
    for item in checklist.items:
        applies = "; ".join(CONDITIONS[condition] for condition in item.applies_when)
        lines += [
            f'<a id="{item_anchor(item.id)}"></a>',
            "",
            f"{hashes}# {markdown_text(item.title)}",
            "",
            f"`{item.id}` · {markdown_text(item.source)}",
            "",
            f"- **Requirement:** {markdown_text(item.requirement)}",
            f"- **Applies to:** {markdown_text(applies)}",
            f"- **Evidence:** {markdown_text(evidence_words(item))}",
            f"- **A good answer:** {markdown_text(item.guidance)}",
            "",
        ]
    return "\n".join(lines)


def _counts_row(label: str, counts: dict[str, int]) -> str:
    cells = " | ".join(str(counts.get(state, 0)) for state in STATE_LABELS)
    return f"| {label} | {cells} |"


def _summary_table(frameworks: Sequence[FrameworkStatus], status: ChecklistStatus) -> list[str]:
    header = "| Framework | " + " | ".join(STATE_LABELS.values()) + " |"
    lines = [header, "|---|" + "---:|" * len(STATE_LABELS)]
    lines += [_counts_row(markdown_text(framework.title), framework.counts) for framework in frameworks]
    if len(frameworks) > 1:
        lines.append(_counts_row("**All**", status.counts))
    return lines


def _item_row(entry: ItemStatus, item_link: ItemLink | None) -> str:
    target = item_link(entry.item_id) if item_link is not None else None
    title = markdown_text(entry.title)
    item = f"[{title}]({target}) `{entry.item_id}`" if target else f"{title} `{entry.item_id}`"
    reason = markdown_text(entry.worded)
    if entry.answer is not None:
        who = markdown_text(entry.answer.actor or "someone")
        when = f" on {markdown_text(entry.answer.created_at)}" if entry.answer.created_at else ""
        reason += f" (answer by {who}{when})"
    pointer = markdown_text(entry.pointer) if entry.pointer else ""
    return f"| {item} | {_STATE_MARKS[entry.state]} | {reason} | {pointer} |"


def checklist_status_markdown(
    status: ChecklistStatus,
    *,
    frameworks: Sequence[str] | None = None,
    heading_level: int = 2,
    item_link: ItemLink | None = None,
) -> str:
    """A model's checklist status as Markdown: a summary table, then one table per framework.

    Every cell that holds text from the register or a person is escaped. ``item_link`` maps an item id to a
    relative link (for example to the framework's checklist page and :func:`item_anchor`).
    """
    chosen = [f for f in status.frameworks if frameworks is None or f.framework in frameworks]
    hashes = "#" * heading_level
    audit = (
        f"the latest audit {markdown_text(status.audit_id)} (verdict: {markdown_text(status.audit_verdict)})"
        if status.audit_id
        else "no audit yet"
    )
    lines = [
        f"Judged on {audit}, on {markdown_text(status.evaluated_at)}. Items that need a person's answer are "
        "never ticked automatically; an item evidenced by the audit counts as met only when the audit holds the "
        "evidence and passed.",
        "",
        *_summary_table(chosen, status),
        "",
    ]
    if status.scope_unknown:
        fields = ", ".join(markdown_text(field) for field in status.scope_unknown)
        lines += [
            f"The register does not yet say {fields} for this model, so the items that depend on it are kept "
            "open until someone answers it.",
            "",
        ]
    for framework in chosen:
        lines += [
            f"{hashes} {markdown_text(framework.title)}",
            "",
            "| Item | State | Why | Evidence |",
            "|---|---|---|---|",
            *(_item_row(entry, item_link) for entry in framework.items),
            "",
        ]
    if status.unknown_answers:
        shown = ", ".join(markdown_text(item_id) for item_id in status.unknown_answers)
        lines += [f"Answers to items no checklist has any more (renamed or removed): {shown}.", ""]
    return "\n".join(lines)
