"""The generated part's front page: the register of models, and links to everything else generated."""

from __future__ import annotations

from typing import Any

from governance.escaping import markup_text
from governance.register.overview import VersionOverview
from governance.site.markdown import VERDICT_WORDS, table
from governance.site.sources import AuditRecord, ModelEntry, SiteSources


def render_register_page(
    sources: SiteSources,
    *,
    organisation: str,
    model_links: dict[str, str],
    audit_links: dict[str, str],
    extra_links: list[tuple[str, str]],
    built_at: str,
    attention: str = "",
) -> str:
    """One row per model: the live version, its approval and evidence, the newest version, the next audit due.

    ``model_links`` and ``audit_links`` map model names and audit ids to pages relative to this one.
    """
    parts = [
        "# Model register\n",
        f"Every model of {markup_text(organisation)} that has an audit or a register entry, "
        f"as of {markup_text(built_at)}. Open a model for its card, its audits and who approved it.\n",
        attention,
        render_models(sources, model_links, audit_links),
    ]
    if sources.register_head is not None:
        head = sources.register_head
        parts.append(
            f"\nThe register's history ends at event {markup_text(str(head.get('seq')))}, whose hash (the chain head) is "
            f"`{markup_text(str(head.get('hash')))}`. Keep it: `governance register verify --expect-head HASH` "
            "later shows whether any event up to this one was removed or rewritten.\n"
        )
    if not sources.register_available:
        parts.append(
            "\n_No register database was found, so status and approvals are missing; "
            "`governance register add` starts one._\n"
        )
    if extra_links:
        parts.append("\n## Also here\n")
        parts.append("\n".join(f"- [{title}]({link})" for title, link in extra_links) + "\n")
    for problem in sources.problems:
        parts.append(f'\n!!! warning "Skipped"\n\n    {markup_text(problem)}\n')
    for warning in sources.register_warnings:
        parts.insert(2, f'!!! warning "Who approved"\n\n    {markup_text(warning)}\n')
    return "\n".join(parts)


def render_models(
    sources: SiteSources, model_links: dict[str, str], audit_links: dict[str, str], heading: str = "Models"
) -> str:
    """The register's table, one row per model: which version is live, on what approval and evidence, the newest
    version and the next audit due (the register page's, and the site's home page's under "What is live")."""
    rows = [_row(model, model_links[name], audit_links) for name, model in sources.models.items()]
    if not rows:
        return f"## {heading}\n\nNo model is audited or registered yet.\n"
    return "\n".join(
        [
            f"## {heading}\n",
            "A model's **live version** is the one deployed now; the newest version is shown beside it when it "
            "is another one (being audited or awaiting approval).\n",
            table(
                ["Model", "Live version", "Approval", "Evidence", "Newest version", "Next audit due"], rows
            ),
        ]
    )


def _verdict_link(record: AuditRecord | None, audit_links: dict[str, str]) -> str:
    if record is None:
        return "not audited"
    verdict = record.result.policy.verdict
    word = VERDICT_WORDS[verdict][1] if verdict in VERDICT_WORDS else markup_text(verdict)
    flag = " (not verified)" if record.check.status == "not-verified" else ""
    day = markup_text(record.created_at[:10])
    return f"[{word}]({audit_links[record.result.audit_id]}){flag}, {day}"


def _approval_cell(version: VersionOverview | None) -> str:
    if version is None or version.approval is None:
        return "**none**" if version is not None and version.state == "deployed" else "—"
    approval = version.approval
    verb = "approved" if approval.decision == "approve" else "**rejected**"
    text = f"{verb} by {markup_text(approval.actor)} ({markup_text(approval.role)}), {markup_text(approval.at[:10])}"
    if approval.risk_acceptance:
        text += f"; risk accepted: {markup_text(approval.risk_acceptance)}"
    return text


def _row(model: ModelEntry, model_link: str, audit_links: dict[str, str]) -> list[str]:
    """A model's row; from the register's overview when there is one, else from its audits alone."""
    name = f"[{markup_text(model.name)}]({model_link})"
    due = markup_text(model.next_audit_due or "—")
    view = model.overview
    if view is None:
        latest = model.latest_audit
        version = markup_text(latest.result.model.version) if latest else "—"
        return [name, "not in the register", "—", _verdict_link(latest, audit_links), version, due]
    by_id = {record.result.audit_id: record for record in model.audits}

    def evidence(version: VersionOverview | None) -> str:
        audit = version.current_audit if version is not None else None
        return _verdict_link(by_id.get(audit.audit_id), audit_links) if audit is not None else "not audited"

    live = view.deployed[-1] if view.deployed else None
    live_text = "not deployed"
    if live is not None:
        since = f", since {markup_text(live.deployed_since[:10])}" if live.deployed_since else ""
        live_text = f"**{markup_text(live.version)}**{since}"
    newest = view.newest
    newest_text = "—"
    if newest is not None and live is None:
        newest_text = f"{markup_text(newest.version)} ({markup_text(newest.state)})"
    elif newest is not None and live is not None and newest.version != live.version:
        newest_text = f"{markup_text(newest.version)} ({markup_text(newest.state)}): {evidence(newest)}"
    elif newest is not None:
        newest_text = "the live version"
    shown = live or newest
    return [
        name + _alert_flag(view, model_link),
        live_text,
        _approval_cell(shown),
        evidence(shown),
        newest_text,
        due,
    ]


def _alert_flag(view: Any, model_link: str) -> str:
    """A flag after the model's name when a version has open monitoring alerts, linked to the card's section."""
    alerts = [item for item in view.attention if item.category == "alerts"]
    if not alerts:
        return ""
    versions = ", ".join(markup_text(f"{item.version}") for item in alerts)
    return f" — **[open monitoring alerts]({model_link}#monitoring-after-go-live)** ({versions})"
