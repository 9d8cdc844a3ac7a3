"""Figures of the threshold trade-off and of calibration by group, drawn with the house charts (no matplotlib).

Each line is one group (Okabe-Ito colours, named in a legend so that colour is not the only cue); its interval is
drawn as two thin lines of the same colour. The current threshold is a dashed vertical line, a policy's bound a
dashed horizontal one. Every figure has alt text saying what it shows in words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from governance.paths import slugify
from governance.report.charts import GRID, INK, MUTED, Canvas, blend, nice_ticks, text_width, tick_label
from governance.results.common import Estimate
from governance.results.tradeoff import CalibrationResult, RatioCurve, TradeoffResult
from governance.results.wording import interval_words

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


@dataclass(frozen=True)
class Series:
    """One line: x values and estimates (with interval ends) in the same order."""

    label: str
    xs: Sequence[float]
    ys: Sequence[Estimate]
    dots: bool = False


@dataclass
class LineChart:
    """A line chart with a legend, reference lines and labelled axes."""

    title: str
    x_label: str
    y_label: str
    series: list[Series]
    x_lines: list[tuple[float, str]] = field(default_factory=list)  # (x, label): dashed vertical lines
    y_lines: list[tuple[float, str]] = field(default_factory=list)
    diagonal: bool = False  # the perfectly calibrated line y = x
    x_span: tuple[float, float] | None = None

    def draw(self) -> Canvas:
        left, top, width, height = 62.0, 78.0 + 18.0 * ((len(self.series) - 1) // 3), 520.0, 260.0
        canvas = Canvas(left + width + 30, top + height + 56)
        canvas.text(10, 18, self.title, size=14, bold=True)
        self._legend(canvas)
        xs = [x for s in self.series for x in s.xs]
        x0, x1 = self.x_span or (min(xs, default=0.0), max(xs, default=1.0))
        x1 = x1 if x1 > x0 else x0 + 1.0
        highs = [e.high if e.high is not None else e.value for s in self.series for e in s.ys]
        y_ticks = nice_ticks(max([1.0, *(h for h in highs if h is not None and h < 10)]))
        y_top = y_ticks[-1] or 1.0

        def at(x: float, y: float) -> tuple[float, float]:
            return (
                left + width * (x - x0) / (x1 - x0),
                top + height * (1 - max(0.0, min(y, y_top)) / y_top),
            )

        self._axes(canvas, at, (x0, x1), y_ticks, (left, top, width, height))
        for number, series in enumerate(self.series):
            colour = OKABE_ITO[number % len(OKABE_ITO)]
            for key, line_colour, line_width in (
                ("low", blend(colour, 0.45), 1.0),
                ("high", blend(colour, 0.45), 1.0),
                ("value", colour, 2.2),
            ):
                points = [
                    at(x, getattr(e, key))
                    for x, e in zip(series.xs, series.ys, strict=True)
                    if getattr(e, key) is not None
                ]
                for (ax, ay), (bx, by) in pairwise(points):
                    canvas.line(ax, ay, bx, by, colour=line_colour, width=line_width)
                if series.dots and key == "value":
                    for px, py in points:
                        canvas.circle(px, py, 2.6 if len(points) > 1 else 6.0, fill=colour)
        return canvas

    def _legend(self, canvas: Canvas) -> None:
        x, y = 10.0, 42.0
        for number, series in enumerate(self.series):
            if number and number % 3 == 0:
                x, y = 10.0, y + 18
            colour = OKABE_ITO[number % len(OKABE_ITO)]
            canvas.rect(x, y - 2, 16, 4, fill=colour)
            canvas.text(x + 22, y, series.label, size=12)
            x += 22 + text_width(series.label, 12) + 20

    def _axes(
        self,
        canvas: Canvas,
        to: Callable[[float, float], tuple[float, float]],
        x_range: tuple[float, float],
        y_ticks: list[float],
        frame: tuple[float, float, float, float],
    ) -> None:
        left, top, width, height = frame
        for tick in y_ticks:
            _, y = to(x_range[0], tick)
            canvas.line(left, y, left + width, y, colour=GRID)
            canvas.text(left - 6, y, tick_label(tick), size=11, anchor="end", colour=MUTED)
        for step in range(6):
            value = x_range[0] + (x_range[1] - x_range[0]) * step / 5
            x, _ = to(value, 0.0)
            canvas.text(x, top + height + 13, f"{value:.2g}", size=11, anchor="middle", colour=MUTED)
        canvas.line(left, top + height, left + width, top + height, colour=MUTED)
        canvas.text(left + width / 2, top + height + 34, self.x_label, size=12, anchor="middle", colour=MUTED)
        canvas.text(10, top - 12, self.y_label, size=12, colour=MUTED)
        if self.diagonal:
            (ax, ay), (bx, by) = to(x_range[0], x_range[0]), to(x_range[1], x_range[1])
            canvas.line(ax, ay, bx, by, colour=MUTED, width=1.0, dash=True)
        for value, label in self.x_lines:
            x, _ = to(value, 0.0)
            canvas.line(x, top, x, top + height, colour=INK, width=1.3, dash=True)
            canvas.text(x + 4, top + 8, label, size=11)
        for value, label in self.y_lines:
            _, y = to(x_range[0], value)
            canvas.line(left, y, left + width, y, colour=INK, width=1.3, dash=True)
            canvas.text(left + width - 4, y - 9, label, size=11, anchor="end")


def _bound_value(text: str) -> float | None:
    from governance.rules.schema import Bound

    bound = Bound.parse(text)
    return bound.low if bound.low is not None else bound.high


def _threshold_lines(tradeoff: TradeoffResult) -> list[tuple[float, str]]:
    current = tradeoff.current_threshold
    return [(current, f"today's threshold {current:g}")] if current is not None else []


def _rate_chart(tradeoff: TradeoffResult, index: int, metric: str, words: str) -> LineChart:
    attribute = tradeoff.attributes[index]
    return LineChart(
        title=f"{attribute.attribute}: {words} by threshold",
        x_label="threshold (a score at or above it is a yes)",
        y_label=words,
        series=[Series(g.group, tradeoff.thresholds, getattr(g, metric)) for g in attribute.groups],
        x_lines=_threshold_lines(tradeoff),
    )


def _ratio_chart(tradeoff: TradeoffResult, index: int, ratio: RatioCurve) -> LineChart:
    attribute = tradeoff.attributes[index]
    bound = _bound_value(ratio.bound)
    return LineChart(
        title=f"{attribute.attribute}: rule {ratio.rule_id} by threshold",
        x_label="threshold (a score at or above it is a yes)",
        y_label=f"{ratio.metric} {ratio.comparison.replace('_', ' ')}",
        series=[Series(ratio.rule_id, tradeoff.thresholds, ratio.values)],
        x_lines=_threshold_lines(tradeoff),
        y_lines=[(bound, f"policy bound {ratio.bound}")] if bound is not None else [],
    )


def _frontier_chart(tradeoff: TradeoffResult, index: int, ratio: RatioCurve) -> LineChart:
    """Accuracy (y) against the main ratio (x): each dot one threshold."""
    attribute = tradeoff.attributes[index]
    pairs = [
        (r.value, p) for r, p in zip(ratio.values, tradeoff.performance, strict=True) if r.value is not None
    ]
    bound = _bound_value(ratio.bound)
    series = [Series(tradeoff.performance_metric, [x for x, _ in pairs], [p for _, p in pairs], dots=True)]
    at = _nearest(tradeoff)
    if at is not None and ratio.values[at].value is not None:
        today = Estimate(value=tradeoff.performance[at].value)
        series.append(
            Series(
                f"today's threshold {tradeoff.thresholds[at]:g}",
                [ratio.values[at].value or 0.0],
                [today],
                dots=True,
            )
        )
    return LineChart(
        title=f"{attribute.attribute}: {tradeoff.performance_metric} against {ratio.rule_id}",
        x_label=f"{ratio.metric} {ratio.comparison.replace('_', ' ')} (each dot one threshold)",
        y_label=tradeoff.performance_metric,
        series=series,
        x_lines=[(bound, f"policy bound {ratio.bound}")] if bound is not None else [],
        x_span=(0.0, 1.0) if ratio.comparison != "difference_between_groups" else None,
    )


def _calibration_chart(calibration: CalibrationResult, index: int) -> LineChart:
    attribute = calibration.attributes[index]
    series = []
    for group in attribute.groups:
        filled = [b for b in group.bins if b.n > 0 and b.mean_score is not None]
        series.append(
            Series(
                group.group, [b.mean_score or 0.0 for b in filled], [b.observed for b in filled], dots=True
            )
        )
    return LineChart(
        title=f"{attribute.attribute}: calibration by group",
        x_label="mean score in the bin",
        y_label="share with the positive outcome",
        series=series,
        diagonal=True,
        x_span=(0.0, 1.0),
    )


def curve_figures(
    tradeoff: TradeoffResult | None, calibration: CalibrationResult | None
) -> list[tuple[str, LineChart, str]]:
    """Every curve figure as (file stem, chart, alt text)."""
    out: list[tuple[str, LineChart, str]] = []
    for index, attribute in enumerate(tradeoff.attributes if tradeoff else []):
        assert tradeoff is not None
        slug = slugify(attribute.attribute)
        for metric, words in (
            ("selection_rate", "selection rate"),
            ("tpr", "true positive rate"),
            ("fpr", "false positive rate"),
        ):
            chart = _rate_chart(tradeoff, index, metric, words)
            out.append(
                (f"curve-{metric.replace('_', '-')}-{slug}", chart, rate_alt(tradeoff, index, metric, words))
            )
        for ratio in attribute.ratios:
            out.append(
                (
                    f"curve-rule-{slugify(ratio.rule_id)}-{slug}",
                    _ratio_chart(tradeoff, index, ratio),
                    ratio_alt(tradeoff, attribute.attribute, ratio),
                )
            )
        main = next((r for r in attribute.ratios if r.rule_id == tradeoff.main_ratio), None)
        if main is not None:
            out.append(
                (
                    f"frontier-{slug}",
                    _frontier_chart(tradeoff, index, main),
                    frontier_alt(tradeoff, attribute.attribute, main),
                )
            )
    for index, calibrated in enumerate(calibration.attributes if calibration else []):
        assert calibration is not None
        parts = "; ".join(f"{g.group} {_est(g.calibration_error)}" for g in calibrated.groups)
        alt = f"{calibrated.attribute}: reliability curves per group against the diagonal; calibration error {parts}"
        out.append(
            (f"calibration-{slugify(calibrated.attribute)}", _calibration_chart(calibration, index), alt)
        )
    return out


def _est(estimate: Estimate) -> str:
    return interval_words(estimate, digits=".2f")


def _nearest(tradeoff: TradeoffResult) -> int | None:
    if tradeoff.current_threshold is None:
        return None
    gaps = [abs(t - tradeoff.current_threshold) for t in tradeoff.thresholds]
    return gaps.index(min(gaps))


def rate_alt(tradeoff: TradeoffResult, index: int, metric: str, words: str) -> str:
    """The rate figure in words: each group's value at today's threshold."""
    attribute = tradeoff.attributes[index]
    at = _nearest(tradeoff)
    if at is None:
        return f"{attribute.attribute}: {words} of each group as the threshold moves from {tradeoff.thresholds[0]:g} to {tradeoff.thresholds[-1]:g}"
    parts = "; ".join(f"{g.group} {_est(getattr(g, metric)[at])}" for g in attribute.groups)
    return (
        f"{attribute.attribute}: {words} of each group by threshold; at {tradeoff.thresholds[at]:g}: {parts}"
    )


def ratio_alt(tradeoff: TradeoffResult, attribute: str, ratio: RatioCurve) -> str:
    """The rule figure in words: where the rule's bound is met."""
    met = [t for t, ok in zip(tradeoff.thresholds, ratio.meets_bound, strict=True) if ok]
    where = (
        f"met for thresholds from {min(met):g} to {max(met):g}" if met else "met at no threshold of the grid"
    )
    return f"{attribute}: {ratio.rule_id} ({ratio.metric}, bound {ratio.bound}) by threshold; the bound is {where}"


