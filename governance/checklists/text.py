"""Plain-text tables for the terminal: the checklist items, and a model's status.

Terminal output is not Markdown, so nothing is escaped here; it is never written into the site.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from governance.checklists.schema import Checklist
from governance.checklists.status import STATE_LABELS, ChecklistStatus, ItemStatus
from governance.results.commands import command_of


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def items_text(checklists: Sequence[Checklist]) -> str:
    """Every item of ``checklists``: id, how it is evidenced, and its title."""
    lines: list[str] = []
    for checklist in checklists:
        automatic = sum(item.evidence.automatic for item in checklist.items)
        lines += [
            f"{checklist.title} [{checklist.framework}]: {len(checklist.items)} items, "
            f"{automatic} automatic, {len(checklist.items) - automatic} need a person's answer",
            *_table(
                ["ITEM", "EVIDENCE", "TITLE"],
                [
                    [item.id, "automatic" if item.evidence.automatic else "human", item.title]
                    for item in checklist.items
                ],
            ),
            "",
        ]
    return "\n".join(lines).rstrip("\n")


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(
        text, width=100, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )


def status_text(status: ChecklistStatus, *, framework: str | None = None) -> str:
    """A summary table per framework; then the open items (all items when one framework is chosen)."""
    chosen = [f for f in status.frameworks if framework is None or f.framework == framework]
    audit = (
        f"latest audit {status.audit_id} (verdict: {status.audit_verdict or 'none'})"
        if status.audit_id
        else "no audit yet"
    )
    labels = ["met", "open", "needs answer", "n/a"]
    rows = [[f.framework, *(str(f.counts[s]) for s in STATE_LABELS)] for f in chosen]
    if len(chosen) > 1:
        rows.append(["all", *(str(status.counts[s]) for s in STATE_LABELS)])
    lines = [
        f"Checklist status of {status.model_name} ({audit}).",
        "",
        *_table(["FRAMEWORK", *labels], rows, right=range(1, 5)),
        "",
    ]
    if status.scope_unknown:
        lines += [
            _wrap(
                f"The register does not yet say {', '.join(status.scope_unknown)} for this model, so the items "
                f"that depend on it are kept open; set it with {command_of('set_scope', {})}.",
                "",
            ),
            "",
        ]
    shown: list[ItemStatus]
    if framework is not None:
        shown = [entry for f in chosen for entry in f.items]
        heading = "Items:"
    else:
        shown = [entry for f in chosen for entry in f.items if entry.state == "not_met"]
        heading = "Open items (evidence missing, or answered no or partial):"
    if shown:
        lines.append(heading)
        for entry in shown:
            lines.append(f"  {STATE_LABELS[entry.state]:<20} {entry.item_id}  {entry.title}")
            lines.append(_wrap(entry.worded, " " * 23))
    waiting = sum(f.counts["needs_answer"] for f in chosen)
    if framework is None and waiting:
        lines += [
            "",
            f"{waiting} items need a person's answer: see them with "
            f"{command_of('checklist_status', {'model': str(status.model_name)})}, and answer with "
            f"{command_of('answer_checklist', {})}.",
        ]
    if status.unknown_answers:
        lines += [
            "",
            "Answers to items no checklist has any more: " + ", ".join(status.unknown_answers) + ".",
        ]
    return "\n".join(lines).rstrip("\n")
