"""The page of one model: its model card, lifecycle timeline, approvals and fairness ratios across versions.

The card follows the fields of Google's Model Card Toolkit and Hugging Face model cards (details, intended use,
out-of-scope uses, training and evaluation data, metrics, considerations), extended with results per group and
their intervals. Fields nobody filled in say where to fill them in, rather than staying silently empty.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from governance.escaping import markup_multiline, markup_text
from governance.report.markdown import masking, masking_sentence
from governance.results.wording import level_words, vouched_words
from governance.site.audit_page import METRIC_LABELS, group_table
from governance.site.figures import ratio_series
from governance.site.markdown import VERDICT_WORDS, estimate, facts, table
from governance.site.monitoring_section import render_monitoring
from governance.site.sources import AuditRecord, ModelEntry

TIME_KEYS = ("at", "created_at", "timestamp", "time", "approved_at", "answered_at")
KIND_KEYS = ("type", "kind", "event", "action", "event_type")
DETAIL_KEYS = ("summary", "details", "detail", "note", "message", "reason", "payload")


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def _detail(value: Any) -> str:
    if isinstance(value, dict):
        return markup_text(
            "; ".join(f"{key}: {item}" for key, item in sorted(value.items()) if item not in (None, ""))
        )
    return markup_text(value)


def _card_value(model: ModelEntry, key: str) -> Any:
    aliases = {
        "owners": ("owners", "owner"),
        "intended_use": ("intended_use", "purpose", "description"),
        "out_of_scope": ("out_of_scope", "out_of_scope_uses", "restrictions"),
        "training_data": ("training_data",),
        "evaluation_data": ("evaluation_data",),
        "limitations": ("limitations",),
        "tradeoffs": ("tradeoffs", "trade_offs"),
        "risks": ("risks", "risks_and_mitigations"),
        "ethical_considerations": ("ethical_considerations",),
        "intended_users": ("intended_users", "users"),
    }
    for alias in aliases.get(key, (key,)):
        value = model.card.get(alias)
        if value not in (None, "", []):
            return value
    return None


def _field(model: ModelEntry, key: str, label: str) -> str:
    value = _card_value(model, key)
    if value is None:
        return f"_Not recorded yet: add `{key}` under `models:` › this model in governance.yaml._\n"
    if isinstance(value, list):
        return "\n".join(f"- {markup_text(item)}" for item in value) + "\n"
    return markup_multiline(value) + "\n"


def timeline_rows(model: ModelEntry) -> list[tuple[str, list[str]]]:
    """(sort key, row) for every register event and every audit on disk, oldest first."""
    rows: list[tuple[str, list[str]]] = []
    for event in model.events:
        when = str(_first(event, TIME_KEYS) or "")
        rows.append(
            (
                when,
                [
                    markup_text(when[:19].replace("T", " ")),
                    markup_text(_first(event, KIND_KEYS) or "event"),
                    markup_text(event.get("version") or ""),
                    markup_text(event.get("actor") or ""),
                    _detail(_first(event, DETAIL_KEYS)),
                ],
            )
        )
    if not model.events:
        for record in model.audits:
            result = record.result
            rows.append(
                (
                    record.created_at,
                    [
                        markup_text(record.created_at[:19].replace("T", " ")),
                        "audit",
                        markup_text(result.model.version),
                        "",
                        markup_text(f"verdict {result.policy.verdict}"),
                    ],
                )
            )
    return sorted(rows, key=lambda item: item[0])


def _standing_lines(model: ModelEntry) -> list[str]:
    """Where the model stands in the register, in `register show`'s sentences, and what needs attention."""
    if model.overview is None:
        return []
    from governance.register.describe import standing

    return [
        "## Where it stands\n",
        "\n".join(f"- {markup_text(sentence)}" for sentence in standing(model.overview)) + "\n",
        *(
            f'!!! warning "Needs attention"\n    {markup_text(item.message)}\n'
            for item in model.overview.attention
        ),
    ]


def _card_facts(model: ModelEntry, latest: AuditRecord | None, audit_links: dict[str, str]) -> list[str]:
    """The status, the version described, its verdict and the next audit due, in one table."""
    verdict = latest.result.policy.verdict if latest else None
    word = VERDICT_WORDS[verdict][1] if verdict in VERDICT_WORDS else "not audited yet"
    if latest is not None and latest.check.status == "not-verified":
        word += " (not verified)"
    lines = [
        facts(
            [
                ["Status in the register", markup_text(model.status or "not in the register")],
                [
                    "Version described on this card",
                    markup_text(latest.result.model.version) if latest else "—",
                ],
                [
                    "Its verdict",
                    f"[{word}]({audit_links[latest.result.audit_id]})" if latest else word,
                ],
                [
                    "Next audit due",
                    markup_text(model.next_audit_due or "no date set (no policy maximum age)"),
                ],
                [
                    "Automated employment decision tool",
                    "yes (NYC Local Law 144 applies)" if model.is_aedt else "no",
                ],
            ],
        )
    ]
    if latest is None:
        lines.append(
            "\nThis model has no audit yet. Run `governance audit` on a holdout set, then rebuild the site.\n"
        )
    return lines