def frontier_alt(tradeoff: TradeoffResult, attribute: str, ratio: RatioCurve) -> str:
    """The frontier in words: the best accuracy among thresholds that meet the bound."""
    best = best_meeting(tradeoff, ratio)
    if best is None:
        return f"{attribute}: {tradeoff.performance_metric} against {ratio.rule_id}; no threshold meets {ratio.bound}"
    threshold, performance = best
    return (
        f"{attribute}: {tradeoff.performance_metric} against {ratio.rule_id}; the best threshold meeting {ratio.bound} is "
        f"{threshold:g}, with {tradeoff.performance_metric} {_est(performance)}"
    )


def best_meeting(tradeoff: TradeoffResult, ratio: RatioCurve) -> tuple[float, Estimate] | None:
    """The threshold with the highest performance among those whose point value meets the rule's bound."""
    candidates = [
        (p.value or 0.0, t, p)
        for t, p, ok in zip(tradeoff.thresholds, tradeoff.performance, ratio.meets_bound, strict=True)
        if ok
    ]
    if not candidates:
        return None
    _, threshold, performance = max(candidates, key=lambda c: c[0])
    return threshold, performance


def write_curve_figures(
    tradeoff: TradeoffResult | None, calibration: CalibrationResult | None, folder: Path
) -> dict[str, tuple[str, str]]:
    """Write the curve figures into ``folder``; returns stem -> (SVG file name, alt text)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        stem: (chart.draw().save(folder, stem), alt)
        for stem, chart, alt in curve_figures(tradeoff, calibration)
    }


def _figure_line(stem: str, alt: str, folder: str, has: Callable[[str], bool]) -> list[str]:
    from governance.escaping import markdown_text

    return [f"![{markdown_text(alt)}]({folder}/{stem}.svg)", ""] if has(stem) else []


def _meeting_range(tradeoff: TradeoffResult, ratio: RatioCurve) -> str:
    met = [t for t, ok in zip(tradeoff.thresholds, ratio.meets_bound, strict=True) if ok]
    if not met:
        return "none of the grid"
    return f"{len(met)} of {len(tradeoff.thresholds)}, between {min(met):g} and {max(met):g}"


def tradeoff_lines(tradeoff: TradeoffResult, folder: str, has: Callable[[str], bool]) -> list[str]:
    """The report's section on the threshold trade-off: a table per attribute, then its figures."""
    from governance.escaping import markdown_text

    at = _nearest(tradeoff)
    today = f"{tradeoff.current_threshold:g}" if tradeoff.current_threshold is not None else "unknown"
    out = [
        "## What another threshold would do",
        "",
        f"Each number below is recomputed as if a score at or above the threshold were a yes; today's threshold is "
        f"{today}. Moving one threshold for everyone is lawful where group-specific thresholds are not; whether it "
        'is acceptable is a business decision (see the guide page "When an audit fails").',
        "",
    ]
    figures = {stem: alt for stem, _, alt in curve_figures(tradeoff, None)}
    for attribute in tradeoff.attributes:
        out += [f"### {markdown_text(attribute.attribute)}", ""]
        if attribute.ratios:
            out += [
                "| Rule | Bound | At today's threshold | Thresholds meeting it | Best accuracy meeting it |",
                "|---|---|---|---|---|",
            ]
            for ratio in attribute.ratios:
                now = _est(ratio.values[at]) if at is not None else "n/a"
                best = best_meeting(tradeoff, ratio)
                best_words = f"{_est(best[1])} at {best[0]:g}" if best else "none"
                out.append(
                    f"| {markdown_text(ratio.rule_id)} | {markdown_text(ratio.bound)} | {now} | "
                    f"{_meeting_range(tradeoff, ratio)} | {best_words} |"
                )
            out.append("")
        for stem, alt in figures.items():
            if stem.endswith("-" + slugify(attribute.attribute)):
                out += _figure_line(stem, alt, folder, has)
    out += [f"Intervals: {tradeoff.interval_method}", ""]
    out += [f"Note: {markdown_text(note)}" for note in tradeoff.notes] + ([""] if tradeoff.notes else [])
    return out


