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
    squares: dict[str, list[tuple[str, float, float | None, float | None]]] | None = None,
    bound: float | None = None,
    marks: dict[str, str] | None = None,
) -> list[str]:
    """The same figure for any series over the x labels in ``order`` (the monitoring trend by month).

    ``squares``: more points of the same series drawn as squares (full audits among monitoring windows);
    ``bound``: the policy's bound, drawn instead of the four-fifths line; ``marks``: x label -> a word drawn
    with a dotted vertical line (approvals).
    """
    if not series:
        return []
    canvas = _ratio_canvas(
        series, order, title=title, axis=axis, squares=squares or {}, bound=bound, marks=marks or {}
    )
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
    squares: dict[str, list[tuple[str, float, float | None, float | None]]] | None = None,
    bound: float | None = None,
    marks: dict[str, str] | None = None,
) -> Canvas:
    """Points with interval whiskers per version, one colour per ratio, a dashed line at 0.8, a legend."""
    squares = squares or {}
    labels = sorted({*series, *squares})
    line_at = 0.8 if bound is None else bound
    line_label = "four-fifths line (0.8)" if bound is None else f"policy bound ({bound:g})"
    legend = [*labels, *(["full audit (square)"] if squares else []), line_label]
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
    canvas.line(left, y_of(line_at), left + plot_width, y_of(line_at), colour=INK, width=1.2, dash=True)
    position = {version: index for index, version in enumerate(versions)}
    for version, word in (marks or {}).items():
        if version in position:
            x = left + step * (position[version] + 0.5)
            canvas.line(x, top, x, bottom, colour=MUTED, width=1.0, dash=True)
            canvas.text(x + 3, top - 4, word, size=11, colour=MUTED)
    for offset, label in enumerate(labels):
        colour = SERIES_COLOURS[offset % len(SERIES_COLOURS)]
        shift = (offset - (len(labels) - 1) / 2) * min(10.0, step / (len(labels) + 1))
        for shape, points in (("circle", series.get(label, [])), ("square", squares.get(label, []))):
            for version, value, low, high in points:
                x = left + step * (position[version] + 0.5) + shift + (step / 4 if shape == "square" else 0)
                _marker(
                    canvas, x, [y_of(v) if v is not None else None for v in (value, low, high)], colour, shape
                )
    _legend(canvas, legend, legend_x, top, len(labels), squares=bool(squares))
    return canvas


def _legend(canvas: Canvas, legend: list[str], x: float, top: float, n_series: int, *, squares: bool) -> None:
    """The series' dots, the full audits' square (if any), then the dashed bound line, each with its words."""
    for index, text in enumerate(legend):
        y = top + 10 + 22 * index
        if index < n_series:
            canvas.circle(x + 6, y, 4.5, fill=SERIES_COLOURS[index % len(SERIES_COLOURS)])
        elif squares and index == n_series:
            canvas.rect(x + 1, y - 5, 10, 10, fill=MUTED)
        else:
            canvas.line(x, y, x + 14, y, colour=INK, width=1.2, dash=True)
        canvas.text(x + 20, y, text, size=12)


def _marker(canvas: Canvas, x: float, ys: list[float | None], colour: str, shape: str) -> None:
    """One point (a dot, or a square for a full audit) with its interval whisker; ``ys``: value, low, high."""
    value, low, high = ys
    if low is not None and high is not None:
        canvas.line(x, low, x, high, colour=colour, width=1.8)
        for end in (low, high):
            canvas.line(x - 4, end, x + 4, end, colour=colour, width=1.8)
    if value is None:
        return
    if shape == "circle":
        canvas.circle(x, value, 4.5, fill=colour)
    else:
        canvas.rect(x - 5, value - 5, 10, 10, fill=colour)


TITLE = "Key fairness ratios by version, with confidence intervals"
