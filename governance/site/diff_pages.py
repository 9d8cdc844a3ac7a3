"""The site's "what changed" pages: ``governance audit diff`` between two audits of a model, linked from both.

Which pairs get a page (see docs/guide/site.md): for each live version (deployed; without a register or a deployed
version, the version of the newest audit), every two consecutive audits of it, so each step since go-live can be
read; and the audit the newest approval relied on against the newest audit, so the change since the decision is
one page. Every pair of audits would be quadratic in pages and resampling, and mostly repeat these.

Small groups are masked as on the audit pages: a change is left out when its group is hidden in either audit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.escaping import markup_text
from governance.paths import page_slug
from governance.results.wording import interval_words

if TYPE_CHECKING:
    from governance.results.monitoring import AuditDiff
    from governance.site.sources import AuditRecord, ModelEntry

_QUANTITY_WORDS = {
    "value": "",
    "impact_ratio": "impact ratio",
    "ratio_to_reference": "ratio to reference",
    "difference_to_reference": "difference to reference",
}


@dataclass(frozen=True)
class DiffPair:
    """Two audits of one model to compare (``before`` is the older), and why the pair has a page."""

    before: AuditRecord
    after: AuditRecord
    why: str
    page: str  # relative to docs/generated


def _live_versions(model: ModelEntry) -> list[str]:
    deployed = [name for name, info in model.versions.items() if info.get("state") == "deployed"]
    if deployed:
        return deployed
    latest = model.latest_audit
    return [latest.result.model.version] if latest else []


def _approved_audit(model: ModelEntry, version: str) -> str | None:
    """The audit id the newest approval of ``version`` relied on, if any."""
    approvals = [
        a
        for a in model.approvals
        if str(a.get("version")) == version
        and a.get("decision", "approve") == "approve"
        and a.get("audit_id")
    ]
    newest = max(approvals, key=lambda a: (str(a.get("at") or ""), a.get("id") or 0), default=None)
    return str(newest["audit_id"]) if newest else None


def diff_pairs(model: ModelEntry) -> list[DiffPair]:
    """The pairs of audits of a model that get a page, oldest first."""
    pairs: list[DiffPair] = []
    for version in _live_versions(model):
        recorded = {
            str(a.get("audit_id")): (str(a.get("recorded_at") or ""), int(a.get("id") or 0))
            for a in model.register_detail.get("audits") or []
            if isinstance(a, dict)
        }  # audit times are to the second: the register's order breaks ties
        audits = sorted(
            (r for r in model.audits if r.result.model.version == version),
            key=lambda r: (r.created_at, recorded.get(r.result.audit_id, ("", 0))),
        )
        for before, after in itertools.pairwise(audits):
            pairs.append(_pair(model, before, after, f"consecutive audits of version {version}"))
        approved = _approved_audit(model, version)
        chosen = [r for r in audits if r.result.audit_id == approved]
        if chosen and len(audits) > 2 and audits.index(chosen[0]) < len(audits) - 2:
            pairs.append(
                _pair(
                    model,
                    chosen[0],
                    audits[-1],
                    f"the approved audit of version {version} against its newest",
                )
            )
    return pairs


def _pair(model: ModelEntry, before: AuditRecord, after: AuditRecord, why: str) -> DiffPair:
    page = f"diffs/{model.slug}/{before.slug}-to-{after.slug}.md"
    return DiffPair(before=before, after=after, why=why, page=page)


def comparisons_section(audit_id: str, pairs: list[DiffPair], link: Any) -> str:
    """The audit page's "Compared with other audits" section: a link to every diff page it is part of.

    ``link(page)`` turns a page (relative to docs/generated) into a link from the audit's page.
    """
    lines = []
    for pair in pairs:
        if audit_id == pair.before.result.audit_id:
            other, direction = pair.after, "a later audit"
        elif audit_id == pair.after.result.audit_id:
            other, direction = pair.before, "an earlier audit"
        else:
            continue
        result = other.result
        lines.append(
            f"- [What changed against {direction}: {markup_text(result.audit_id)} "
            f"({markup_text(result.provenance.created_at[:10])}, {markup_text(result.policy.verdict)})]"
            f"({link(pair.page)}): {markup_text(pair.why)}"
        )
    if not lines:
        return ""
    return "\n## Compared with other audits\n\n" + "\n".join(lines) + "\n"


def render_diff_page(
    diff: AuditDiff, pair: DiffPair, *, links: tuple[str, str], hidden: dict[str, set[str]], k: int
) -> str:
    """The page: both audits, what is called out, the rules, and every number with the interval of its change."""
    b, a = diff.before, diff.after
    level = round(diff.confidence_level * 100)
    lines = [
        f"# What changed: {markup_text(b.model)} {markup_text(b.created_at[:10])} to {markup_text(a.created_at[:10])}",
        "",
        f"This page compares {markup_text(pair.why)} (`governance audit diff {markup_text(b.audit_id)} "
        f"{markup_text(a.audit_id)}`). Each change has a {level} % interval from both audits' counts resampled "
        "together: a change whose interval includes 0 may be noise.",
        "",
        "| | Before | After |",
        "|---|---|---|",
        f"| Audit | [{markup_text(b.audit_id)}]({links[0]}) | [{markup_text(a.audit_id)}]({links[1]}) |",
        f"| Version | {markup_text(b.version)} | {markup_text(a.version)} |",
        f"| Date | {markup_text(b.created_at[:10])} | {markup_text(a.created_at[:10])} |",
        f"| Verdict | {markup_text(b.verdict)} | {markup_text(a.verdict)} |",
        f"| Rows | {b.n_rows:,} | {a.n_rows:,} |",
        f"| Policy | {markup_text(b.policy_name)} | {markup_text(a.policy_name)} |",
        "",
    ]
    lines += [f"- **Changed:** {markup_text(note)}" for note in diff.called_out]
    lines += _groups(diff, hidden)
    lines += _rules(diff)
    lines += _metrics(diff, hidden, k, level)
    if diff.worse:
        lines += ["", "## Worse", ""] + [f"- {markup_text(sentence)}" for sentence in diff.worse]
    return "\n".join(lines) + "\n"


def _masked(attribute: str, group: str, hidden: dict[str, set[str]]) -> bool:
    return group in hidden.get(attribute, set())


def _split(entry: str) -> tuple[str, str]:
    attribute, _, group = entry.partition(" = ")
    return attribute, group


def _groups(diff: AuditDiff, hidden: dict[str, set[str]]) -> list[str]:
    out = []
    for label, entries in (
        ("only in the newer audit", diff.groups_added),
        ("only in the older audit", diff.groups_lost),
    ):
        shown = [e for e in entries if not _masked(*_split(e), hidden)]
        out += [f"- Group {label}: {markup_text(entry)}" for entry in shown]
    return out


def _rules(diff: AuditDiff) -> list[str]:
    if not diff.rules:
        return []
    rows = [
        f"| {markup_text(r.rule_id)} | {markup_text(r.severity)} | {markup_text(r.before or '—')} | "
        f"{markup_text(r.after or '—')} | {markup_text(r.movement)} |"
        for r in diff.rules
    ]
    return [
        "",
        "## Rules",
        "",
        "| Rule | Severity | Before | After | Movement |",
        "|---|---|---|---|---|",
        *rows,
    ]


def _estimate(estimate: Any) -> str:
    return interval_words(estimate, missing="—")


def _metrics(diff: AuditDiff, hidden: dict[str, set[str]], k: int, level: int) -> list[str]:
    shown = [m for m in diff.metrics if not _masked(m.attribute, m.group, hidden)]
    left_out = len(diff.metrics) - len(shown)
    out = ["", "## Every group's numbers", ""]
    if not shown:
        out.append("No number to compare.")
    else:
        out += [
            f"| Group | Metric | Before | After | Change ({level} % interval) | Beyond noise |",
            "|---|---|---|---|---|---|",
        ]
        for m in shown:
            what = " ".join(p for p in (m.metric, _QUANTITY_WORDS[m.quantity]) if p)
            flag = "**worse**" if m.worsened else ("yes" if m.beyond_noise else "no")
            out.append(
                f"| {markup_text(m.attribute)} = {markup_text(m.group)} | {markup_text(what)} | "
                f"{_estimate(m.before)} | {_estimate(m.after)} | {_estimate(m.change)} | {flag} |"
            )
    if left_out:
        out += [
            "",
            f"{left_out} numbers of groups with fewer than {k} people are left out, as on the audit pages.",
        ]
    return out


def pair_key(pair: DiffPair) -> str:
    """A stable name for a pair (for the build's records)."""
    return page_slug(f"{pair.before.result.audit_id}-{pair.after.result.audit_id}")