def _lineage_words(model: ModelEntry) -> list[str]:
    """Versions made by ``governance mitigate``: where each came from, how, and whether it decides with a
    sensitive attribute."""
    words = []
    for version, record in sorted(model.versions.items()):
        lineage = (
            (record.get("source") or {}).get("lineage") if isinstance(record.get("source"), dict) else None
        )
        if not isinstance(lineage, dict):
            continue
        uses = ", deciding with a sensitive attribute" if lineage.get("uses_sensitive_at_decision") else ""
        words.append(
            f"{version}: from {lineage.get('mitigated_from')} by {lineage.get('method')} "
            f"({lineage.get('constraint') or 'no constraint'}, seed {lineage.get('seed')}{uses})"
        )
    return words


def _details_lines(model: ModelEntry, latest: AuditRecord | None) -> list[str]:
    """Owners, versions, files that run code when loaded, the estimator; then the card's use and data fields."""
    details = [
        ["Owners", _field(model, "owners", "Owners").strip()],
        ["Versions", markup_text(", ".join(sorted(model.versions))) or "—"],
    ]
    vouched = [
        f"{version}: {vouched_words(str(record['vouched_by']), record.get('vouched_at'))}"
        for version, record in sorted(model.versions.items())
        if record.get("vouched_by")
    ]
    if vouched:
        details.append(["Model files that run code when loaded", markup_text("; ".join(vouched))])
    lineage = _lineage_words(model)
    if lineage:
        details.append(["Mitigated candidates", markup_text("; ".join(lineage))])
    if latest is not None:
        info = latest.result.model
        details += [
            ["Estimator", markup_text(info.estimator or info.kind)],
            ["Model file SHA-256", markup_text(info.sha256 or "—")],
        ]
    lines = ["## Model details\n", facts(details)]
    for key, label in (
        ("intended_use", "Intended use"),
        ("intended_users", "Intended users"),
        ("out_of_scope", "Out-of-scope uses and restrictions"),
    ):
        lines += [f"## {label}\n", _field(model, key, label)]
    lines += ["## Training data\n", _field(model, "training_data", "Training data"), "## Evaluation data\n"]
    if _card_value(model, "evaluation_data") is not None:
        lines.append(_field(model, "evaluation_data", "Evaluation data"))
    if latest is not None:
        data = latest.result.data
        lines.append(
            f"The latest audit used {markup_text(PurePosixPath(data.path).name)} ({data.n_rows} rows), "
            f"target {markup_text(data.target or 'none (predictions only)')}, "
            f"sensitive attributes {markup_text(', '.join(data.sensitive))}.\n"
        )
    return lines


def _metric_lines(latest: AuditRecord, min_cell_size: int) -> list[str]:
    """The described audit's overall metrics and its group tables, small cells masked."""
    fairness = latest.result.fairness
    lines = [
        "## Metrics\n",
        f"Overall, on {fairness.n_rows} rows, with {level_words(fairness.confidence_level)} confidence "
        f"intervals (score intervals for rates; {fairness.n_boot} bootstrap resamples for AUC, Brier and "
        "regression metrics):\n",
        table(
            ["Metric", "Value (interval)"],
            [
                [markup_text(METRIC_LABELS.get(key, key)), estimate(value)]
                for key, value in fairness.overall.items()
            ],
            align=["l", "r"],
        ),
        "## Results per group\n",
    ]
    masks = masking(latest.result, min_cell_size)
    lines.append(masking_sentence(masks, latest.result, min_cell_size) + "\n")
    for attribute in fairness.attributes:
        title = markup_text(attribute.attribute)
        if attribute.positive_class is not None:
            title += f" (class {markup_text(attribute.positive_class)})"
        lines.append(f"### By {title}\n")
        lines.append(
            group_table(attribute, min_cell_size=min_cell_size, hidden=masks.get(attribute.attribute, {}))
        )
    return lines


def _ratio_lines(model: ModelEntry, figure: str | None) -> list[str]:
    """The key fairness ratios of every audited version, as a figure and a table."""
    lines = ["## Fairness ratios across versions\n"]
    series = ratio_series(model)
    if figure:
        lines.append(f"![Key fairness ratios by version](figures/{figure})\n")
    if not series:
        return [*lines, "_No audit with ratios yet._\n"]
    rows = [
        [markup_text(label), markup_text(version), estimate_text(value, low, high)]
        for label, points in sorted(series.items())
        for version, value, low, high in points
    ]
    lines.append(
        "A ratio of 1 means equal treatment; below 0.8 fails the four-fifths screen.\n\n"
        + table(["Ratio", "Version", "Value (interval)"], rows, align=["l", "l", "r"])
    )
    return lines


