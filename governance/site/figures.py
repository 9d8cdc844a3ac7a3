"""The model page's figure: key fairness ratios across versions, with their intervals.

Drawn with the audit's own chart code (:mod:`governance.report.charts`, no matplotlib) as SVG and PNG,
deterministically, so that rebuilding an unchanged workspace gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from governance.report.charts import GRID, INK, MUTED, Canvas, text_width, tick_label
from governance.site.sources import AuditRecord, ModelEntry

RATIO_LABELS = {
    "demographic_parity_ratio": "selection-rate ratio",
    "equalized_odds_ratio": "equalized-odds ratio",
}


def ratio_series(model: ModelEntry) -> dict[str, list[tuple[str, float, float | None, float | None]]]:
    """Per ``attribute: ratio``: (version, value, low, high) from each version's latest audit, oldest first."""
    latest_per_version: dict[str, tuple[str, AuditRecord]] = {}
    for record in sorted(model.audits, key=lambda record: record.created_at):
        latest_per_version[record.result.model.version] = (record.created_at, record)
    series: dict[str, list[tuple[str, float, float | None, float | None]]] = {}
    ordered = sorted(latest_per_version.items(), key=lambda item: item[1][0])
    for version, (_, record) in ordered:
        for attribute, key, value, low, high in record.key_ratios:
            label = f"{attribute}: {RATIO_LABELS[key]}"
            series.setdefault(label, []).append((version, value, low, high))
    return series


SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")  # Okabe-Ito


def draw_series_figure(
    series: dict[str, list[tuple[str, float, float | None, float | None]]],
    folder: Path,
    stem: str,
    *,
    title: str,
    axis: str,
    order: list[str],
) -> list[str]:
    """The same figure for any series over the x labels in ``order`` (the monitoring trend by month)."""
    if not series:
        return []
    canvas = _ratio_canvas(series, order, title=title, axis=axis)
    folder.mkdir(parents=True, exist_ok=True)
    canvas.save(folder, stem)
    return [f"{stem}.svg", f"{stem}.png"]


def draw_ratio_figure(model: ModelEntry, folder: Path, stem: str) -> list[str]:
    """Write ``stem.svg`` and ``stem.png`` into ``folder``; returns the file names (none without data)."""
    series = ratio_series(model)
    if not series:
        return []
    versions: list[str] = []
    for points in series.values():
        for version, *_ in points:
            if version not in versions:
                versions.append(version)
    canvas = _ratio_canvas(series, versions)
    folder.mkdir(parents=True, exist_ok=True)
    canvas.save(folder, stem)
    return [f"{stem}.svg", f"{stem}.png"]


def _ratio_canvas(
    series: dict[str, list[tuple[str, float, float | None, float | None]]],
    versions: list[str],
    *,
    title: str | None = None,
    axis: str = "version",
) -> Canvas:
    """Points with interval whiskers per version, one colour per ratio, a dashed line at 0.8, a legend."""
    labels = sorted(series)
    legend = [*labels, "four-fifths line (0.8)"]
    left, top, plot_height = 56.0, 46.0, 240.0
    plot_width = max(260.0, min(460.0, 70.0 * len(versions)))
    legend_x = left + plot_width + 24
    width = legend_x + max(text_width(text, 12) for text in legend) + 40
    title = title or TITLE
    canvas = Canvas(max(width, text_width(title, 14, bold=True) + 24), top + plot_height + 56)
    canvas.text(10, 18, title, size=14, bold=True)
    bottom = top + plot_height

    def y_of(value: float) -> float:
        return bottom - plot_height * max(0.0, min(value, 1.05)) / 1.05

    step = plot_width / max(1, len(versions))
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        canvas.line(left, y_of(tick), left + plot_width, y_of(tick), colour=GRID)
        canvas.text(left - 8, y_of(tick), tick_label(tick), size=11, anchor="end", colour=MUTED)
    canvas.line(left, bottom, left + plot_width, bottom, colour=MUTED)
    for index, version in enumerate(versions):
        canvas.text(left + step * (index + 0.5), bottom + 14, version, size=11, anchor="middle", colour=MUTED)
    canvas.text(left + plot_width / 2, bottom + 36, axis, size=12, anchor="middle", colour=MUTED)
    canvas.line(left, y_of(0.8), left + plot_width, y_of(0.8), colour=INK, width=1.2, dash=True)
    position = {version: index for index, version in enumerate(versions)}
    for offset, label in enumerate(labels):
        colour = SERIES_COLOURS[offset % len(SERIES_COLOURS)]
        shift = (offset - (len(labels) - 1) / 2) * min(10.0, step / (len(labels) + 1))
        for version, value, low, high in series[label]:
            x = left + step * (position[version] + 0.5) + shift
            if low is not None and high is not None:
                canvas.line(x, y_of(low), x, y_of(high), colour=colour, width=1.8)
                for end in (low, high):
                    canvas.line(x - 4, y_of(end), x + 4, y_of(end), colour=colour, width=1.8)
            canvas.circle(x, y_of(value), 4.5, fill=colour)
    for index, text in enumerate(legend):
        y = top + 10 + 22 * index
        if index < len(labels):
            canvas.circle(legend_x + 6, y, 4.5, fill=SERIES_COLOURS[index % len(SERIES_COLOURS)])
        else:
            canvas.line(legend_x, y, legend_x + 14, y, colour=INK, width=1.2, dash=True)
        canvas.text(legend_x + 20, y, text, size=12)
    return canvas


TITLE = "Key fairness ratios by version, with confidence intervals"