def calibration_lines(calibration: CalibrationResult, folder: str, has: Callable[[str], bool]) -> list[str]:
    """The report's section on calibration by group: each group's calibration error, the gap, the figures."""
    from governance.escaping import markdown_text

    out = [
        "## Calibration by group",
        "",
        "A well-calibrated score means the same chance in every group: of the people scored about 0.7, about 70 % "
        f"have the positive outcome. Calibration error of everyone: {_est(calibration.overall.calibration_error)}.",
        "",
    ]
    figures = {stem: alt for stem, _, alt in curve_figures(None, calibration)}
    for attribute in calibration.attributes:
        out += [
            f"### {markdown_text(attribute.attribute)}",
            "",
            "| Group | Rows | Calibration error |",
            "|---|---|---|",
        ]
        for group in attribute.groups:
            small = " (too few rows to judge)" if group.below_min_size else ""
            out.append(
                f"| {markdown_text(group.group)} | {group.n} | {_est(group.calibration_error)}{small} |"
            )
        out += ["", f"Largest gap between groups: {_est(attribute.gap)}.", ""]
        stem = f"calibration-{slugify(attribute.attribute)}"
        out += _figure_line(stem, figures.get(stem, ""), folder, has)
    out += [f"Intervals: {calibration.interval_method}", ""]
    return out