def _considerations_and_lifecycle(model: ModelEntry) -> list[str]:
    lines = ["## Considerations\n"]
    for key, label in (
        ("limitations", "Limitations"),
        ("tradeoffs", "Trade-offs"),
        ("risks", "Risks and mitigations"),
        ("ethical_considerations", "Ethical considerations"),
    ):
        lines += [f"### {label}\n", _field(model, key, label)]
    return [
        *lines,
        "## Lifecycle\n",
        table(["When (UTC)", "What", "Version", "Who", "Details"], [row for _, row in timeline_rows(model)]),
    ]


def _approval_comment(approval: dict[str, Any]) -> str:
    """The comment, and for a mitigated candidate the choice on record ("chosen ... over: ...")."""
    from governance.register.mitigation import chosen_words

    parts = [
        str(_first(approval, ("comment", "note", "reason")) or ""),
        chosen_words(approval.get("chosen_from")),
    ]
    return markup_text(" ".join(part for part in parts if part))


def _approval_lines(model: ModelEntry) -> list[str]:
    approvals = [
        [
            markup_text(str(_first(approval, TIME_KEYS) or "")[:19].replace("T", " ")),
            markup_text(approval.get("version") or ""),
            markup_text(approval.get("role") or ""),
            markup_text(approval.get("decision") or "approve"),
            markup_text(approval.get("actor") or approval.get("approver") or ""),
            markup_text(approval.get("risk_acceptance")) if approval.get("risk_acceptance") else "—",
            _approval_comment(approval),
        ]
        for approval in model.approvals
    ]
    if not approvals:
        return ["## Approvals\n", "_No approval recorded in the register yet._\n"]
    return [
        "## Approvals\n",
        table(
            ["When (UTC)", "Version", "Role", "Decision", "Who", "Risk accepted because", "Comment"],
            approvals,
        ),
    ]


def _audit_list_lines(model: ModelEntry, audit_links: dict[str, str]) -> list[str]:
    """Every audit of the model, newest first, linked to its page."""
    audit_rows = [
        [
            markup_text(record.created_at[:19].replace("T", " ")),
            markup_text(record.result.model.version),
            f"[{markup_text(record.result.policy.verdict)}]({audit_links[record.result.audit_id]})"
            + (" (not verified)" if record.check.status == "not-verified" else ""),
            markup_text(record.result.audit_id),
        ]
        for record in sorted(model.audits, key=lambda record: record.created_at, reverse=True)
    ]
    return ["## Audits\n", table(["When (UTC)", "Version", "Verdict", "Audit"], audit_rows)]


def _see_also_lines(checklist_link: str | None, ll144_link: str | None) -> list[str]:
    more = []
    if checklist_link:
        more.append(f"- [Compliance checklist status]({checklist_link})")
    if ll144_link:
        more.append(f"- [NYC Local Law 144 published summary]({ll144_link})")
    return ["## See also\n", "\n".join(more) + "\n"] if more else []


def render_model_page(
    model: ModelEntry,
    *,
    audit_links: dict[str, str],
    figure: str | None,
    checklist_link: str | None,
    ll144_link: str | None,
    min_cell_size: int,
    monitoring_figure: str | None = None,
    mitigation: str = "",
) -> str:
    """The model card page. ``audit_links`` maps audit ids to page paths relative to this page.

    It describes the live (deployed) version first: its approval, the audit of its file, the next audit due,
    in the same sentences as `governance register show`; the newest version follows when it is another one.
    """
    latest = model.shown_audit
    latest = latest.whole() if latest is not None else None  # already whole in a build
    lines = [f"# Model card: {markup_text(model.name)}\n"]
    lines += _standing_lines(model)
    lines += _card_facts(model, latest, audit_links)
    lines += _details_lines(model, latest)
    if latest is not None:
        lines += _metric_lines(latest, min_cell_size)
    lines += _ratio_lines(model, figure)
    lines.append(render_monitoring(model, figure=monitoring_figure))
    lines.append(
        mitigation
    )  # the mitigation runs' comparisons (see :mod:`governance.site.mitigation_section`)
    lines += _considerations_and_lifecycle(model)
    lines += _approval_lines(model)
    lines += _audit_list_lines(model, audit_links)
    lines += _see_also_lines(checklist_link, ll144_link)
    return "\n".join(lines)


def estimate_text(value: float, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return f"{value:.2f}"
    return f"{value:.2f} ({low:.2f} to {high:.2f})"
