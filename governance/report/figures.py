"""Figures for the audit report: each rate per group with its interval, and impact ratios against 0.8.

Written as SVG (crisp on the site) and PNG (for documents), deterministically (no dates, fixed ids), so that
re-running an audit gives byte-identical files. Groups masked for publication are left out of the figure.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from governance.paths import slugify
from governance.results.audit import AuditResult
from governance.results.fairness import AttributeResult

RATE_METRICS = ("selection_rate", "tpr", "fpr", "precision", "accuracy", "mean_prediction", "mae")
TITLES = {
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "precision": "Precision",
    "accuracy": "Accuracy",
    "mean_prediction": "Mean prediction",
    "mae": "Mean absolute error",
}


def attribute_figure_stem(attribute: AttributeResult) -> str:
    """The file stem of an attribute's group-metrics figure."""
    suffix = f"-class-{attribute.positive_class}" if attribute.positive_class is not None else ""
    return f"groups-{slugify(attribute.attribute + suffix)}"


def impact_figure_stem(attribute: AttributeResult) -> str:
    """The file stem of an attribute's impact-ratio figure."""
    return f"impact-{slugify(attribute.attribute)}"


def _save(figure: Any, folder: Path, stem: str) -> str:
    import matplotlib.pyplot as plt

    # The layout was fixed once (tight_layout) when the figure was made; bbox_inches="tight" would draw it again.
    figure.savefig(folder / f"{stem}.svg", format="svg", metadata={"Date": None})
    figure.savefig(folder / f"{stem}.png", format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    return f"{stem}.svg"


def _group_figure(attribute: AttributeResult, overall: dict[str, Any], hidden: Collection[str], level: float) -> Any:
    import matplotlib.pyplot as plt

    groups = [group for group in attribute.groups if not group.is_unknown and group.group not in hidden]
    metrics = [m for m in RATE_METRICS if any(group.metrics.get(m) and group.metrics[m].value is not None for group in groups)]
    metrics = metrics[:4]
    if not groups or not metrics:
        return None
    height = max(2.0, 0.45 * len(groups) + 1.2)
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 1.5, height), sharey=True, squeeze=False)
    labels = [group.group for group in groups]
    positions = list(range(len(groups)))
    for axis, metric in zip(axes[0], metrics, strict=True):
        values, lows, highs = [], [], []
        for group in groups:
            estimate = group.metrics.get(metric)
            value = estimate.value if estimate and estimate.value is not None else float("nan")
            low = estimate.low if estimate and estimate.low is not None else value
            high = estimate.high if estimate and estimate.high is not None else value
            values.append(value)
            lows.append(max(0.0, value - low))
            highs.append(max(0.0, high - value))
        axis.errorbar(values, positions, xerr=[lows, highs], fmt="o", color="#3f51b5", ecolor="#7986cb", capsize=3)
        reference = overall.get(metric)
        if reference is not None and reference.value is not None:
            axis.axvline(reference.value, color="#9e9e9e", linestyle="--", linewidth=1, label="everyone")
        axis.set_title(TITLES.get(metric, metric), fontsize=10)
        axis.grid(axis="x", alpha=0.3)
        upper = max([1.0, *(v + h for v, h in zip(values, highs, strict=True) if v == v)])
        axis.set_xlim(-0.03, upper + 0.03)
    axes[0][0].set_yticks(positions, labels)
    axes[0][0].invert_yaxis()
    figure.suptitle(f"{attribute.attribute}: rates per group with {round(level * 100)} % intervals (dashed: everyone)", fontsize=10)
    figure.tight_layout()
    return figure


def _impact_figure(attribute: AttributeResult, hidden: Collection[str]) -> Any:
    import matplotlib.pyplot as plt

    table = attribute.ll144
    if table is None:
        return None
    rows = [row for row in table.rows if row.impact_ratio is not None and row.category not in hidden]
    if not rows or table.most_selected in hidden:  # ratios to a masked category would reveal its rate
        return None
    figure, axis = plt.subplots(figsize=(6.5, max(2.0, 0.45 * len(rows) + 1.0)))
    positions = list(range(len(rows)))
    values = [float(row.impact_ratio or 0) for row in rows]
    lows = [max(0.0, v - (row.impact_ratio_low if row.impact_ratio_low is not None else v)) for v, row in zip(values, rows, strict=True)]
    highs = [max(0.0, (row.impact_ratio_high if row.impact_ratio_high is not None else v) - v) for v, row in zip(values, rows, strict=True)]
    colours = ["#c62828" if v < 0.8 else "#2e7d32" for v in values]
    axis.barh(positions, values, color=colours, alpha=0.6)
    axis.errorbar(values, positions, xerr=[lows, highs], fmt="none", ecolor="#424242", capsize=3)
    axis.axvline(0.8, color="#c62828", linestyle="--", linewidth=1, label="four-fifths screen (0.8)")
    axis.legend(loc="lower right", fontsize=8, framealpha=0.9)
    axis.set_yticks(positions, [row.category for row in rows])
    axis.invert_yaxis()
    axis.set_xlim(0, max(1.05, max(v + h for v, h in zip(values, highs, strict=True)) + 0.05))
    axis.set_xlabel(f"{table.rate_kind} rate / the most-selected category's")
    axis.set_title(f"{attribute.attribute}: impact ratio with interval", fontsize=10)
    figure.tight_layout()
    return figure


def write_figures(result: AuditResult, folder: Path, *, hidden: dict[str, Collection[str]] | None = None) -> dict[str, str]:
    """Write every figure of the audit into ``folder``; returns figure key -> file name (SVG).

    ``hidden`` maps an attribute to the groups that must not appear (small cells on published pages).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "governance"
    plt.rcParams["svg.fonttype"] = "none"
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for attribute in result.fairness.attributes:
        masked = (hidden or {}).get(attribute.attribute, ())
        figure = _group_figure(attribute, result.fairness.overall, masked, result.fairness.confidence_level)
        if figure is not None:
            written[attribute_figure_stem(attribute)] = _save(figure, folder, attribute_figure_stem(attribute))
        if attribute.positive_class is None:
            impact = _impact_figure(attribute, masked)
            if impact is not None:
                written[impact_figure_stem(attribute)] = _save(impact, folder, impact_figure_stem(attribute))
    if result.explanation is not None:
        from governance.report.explain_figures import write_explanation_figures

        explanation = result.explanation
        if hidden:
            from governance.report.markdown import published_explanation

            explanation = published_explanation(explanation, {name: set(groups) for name, groups in hidden.items()})
        written.update(write_explanation_figures(explanation, folder))
    return written
