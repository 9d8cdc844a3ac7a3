"""The model card's "Monitoring after go-live" section: recorded monitoring runs, their alerts, and the trend of
each group's impact ratio month by month, with intervals, against the approved audit's value and the policy bound.

Everything comes from the register's events (each run's event carries its windows' count tables), so the page
shows what the register vouches for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from governance.escaping import markup_text
from governance.intervals import score_ratio, z_for

if TYPE_CHECKING:
    from governance.site.sources import ModelEntry


def _rows(payload: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [
        entry["record"]
        for entry in payload.get("rows", [])
        if isinstance(entry, dict) and entry.get("table") == table and isinstance(entry.get("record"), dict)
    ]


def render_monitoring(model: ModelEntry, figure: str | None = None) -> str:
    """Markdown for the section, or an empty string when the model has no monitoring run.

    ``figure``: the trend figure's file name under ``figures/`` (see :func:`draw_trend_figure`).
    """
    runs = [
        e
        for e in model.events
        if e.get("kind") == "monitoring.recorded" and isinstance(e.get("payload"), dict)
    ]
    if not runs:
        return ""
    lines = ["## Monitoring after go-live\n"]
    rows = []
    for event in runs:
        for run in _rows(event["payload"], "gov_monitoring_runs"):
            rows.append(
                "| "
                + " | ".join(
                    markup_text(str(value))
                    for value in (
                        str(run.get("recorded_at", ""))[:10],
                        event.get("version") or "",
                        run.get("window", ""),
                        f"{str(run.get('first_window', ''))[:10]} to {str(run.get('last_window', ''))[:10]}",
                        f"{int(run.get('n_rows') or 0):,}",
                        run.get("n_alerts", 0),
                    )
                )
                + " |"
            )
    lines.append(
        "| Recorded | Version | Window | Windows | Rows | Alerts |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )
    newest = runs[-1]
    alerts = _rows(newest["payload"], "gov_monitoring_alerts")
    if alerts:
        lines.append(f"Alerts of the newest run ({markup_text(newest.get('version') or '')}):\n")
        lines += [f"- {markup_text(alert.get('message', ''))}" for alert in alerts[:20]]
        if len(alerts) > 20:
            lines.append(f"- … and {len(alerts) - 20} more (`governance monitor NAME@VERSION --history`).")
        lines.append("")
    if figure:
        lines.append(f"![Impact ratios by month, with confidence intervals](figures/{figure})\n")
    lines.append(_trend(model, newest))
    return "\n".join(lines)


def trend_series(model: ModelEntry) -> dict[str, list[tuple[str, float, float | None, float | None]]]:
    """Per ``attribute: group / reference``: (month, impact ratio, low, high) from the newest run, oldest first."""
    runs = [
        e
        for e in model.events
        if e.get("kind") == "monitoring.recorded" and isinstance(e.get("payload"), dict)
    ]
    if not runs:
        return {}
    series: dict[str, list[tuple[str, float, float | None, float | None]]] = {}
    for column, reference, months in _monthly(model, runs[-1]):
        for month in sorted(months):
            for group, counts in sorted(months[month].items()):
                point = _ratio_point(counts, months[month].get(reference))
                if group != reference and group != "Unknown" and point is not None:
                    series.setdefault(f"{column}: {group} / {reference}", []).append((month, *point))
    return series


def _short(month: str) -> str:  # 2026-11 -> 11/26: thirteen months fit under the plot
    return f"{month[5:7]}/{month[2:4]}"


def audit_points(model: ModelEntry) -> dict[str, list[tuple[str, float, float | None, float | None]]]:
    """Per ``attribute: group / reference`` of the trend: (month, impact ratio, low, high) of each full audit of
    the monitored version, from its group sizes and selection rates (the same score interval as the windows)."""
    runs = _runs(model)
    if not runs:
        return {}
    version = runs[-1].get("version")
    references = {column: reference for column, reference, _months in _monthly(model, runs[-1])}
    points: dict[str, list[tuple[str, float, float | None, float | None]]] = {}
    for record in sorted(model.audits, key=lambda r: r.created_at):
        if record.result.model.version != version:
            continue
        for attribute in record.full().fairness.attributes:  # the site keeps audits slim: read this one whole
            reference = references.get(attribute.attribute)
            if reference is None or attribute.is_intersection or attribute.positive_class is not None:
                continue
            counts = {g.group: _selected(g) for g in attribute.groups}
            for group, selected in sorted(counts.items()):
                point = _ratio_point(selected, counts.get(reference))
                if group not in (reference, "Unknown") and point is not None:
                    label = f"{attribute.attribute}: {group} / {reference}"
                    points.setdefault(label, []).append((record.created_at[:7], *point))
    return points


def _selected(group: Any) -> list[int] | None:
    rate = group.metrics.get("selection_rate")
    if rate is None or rate.value is None or not group.n:
        return None
    return [round(rate.value * group.n), int(group.n)]


def _runs(model: ModelEntry) -> list[dict[str, Any]]:
    return [
        e
        for e in model.events
        if e.get("kind") == "monitoring.recorded" and isinstance(e.get("payload"), dict)
    ]


def _policy_bound(model: ModelEntry) -> float | None:
    """The impact-ratio bound of the approved audit's policy (``>= 0.8`` -> 0.8), if it has one."""
    import re

    runs = _runs(model)
    run = (_rows(runs[-1]["payload"], "gov_monitoring_runs") or [{}])[0] if runs else {}
    approved = next(
        (r.full() for r in model.audits if r.result.audit_id == run.get("approved_audit_id")), None
    )
    for rule in approved.policy.rules if approved is not None else []:
        if rule.metric == "selection_rate" and rule.comparison in ("impact_ratio", "ratio_to_reference"):
            found = re.search(r"[0-9]*\.?[0-9]+", str(rule.bound or ""))
            if found:
                return float(found.group())
    return None


