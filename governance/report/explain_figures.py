"""Figures of the explanation section: importance bars with intervals, a beeswarm, and a per-group comparison.

Drawn with the house charts (``governance.report.charts``: SVG text for the site and a Pillow PNG for documents,
from one set of primitives), like the fairness and trade-off figures: matplotlib's import and drawing were about
2 s of processor time of a 1,000-row audit, these take a fraction of that. The same result gives byte-identical
files. Only results are read; nothing is computed here beyond layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from governance.paths import slugify
from governance.report.charts import (
    GRID,
    MUTED,
    PAGE_WIDTH,
    Canvas,
    fitted_width,
    nice_step,
    swatch_legend,
    text_width,
)
from governance.report.curves import OKABE_ITO
from governance.results.explain import ExplanationResult
from governance.results.wording import level_words

MAX_BARS = 15
MAX_GROUP_FEATURES = 8
SENSITIVE = "#b2182b"
OTHER = "#2166ac"
CATEGORY = "#c2c2c2"  # grey at 60 % over white: a category has no low-to-high scale
ERROR_BAR = "#444444"
# matplotlib's "coolwarm" at nine evenly spaced stops, low (blue) to high (red)
COOLWARM = ("#3b4cc0", "#6282ea", "#8db0fe", "#b9d0f9", "#dddcdc", "#f5c4ac", "#f4987a", "#dd5f4b", "#b40426")
LABEL_SIZE = 13.0


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def signed_ticks(low: float, high: float) -> list[float]:
    """Round tick values covering ``low`` to ``high`` (which may lie either side of zero), about five steps."""
    if not high > low:
        low, high = low - 1.0, high + 1.0
    step = nice_step((high - low) / 5)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [float(f"{i * step:.12g}") for i in range(first, last + 1)]  # 0.30000000000000004 -> 0.3


def coolwarm(share: float) -> str:
    """The colour of a value scaled 0..1 on the coolwarm scale (blue low, grey middle, red high)."""
    position = max(0.0, min(1.0, share)) * (len(COOLWARM) - 1)
    index = min(int(position), len(COOLWARM) - 2)
    weight = position - index
    start, end = COOLWARM[index], COOLWARM[index + 1]
    mix = [
        round((1 - weight) * int(start[i : i + 2], 16) + weight * int(end[i : i + 2], 16)) for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{c:02x}" for c in mix)


@dataclass(frozen=True)
class Plot:
    """Rows of a horizontal plot on a canvas: ``x_of`` places a value, ``y_of`` a row's middle."""

    canvas: Canvas
    left: float
    top: float
    width: float
    row_height: float
    low: float
    high: float

    def x_of(self, value: float) -> float:
        return self.left + self.width * (max(self.low, min(value, self.high)) - self.low) / (
            self.high - self.low
        )

    def y_of(self, row: float) -> float:
        return self.top + self.row_height * (row + 0.5)


@dataclass(frozen=True)
class Frame:
    """What a row plot shows: its title, row labels (top first), the values' range and the axis' words."""

    title: str
    labels: list[str]
    values: tuple[float, float]
    axis_label: str
    row_height: float = 28.0
    head: float = 0.0  # room under the title for a legend
    right: float = 30.0  # room right of the plot (a colour scale)


