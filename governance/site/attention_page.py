"""What needs attention, for the top of the home page and the register page.

From the register's status (audits overdue or due soon, versions deployed without approval, changed or missing
files), the verdict of each model's live version (or newest, when none is live), incidents, and the checklist
items still open. Every line links to the page that explains it, so a risk officer can start from the home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.escaping import markup_text
from governance.site.sources import ModelEntry, SiteSources

_HEADINGS = {
    "overdue": "Audit overdue",
    "expiring": "Audit due soon",
    "unapproved": "Deployed without approval",
    "alerts": "Open monitoring alerts",
    "changed": "File changed or missing",
    "unrecorded": "Audit folder the register does not know",
}


@dataclass(frozen=True)
class AttentionLinks:
    """Pages to link to, relative to the page the block lands on."""

    models: dict[str, str]  # model name -> its card
    audits: dict[str, str]  # audit id -> its page
    checklists: dict[str, str]  # model name -> its checklist status page


def attention_items(
    sources: SiteSources, statuses: dict[str, Any], links: AttentionLinks
) -> list[tuple[str, str]]:
    """(kind, Markdown line) for everything that needs a person, in the order a reader should act on it."""
    items: list[tuple[str, str]] = []
    for name, model in sources.models.items():
        card = f"[{markup_text(name)}]({links.models[name]})"
        if model.overview is not None:
            items += [
                (item.category, f"**{_HEADINGS[item.category]}** — {card}: {markup_text(item.worded)}")
                for item in model.overview.attention
            ]
        items += _verdict_items(model, card, links)
        items += _incident_items(model, card)
        items += _checklist_items(name, statuses.get(name), card, links)
    order = [
        "unapproved",
        "overdue",
        "alerts",
        "failed",
        "changed",
        "unrecorded",
        "inconclusive",
        "incident",
        "expiring",
        "checklist",
    ]
    return sorted(items, key=lambda item: order.index(item[0]))


def _verdict_items(model: ModelEntry, card: str, links: AttentionLinks) -> list[tuple[str, str]]:
    record = model.shown_audit
    if record is None:
        return []
    verdict = record.result.policy.verdict
    if verdict not in ("failed", "inconclusive"):
        return []
    version = markup_text(record.result.model.version)
    live = model.overview is not None and any(
        v.version == record.result.model.version for v in model.overview.deployed
    )
    which = "live version" if live else "version"
    page = links.audits.get(record.result.audit_id)
    audit = f"[{verdict}]({page})" if page else verdict
    return [
        (
            verdict,
            f"**Latest audit {verdict}** — {card} {which} {version}: the audit {audit}; read what to do there.",
        )
    ]


def _incident_items(model: ModelEntry, card: str) -> list[tuple[str, str]]:
    if model.overview is None:
        return []
    found = [
        (v.version, v.incidents) for v in model.overview.versions if v.incidents and v.state != "retired"
    ]
    return [
        (
            "incident",
            f"**Incident reported** — {card} version {markup_text(version)}: {count} incident"
            f"{'s' if count != 1 else ''} recorded; see its lifecycle.",
        )
        for version, count in found
    ]


def _checklist_items(name: str, status: Any, card: str, links: AttentionLinks) -> list[tuple[str, str]]:
    if status is None or name not in links.checklists:
        return []
    counts = {key: value for key, value in (getattr(status, "counts", None) or {}).items() if value}
    waiting = counts.get("not_met", 0) + counts.get("needs_answer", 0)
    if not waiting:
        return []
    return [
        (
            "checklist",
            f"**Checklist items open** — {card}: {waiting} item{'s' if waiting != 1 else ''} not met or awaiting an "
            f"answer ([checklist status]({links.checklists[name]})).",
        )
    ]


def render_attention(items: list[tuple[str, str]], *, register_available: bool) -> str:
    """The block: a heading, one bullet per item, or one sentence saying that nothing needs attention."""
    lines = ["## Needs attention\n"]
    if not register_available:
        lines.append(
            "_There is no register yet, so deployments, approvals and due dates are unknown; "
            "`governance register add` starts one._\n"
        )
    if not items:
        lines.append(
            "Nothing needs attention: no audit is overdue or due within 30 days, every live version is approved "
            "and was audited without a failure, no file changed, no incident is recorded and no checklist item "
            "is open.\n"
        )
        return "\n".join(lines)
    lines.append("\n".join(f"- {line}" for _, line in items) + "\n")
    return "\n".join(lines)
