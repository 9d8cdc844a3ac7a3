"""Figures for the audit report: each rate per group with its interval, and impact ratios against 0.8.

Written as SVG (crisp on the site) and PNG (for documents), deterministically, so that re-running an audit gives
byte-identical files. They are drawn by :mod:`governance.report.charts`, not matplotlib, which keeps an audit
fast; so are the explanation's figures (:mod:`governance.report.explain_figures`). Groups masked for
publication are left out of every figure.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from governance.paths import slugify
from governance.report.charts import Canvas, Point, dot_whisker_panels, impact_bars
from governance.results.audit import AuditResult
from governance.results.fairness import AttributeResult
from governance.results.wording import level_words, rate_words
from governance.rules.evaluate import METRIC_WORDS

RATE_METRICS = ("selection_rate", "tpr", "fpr", "precision", "accuracy", "mean_prediction", "mae")
# Panel titles: the shared metric names, capitalised, without their explanations in brackets.
TITLES = {
    key: words.split(" (")[0][:1].upper() + words.split(" (")[0][1:] for key, words in METRIC_WORDS.items()
}


def attribute_figure_stem(attribute: AttributeResult) -> str:
    """The file stem of an attribute's group-metrics figure."""
    suffix = f"-class-{attribute.positive_class}" if attribute.positive_class is not None else ""
    return f"groups-{slugify(attribute.attribute + suffix)}"


def impact_figure_stem(attribute: AttributeResult) -> str:
    """The file stem of an attribute's impact-ratio figure."""
    return f"impact-{slugify(attribute.attribute)}"


def _group_chart(
    attribute: AttributeResult, overall: dict[str, Any], hidden: Collection[str], level: float
) -> Canvas | None:
    groups = [group for group in attribute.groups if not group.is_unknown and group.group not in hidden]
    metrics = [
        m
        for m in RATE_METRICS
        if any(group.metrics.get(m) and group.metrics[m].value is not None for group in groups)
    ][:4]
    if not groups or not metrics:
        return None
    panels = []
    for metric in metrics:
        points = []
        for group in groups:
            estimate = group.metrics.get(metric)
            points.append(Point(estimate.value, estimate.low, estimate.high) if estimate else Point(None))
        reference = overall.get(metric)
        panels.append(
            (TITLES.get(metric, metric), points, reference.value if reference is not None else None)
        )
    return dot_whisker_panels(
        title=f"{attribute.attribute}: rates per group",
        note=f"dots: the group's value; whiskers: {level_words(level)} interval; dashed line: everyone",
        labels=[group.group for group in groups],
        panels=panels,
    )


def _impact_chart(attribute: AttributeResult, hidden: Collection[str]) -> Canvas | None:
    table = attribute.ll144
    if table is None:
        return None
    rows = [row for row in table.rows if row.impact_ratio is not None and row.category not in hidden]
    if not rows or table.most_selected in hidden:  # ratios to a masked category would reveal its rate
        return None
    return impact_bars(
        title=f"{attribute.attribute}: impact ratio with interval",
        labels=[row.category for row in rows],
        points=[Point(row.impact_ratio, row.impact_ratio_low, row.impact_ratio_high) for row in rows],
        line=0.8,
        line_label="four-fifths screen (0.8)",
        axis_label=f"{rate_words(table.rate_kind).rate} / the {rate_words(table.rate_kind).top}'s",
    )


ALT_GROUPS = 12  # alt text lists this many groups, then says how many more


def _span(low: float | None, high: float | None) -> str:
    return f" ({low:.2f} to {high:.2f})" if low is not None and high is not None else ""


def _listed(parts: list[str]) -> str:
    extra = len(parts) - ALT_GROUPS
    return "; ".join(parts[:ALT_GROUPS]) + (f"; and {extra} more groups" if extra > 0 else "")


def group_figure_alt(attribute: AttributeResult, hidden: Collection[str], level: float) -> str:
    """The group-rates figure in words, for readers who cannot see it (the image's alt text)."""
    groups = [group for group in attribute.groups if not group.is_unknown and group.group not in hidden]
    metric = next(
        (m for m in RATE_METRICS if any(g.metrics.get(m) and g.metrics[m].value is not None for g in groups)),
        None,
    )
    if metric is None:
        return f"{attribute.attribute}: rates per group (no rate to show)"
    parts = []
    for group in groups:
        estimate = group.metrics.get(metric)
        if estimate is not None and estimate.value is not None:
            parts.append(f"{group.group} {estimate.value:.2f}{_span(estimate.low, estimate.high)}")
    title = TITLES.get(metric, metric).lower()
    return f"{attribute.attribute}: {title} per group with {level_words(level)} intervals: {_listed(parts)}"


def impact_figure_alt(attribute: AttributeResult, hidden: Collection[str]) -> str:
    """The impact-ratio figure in words: each category's ratio, its interval, and whether it is below 0.8."""
    table = attribute.ll144
    rows = [
        r for r in (table.rows if table else []) if r.impact_ratio is not None and r.category not in hidden
    ]
    parts = [
        f"{r.category} {r.impact_ratio:.2f}{_span(r.impact_ratio_low, r.impact_ratio_high)}"
        + (", below 0.8" if r.impact_ratio < 0.8 else "")
        for r in rows
        if r.impact_ratio is not None
    ]
    return f"{attribute.attribute}: impact ratio per category against the four-fifths screen (0.8): {_listed(parts)}"


def write_figures(
    result: AuditResult, folder: Path, *, hidden: dict[str, Collection[str]] | None = None
) -> dict[str, str]:
    """Write every figure of the audit into ``folder``; returns figure key -> file name (SVG).

    ``hidden`` maps an attribute to the groups that must not appear (small cells on published pages).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for attribute in result.fairness.attributes:
        masked = (hidden or {}).get(attribute.attribute, ())
        chart = _group_chart(attribute, result.fairness.overall, masked, result.fairness.confidence_level)
        if chart is not None:
            written[attribute_figure_stem(attribute)] = chart.save(folder, attribute_figure_stem(attribute))
        if attribute.positive_class is None:
            impact = _impact_chart(attribute, masked)
            if impact is not None:
                written[impact_figure_stem(attribute)] = impact.save(folder, impact_figure_stem(attribute))
    if result.tradeoff is not None or result.calibration is not None:
        from governance.report.curves import write_curve_figures

        curves = write_curve_figures(result.tradeoff, result.calibration, folder)
        written.update({stem: name for stem, (name, _) in curves.items()})
    if result.explanation is not None:
        from governance.report.explain_figures import write_explanation_figures

        explanation = result.explanation
        if hidden:
            from governance.report.suppression import published_explanation

            explanation = published_explanation(
                explanation, {name: set(groups) for name, groups in hidden.items()}
            )
        written.update(write_explanation_figures(explanation, folder))
    return written
