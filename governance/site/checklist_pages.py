"""Checklist pages: every framework with every item, and each model's status against them.

Items and their evidence come from ``policies/checklists/*.yaml`` (``governance.checklists``); a model's status
comes from ``evaluate_status`` and ``checklist_status_markdown`` when those are installed, and otherwise lists the
answers stored in the register. Human items are never ticked by the site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.errors import GovernanceError
from governance.site.escape import escape, escape_multiline
from governance.site.markdown import facts, table
from governance.site.sources import ModelEntry


def load_frameworks(folder: Path, warnings: list[str]) -> list[Any]:
    """The workspace's checklists, or none (with a warning) when they cannot be loaded."""
    if not folder.is_dir() or not any(folder.glob("*.y*ml")):
        return []
    try:
        from governance.checklists.loading import load_checklists
    except ImportError:
        return []
    try:
        return list(load_checklists(folder))
    except GovernanceError as exc:
        warnings.append(f"The checklists were left out of the site: {exc}")
        return []


def _evidence(item: Any) -> str:
    evidence = item.evidence
    if evidence.type == "human":
        return "a person's answer"
    named = ", ".join(
        f"`{field}`"
        for field in [*evidence.fields, *evidence.rules]
        if field.replace(".", "").replace("_", "").replace("-", "").isalnum()
    )
    where = "the latest audit" if evidence.type == "audit" else "the register"
    return f"{where}" + (f": {named}" if named else "")


def render_framework_page(checklist: Any) -> str:
    """One framework: its source and caveats, then every item with its requirement and evidence."""
    lines = [
        f"# {escape(checklist.title)}\n",
        f"Source: {escape(checklist.source)} (as of {escape(checklist.as_of)}).\n",
    ]
    lines.append(escape_multiline(checklist.description) + "\n")
    if checklist.caveats:
        body = "\n".join(f"- {escape(caveat)}" for caveat in checklist.caveats)
        lines.append(
            '!!! note "Read this first"\n\n' + "\n".join("    " + line for line in body.splitlines()) + "\n"
        )
    for item in checklist.items:
        lines.append(f"## {escape(item.title)}\n")
        lines.append(
            facts(
                [
                    ["Item", escape(item.id)],
                    ["Source", escape(item.source)],
                    ["Applies to", escape(", ".join(item.applies_when))],
                    ["Evidenced by", _evidence(item)],
                ],
            )
        )
        lines.append("\n" + escape_multiline(item.requirement) + "\n")
        if item.guidance:
            lines.append("_What a good answer looks like:_ " + escape_multiline(item.guidance) + "\n")
    return "\n".join(lines)


def render_model_status_page(
    model: ModelEntry, frameworks: list[Any], *, framework_links: dict[str, str], warnings: list[str]
) -> str:
    """A model's status on every checklist: the status module's rendering, else the stored answers."""
    lines = [f"# Checklist status: {escape(model.name)}\n"]
    rendered = _status_markdown(model, frameworks, warnings)
    if rendered is not None:
        lines.append(rendered)
    else:
        answers = {
            (str(answer.get("item_id")), str(answer.get("framework"))): answer for answer in model.answers
        }
        for checklist in frameworks:
            link = framework_links.get(checklist.framework)
            title = f"[{escape(checklist.title)}]({link})" if link else escape(checklist.title)
            lines.append(f"## {title}\n")
            rows = []
            for item in checklist.items:
                answer = answers.get((item.id, checklist.framework))
                status = escape(answer.get("status")) if answer else "not answered"
                rows.append(
                    [
                        escape(item.id),
                        escape(item.title),
                        status,
                        escape(answer.get("evidence")) if answer else "",
                    ]
                )
            lines.append(table(["Item", "Duty", "Answer", "Evidence given"], rows))
    return "\n".join(lines)


def _status_markdown(model: ModelEntry, frameworks: list[Any], warnings: list[str]) -> str | None:
    try:
        from governance.checklists import (  # type: ignore[attr-defined,unused-ignore]
            checklist_status_markdown,
            evaluate_status,
        )
    except ImportError:
        return None
    latest = model.latest_audit
    try:
        status = evaluate_status(
            frameworks,
            model=model.card,
            answers=model.answers,
            latest_audit=latest.result if latest else None,
        )
        return str(checklist_status_markdown(status))
    except Exception as exc:  # another module's code: the site still builds with the stored answers
        warnings.append(f"Checklist status for {model.name} fell back to the stored answers ({exc}).")
        return None


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
                    f"[{escape(checklist.title)}]({framework_links[checklist.framework]})",
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
        lines.append("\n".join(f"- [{escape(name)}]({link})" for name, link in model_links.items()) + "\n")
    return "\n".join(lines)
