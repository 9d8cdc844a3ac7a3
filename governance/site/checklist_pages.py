"""Checklist pages: every framework with every item, and each model's status per framework.

Items come from ``policies/checklists/*.yaml`` and a model's status from ``evaluate_status`` (both in
``governance.checklists``, which also writes the escaped Markdown for them); this module places them in the site,
links items to their framework page, and adds the per-framework table of models. Human items are never ticked
by the site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.errors import GovernanceError
from governance.escaping import markup_text
from governance.site.markdown import broken_notice, table
from governance.site.sources import ModelEntry


def load_frameworks(folder: Path, broken: list[str]) -> list[Any]:
    """The workspace's checklists, or none (added to ``broken``) when they cannot be loaded."""
    if not folder.is_dir() or not any(folder.glob("*.y*ml")):
        return []
    try:
        from governance.checklists import load_checklists
    except ImportError:
        return []
    try:
        return list(load_checklists(folder))
    except GovernanceError as exc:
        broken.append(f"The checklists could not be built: {exc}")
        return []


class ItemLinks:
    """Links from a page to an item's anchor on its framework page."""

    def __init__(self, frameworks: list[Any], framework_pages: dict[str, str]) -> None:
        self.page_of = {item.id: framework_pages[c.framework] for c in frameworks for item in c.items}

    def from_page(self, page: str) -> Any:
        from governance.checklists import item_anchor

        depth = page.count("/")

        def link(item_id: str) -> str | None:
            target = self.page_of.get(item_id)
            return f"{'../' * depth}{target}#{item_anchor(item_id)}" if target else None

        return link


def model_status(model: ModelEntry, frameworks: list[Any], broken: list[str]) -> Any | None:
    """The checklist module's status of one model, or ``None`` (added to ``broken``) when it cannot be judged."""
    from governance.checklists import evaluate_status
    from governance.checklists.sources import latest_audit_record, status_inputs

    # The same inputs as `governance checklist status`: the register's detail with its events, the card under it,
    # and the audit the register recorded last (not the newest folder on disk).
    fields = status_inputs({**model.register_detail, "events": model.events}, model.card)
    recorded = latest_audit_record(model.register_detail) if model.register_detail else None
    by_id = {record.result.audit_id: record for record in model.audits}
    latest = by_id.get(str(recorded.get("audit_id"))) if recorded else model.latest_audit
    try:
        status = evaluate_status(
            frameworks,
            model=fields,
            answers=model.answers,
            latest_audit=latest.full() if latest else None,
            model_name=model.name,
        )
        # The day, not the second: a page that did not change keeps its bytes, so a rebuild leaves it alone.
        return status.model_copy(update={"evaluated_at": status.evaluated_at[:10]})
    except (GovernanceError, ValueError, KeyError, TypeError) as exc:
        broken.append(f"The checklist status of {model.name} could not be judged ({exc}).")
        return None


def counts_only(status: Any) -> Any:
    """The status with its counts only: what the framework pages and the home page read of every model once its
    own page is written (each item's reasons and steps took about 200 kB per model for the whole build)."""
    frameworks = [entry.model_copy(update={"items": []}) for entry in status.frameworks]
    return status.model_copy(update={"frameworks": frameworks})


def render_framework_page(checklist: Any, statuses: dict[str, tuple[str, Any]]) -> str:
    """One framework: every item (the checklist module's page), then where each model stands on it."""
    from governance.checklists import STATE_LABELS, checklist_markdown

    lines = [checklist_markdown(checklist, heading_level=1).rstrip(), ""]
    rows = []
    for name, (link, status) in statuses.items():
        found = next((entry for entry in status.frameworks if entry.framework == checklist.framework), None)
        if found is not None:
            rows.append(
                [
                    f"[{markup_text(name)}]({link})",
                    *(str(found.counts.get(state, 0)) for state in STATE_LABELS),
                ]
            )
    if rows:
        lines += ["## Where each model stands", ""]
        lines.append(
            table(["Model", *STATE_LABELS.values()], rows, align=["l", *(["r"] * len(STATE_LABELS))])
        )
    return "\n".join(lines) + "\n"


def render_model_status_page(model: ModelEntry, status: Any | None, *, item_link: Any) -> str:
    """A model's status on every checklist, items linked to their framework pages."""
    from governance.checklists import checklist_status_markdown

    lines = [f"# Checklist status: {markup_text(model.name)}\n"]
    if status is None:
        lines.append(
            broken_notice("The checklist status of this model could not be judged; the build lists why.")
        )
    else:
        lines.append(
            "Answer the items that need a person with `governance checklist answer`; "
            "the site shows the register's answers.\n"
        )
        lines.append(checklist_status_markdown(status, heading_level=2, item_link=item_link))
    return "\n".join(lines)


def render_checklists_index(
    frameworks: list[Any], *, framework_links: dict[str, str], model_links: dict[str, str]
) -> str:
    """Every framework and every model's status page."""
    lines = [
        "# Compliance checklists\n",
        "Each framework's duties, and whether each model's evidence covers them.\n",
    ]
    lines.append(
        table(
            ["Framework", "Items", "Automatic evidence", "Human answers"],
            [
                [
                    f"[{markup_text(checklist.title)}]({framework_links[checklist.framework]})",
                    str(len(checklist.items)),
                    str(sum(1 for item in checklist.items if item.evidence.type != "human")),
                    str(sum(1 for item in checklist.items if item.evidence.type == "human")),
                ]
                for checklist in frameworks
            ],
            align=["l", "r", "r", "r"],
        )
    )
    if model_links:
        lines.append("## Status per model\n")
        lines.append(
            "\n".join(f"- [{markup_text(name)}]({link})" for name, link in model_links.items()) + "\n"
        )
    return "\n".join(lines)