def row_plot(frame: Frame) -> Plot:
    """A canvas with the title, the row labels, a grid with round ticks and the axis label: the rows are drawn
    by the caller."""
    label_width = max((text_width(label, LABEL_SIZE) for label in frame.labels), default=40.0) + 16
    plot_width = max(300.0, min(460.0, PAGE_WIDTH - label_width - frame.right))
    ticks = signed_ticks(*frame.values)
    top = 44.0 + frame.head
    bottom = top + frame.row_height * max(1, len(frame.labels))
    width = fitted_width(label_width + plot_width + frame.right, (frame.title, 14, True))
    width = max(width, label_width + plot_width / 2 + text_width(frame.axis_label, 12) / 2 + 10)
    canvas = Canvas(width, bottom + 56)
    canvas.text(10, 18, frame.title, size=14, bold=True)
    plot = Plot(canvas, label_width, top, plot_width, frame.row_height, ticks[0], ticks[-1])
    for tick in ticks:
        canvas.line(plot.x_of(tick), top, plot.x_of(tick), bottom, colour=GRID)
        canvas.text(plot.x_of(tick), bottom + 13, f"{tick:g}", size=11, anchor="middle", colour=MUTED)
    canvas.line(label_width, bottom, label_width + plot_width, bottom, colour=MUTED)
    axis_x = max(label_width + plot_width / 2, 10 + text_width(frame.axis_label, 12) / 2)
    canvas.text(axis_x, bottom + 36, frame.axis_label, size=12, anchor="middle", colour=MUTED)
    for row, label in enumerate(frame.labels):
        canvas.text(label_width - 10, plot.y_of(row), label, size=LABEL_SIZE, anchor="end")
    return plot


def _zero_line(plot: Plot, rows: int) -> None:
    if plot.low < 0 < plot.high:
        x = plot.x_of(0.0)
        plot.canvas.line(x, plot.top, x, plot.top + plot.row_height * rows, colour=ERROR_BAR, width=1.0)


def importance_figure(result: ExplanationResult, folder: Path) -> str:
    """Horizontal bars of mean |SHAP| with their bootstrap intervals, most important on top."""
    items = result.importance[:MAX_BARS]
    values = [item.mean_abs.value or 0.0 for item in items]
    lows = [i.mean_abs.low if i.mean_abs.low is not None else v for i, v in zip(items, values, strict=True)]
    highs = [
        i.mean_abs.high if i.mean_abs.high is not None else v for i, v in zip(items, values, strict=True)
    ]
    sensitive = any(item.is_sensitive for item in items)
    plot = row_plot(
        Frame(
            title=f"What drives the model ({result.rows_explained} rows explained)",
            labels=[_short(item.feature) for item in items],
            values=(0.0, max([*highs, *values], default=1.0)),
            axis_label=f"mean |SHAP| ({result.output_label}), {level_words(result.confidence_level)} interval",
            row_height=24.0,
            head=22.0 if sensitive else 0.0,
        )
    )
    canvas = plot.canvas
    if sensitive:
        swatch_legend(canvas, [(OTHER, "a feature"), (SENSITIVE, "a sensitive attribute")], 42.0)
    for row, item in enumerate(items):
        y, zero = plot.y_of(row), plot.x_of(0.0)
        colour = SENSITIVE if item.is_sensitive else OTHER
        canvas.rect(zero, y - 8, plot.x_of(values[row]) - zero, 16, fill=colour)
        low, high = min(lows[row], values[row]), max(highs[row], values[row])
        if high > low:
            canvas.line(plot.x_of(low), y, plot.x_of(high), y, colour=ERROR_BAR, width=1.2)
            for end in (low, high):
                canvas.line(plot.x_of(end), y - 4, plot.x_of(end), y + 4, colour=ERROR_BAR, width=1.2)
    return canvas.save(folder, "explain_importance")


