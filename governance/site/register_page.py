"""The generated part's front page: the register of models, and links to everything else generated."""

from __future__ import annotations

from governance.site.escape import escape
from governance.site.markdown import VERDICT_WORDS, table
from governance.site.sources import SiteSources


def render_register_page(
    sources: SiteSources,
    *,
    organisation: str,
    model_links: dict[str, str],
    audit_links: dict[str, str],
    extra_links: list[tuple[str, str]],
    built_at: str,
) -> str:
    """One row per model: status, last verdict (linked to its audit), next audit due; then the other sections.

    ``model_links`` and ``audit_links`` map model names and audit ids to pages relative to this one.
    """
    rows = []
    for name, model in sources.models.items():
        latest = model.latest_audit
        verdict = latest.result.policy.verdict if latest else None
        rows.append(
            [
                f"[{escape(name)}]({model_links[name]})",
                escape(model.status) if model.status else "not registered",
                escape(latest.result.model.version) if latest else "—",
                f"[{VERDICT_WORDS[verdict][1]}]({audit_links[latest.result.audit_id]})"
                + (" (not verified)" if latest is not None and latest.check.status == "not-verified" else "")
                if latest is not None and verdict in VERDICT_WORDS
                else "not audited",
                escape(latest.created_at[:10]) if latest else "—",
                escape(model.next_audit_due or "—"),
            ]
        )
    parts = [
        "# Model register\n",
        f"Every model of {escape(organisation)} that has an audit or a register entry, "
        f"as of {escape(built_at)}. Open a model for its card, its audits and who approved it.\n",
        table(["Model", "Status", "Latest version", "Last verdict", "Audited on", "Next audit due"], rows),
    ]
    if sources.register_head is not None:
        head = sources.register_head
        parts.append(
            f"\nThe register's history ends at event {escape(str(head.get('seq')))}, whose hash (the chain head) is "
            f"`{escape(str(head.get('hash')))}`. Keep it: `governance register verify --expect-head HASH` "
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
        parts.append(f'\n!!! warning "Skipped"\n\n    {escape(problem)}\n')
    return "\n".join(parts)