def draw_trend_figure(model: ModelEntry, folder: Any, stem: str) -> list[str]:
    """Write the trend figure (house style of the ratio figure); the file names, none without a run.

    Monitoring windows are dots, full audits of the version squares, both with their 95 % intervals; the
    policy's bound is the dashed line and each approval of the version a dotted vertical line.
    """
    from governance.site.figures import draw_series_figure

    trend = trend_series(model)
    audits = audit_points(model)
    months = sorted(
        {month for series in (trend, audits) for points in series.values() for month, *_ in points}
    )
    version = (_runs(model) or [{}])[-1].get("version")
    approvals = {
        _short(str(a.get("at"))[:7]): "approved"
        for a in model.approvals
        if str(a.get("version")) == version and a.get("decision", "approve") == "approve" and a.get("at")
    }
    months = sorted({*months, *(f"20{m[3:5]}-{m[0:2]}" for m in approvals)})

    def shorten(series: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {
            label: [(_short(month), *rest) for month, *rest in points] for label, points in series.items()
        }

    return draw_series_figure(
        shorten(trend),
        folder,
        stem,
        title="Impact ratios by month after go-live (dots: windows, squares: full audits), with intervals",
        axis="month (MM/YY)",
        order=[_short(month) for month in months],
        squares=shorten(audits),
        bound=_policy_bound(model),
        marks=approvals,
    )


def _monthly(
    model: ModelEntry, event: dict[str, Any]
) -> list[tuple[str, str, dict[str, dict[str, list[int]]]]]:
    """Per sensitive column: (column, reference group, month -> group -> [selected, rows]) of one run."""
    windows = _rows(event["payload"], "gov_monitoring_windows")
    run = (_rows(event["payload"], "gov_monitoring_runs") or [{}])[0]
    if not windows:
        return []
    approved = next(
        (r.full() for r in model.audits if r.result.audit_id == run.get("approved_audit_id")), None
    )
    found = []
    for j, column in enumerate(list(windows[0]["counts"].get("columns") or [])):
        months: dict[str, dict[str, list[int]]] = {}
        for window in windows:
            month = str(window.get("start", ""))[:7]
            for cell, counts in zip(window["counts"]["cells"], window["counts"]["counts"], strict=False):
                entry = months.setdefault(month, {}).setdefault(str(cell[j]), [0, 0])
                entry[0] += int(counts[1] + counts[3] + counts[5])
                entry[1] += int(sum(counts))
        groups = sorted({g for month in months.values() for g in month if g != "Unknown"})
        reference, _ratios, _bound = _reference(approved, column, groups, months)
        if reference is not None:
            found.append((column, reference, months))
    return found


def _trend(model: ModelEntry, event: dict[str, Any]) -> str:
    """Each month's impact ratio per group (95 % score interval) from the newest run's stored count tables."""
    run = (_rows(event["payload"], "gov_monitoring_runs") or [{}])[0]
    approved = next(
        (r.full() for r in model.audits if r.result.audit_id == run.get("approved_audit_id")), None
    )
    out = []
    for column, reference, months in _monthly(model, event):
        groups = sorted({g for month in months.values() for g in month if g != "Unknown"})
        _reference_again, approved_ratio, bound = _reference(approved, column, groups, months)
        others = [g for g in groups if g != reference]
        header = f"Impact ratio of {markup_text(column)} against {markup_text(reference)}, by month (95 % interval)"
        if bound:
            header += f"; the policy's bound is {markup_text(bound)}"
        out.append(header + ":\n")
        head = "| Month | " + " | ".join(markup_text(g) for g in others) + " |"
        rule = "|---|" + "---|" * len(others)
        body = []
        if approved_ratio:
            body.append(
                "| approved audit | " + " | ".join(_fmt(approved_ratio.get(g)) for g in others) + " |"
            )
        for month in sorted(months):
            cells = [_ratio(months[month].get(g), months[month].get(reference)) for g in others]
            body.append(f"| {markup_text(month)} | " + " | ".join(cells) + " |")
        out.append("\n".join([head, rule, *body]) + "\n")
    return "\n".join(out)


def _reference(
    approved: Any, column: str, groups: list[str], months: dict[str, dict[str, list[int]]]
) -> tuple[str | None, dict[str, float], str | None]:
    ratios: dict[str, float] = {}
    bound = None
    reference = None
    if approved is not None:
        for attribute in approved.fairness.attributes:
            if (
                attribute.attribute == column
                and attribute.ll144 is not None
                and attribute.positive_class is None
            ):
                reference = attribute.ll144.most_selected
                ratios = {
                    row.category: row.impact_ratio
                    for row in attribute.ll144.rows
                    if row.impact_ratio is not None
                }
        bound = next((r.bound for r in approved.policy.rules if r.comparison == "impact_ratio"), None)
    if reference not in groups:
        totals = {g: sum(m.get(g, [0, 0])[1] for m in months.values()) for g in groups}
        reference = max(totals, key=lambda g: totals[g]) if totals else None
    return reference, ratios, bound


def _ratio_point(group: list[int] | None, reference: list[int] | None) -> tuple[float, float, float] | None:
    """The impact ratio and its 95 % score interval, or None when undefined."""
    if not group or not reference or group[1] == 0 or reference[1] == 0 or reference[0] == 0:
        return None
    value = (group[0] / group[1]) / (reference[0] / reference[1])
    low, high = score_ratio(
        np.array([group[0]]),
        np.array([group[1]]),
        np.array([reference[0]]),
        np.array([reference[1]]),
        z_for(0.95),
    )
    return value, float(low[0]), float(high[0])


def _ratio(group: list[int] | None, reference: list[int] | None) -> str:
    point = _ratio_point(group, reference)
    if point is None:
        return "—"
    return f"{point[0]:.2f} ({point[1]:.2f}–{point[2]:.2f})"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