def beeswarm_figure(result: ExplanationResult, folder: Path) -> str | None:
    """One row of dots per feature: each dot a person, placed by its SHAP value, coloured by the value."""
    import numpy as np

    sample = result.beeswarm
    if sample is None or not sample.features:
        return None
    rng = np.random.default_rng(result.seed)
    every = [value for row in sample.shap for value in row]
    low, high = min([0.0, *every]), max([0.0, *every])
    pad = 0.05 * (high - low)
    plot = row_plot(
        Frame(
            title="Each dot is one person (grey: a category)",
            labels=[_short(feature) for feature in sample.features],
            values=(low - pad, high + pad),
            axis_label=f"SHAP value ({result.output_label}); right pushes towards the favourable outcome",
            row_height=34.0,
            right=110.0,
        )
    )
    for row, (shap_values, colours) in enumerate(zip(sample.shap, sample.colour, strict=True)):
        jitter = rng.uniform(-0.3, 0.3, size=len(shap_values))
        for value, shift, colour in zip(shap_values, jitter.tolist(), colours, strict=True):
            fill = CATEGORY if colour is None else coolwarm(colour)
            plot.canvas.circle(plot.x_of(value), plot.y_of(row + float(shift)), 2.0, fill=fill)
    _zero_line(plot, len(sample.features))
    _colour_scale(plot, len(sample.features))
    return plot.canvas.save(folder, "explain_beeswarm")


def _colour_scale(plot: Plot, rows: int) -> None:
    """The colour bar right of the plot: high at the top, low at the bottom."""
    canvas, steps = plot.canvas, 48
    x, top = plot.left + plot.width + 20, plot.top
    height = max(plot.row_height * rows, 60.0)
    for step in range(steps):
        share = 1 - (step + 0.5) / steps
        canvas.rect(x, top + height * step / steps, 12, height / steps + 0.5, fill=coolwarm(share))
    canvas.text(x + 18, top + 6, "high", size=11, colour=MUTED)
    canvas.text(x + 18, top + height - 6, "low", size=11, colour=MUTED)
    canvas.text(x + 18, top + height / 2, "value", size=11, colour=MUTED)


def group_figure(result: ExplanationResult, folder: Path, index: int) -> str | None:
    """Mean SHAP per feature for each group of one attribute: grouped horizontal bars, first group on top."""
    attribute = result.by_group[index]
    groups = [g for g in attribute.groups if g.n > 0]
    if not groups:
        return None
    features = [item.feature for item in result.importance[:MAX_GROUP_FEATURES]]
    means = [group.mean[f] for group in groups for f in features]
    legend = [
        (OKABE_ITO[g % len(OKABE_ITO)], f"{_short(group.group)} (n={group.n})")
        for g, group in enumerate(groups)
    ]
    bar = 12.0 if len(groups) <= 4 else 8.0
    plot = row_plot(
        Frame(
            title=f"Average push of each feature, by {_short(attribute.attribute)}",
            labels=[_short(f) for f in features],
            values=(min([0.0, *means]), max([0.0, *means])),
            axis_label=f"mean SHAP ({result.output_label}); right pushes towards the favourable outcome",
            row_height=bar * len(groups) + 12,
            head=18.0 * math.ceil(len(groups) / 3),
        )
    )
    swatch_legend(plot.canvas, legend, 42.0)
    for row, feature in enumerate(features):
        first = plot.y_of(row) - bar * len(groups) / 2
        for g, group in enumerate(groups):
            _signed_bar(plot, first + bar * g, bar - 1, group.mean[feature], legend[g][0])
    _zero_line(plot, len(features))
    return plot.canvas.save(folder, f"explain_groups_{slugify(attribute.attribute)}")


def _signed_bar(plot: Plot, y: float, height: float, value: float, colour: str) -> None:
    start, end = sorted((plot.x_of(0.0), plot.x_of(value)))
    plot.canvas.rect(start, y, end - start, height, fill=colour)


def write_explanation_figures(result: ExplanationResult, folder: Path) -> dict[str, str]:
    """Write every figure into ``folder`` (created if needed); return {figure key: SVG file name in folder}.

    Keys: ``importance``, ``beeswarm``, and ``groups:<attribute>`` for each sensitive attribute.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    if result.importance:
        written["importance"] = importance_figure(result, folder)
    beeswarm = beeswarm_figure(result, folder)
    if beeswarm:
        written["beeswarm"] = beeswarm
    for index, attribute in enumerate(result.by_group):
        name = group_figure(result, folder, index)
        if name:
            written[f"groups:{attribute.attribute}"] = name
    return written
